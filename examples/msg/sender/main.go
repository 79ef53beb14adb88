// Command sender is the tutorial's message sender, written with package
// win32: it finds the window titled ReceiverWindow and sends it WM_USER+1
// with two numbers, printing the receiver's result.
//
//	go run ./examples/msg/sender [TITLE]
package main

import (
	"fmt"
	"os"

	"github.com/xipc/xipc/win32"
)

const WM_MYMESSAGE = win32.WM_USER + 1

func main() {
	title := "ReceiverWindow"
	if len(os.Args) > 1 {
		title = os.Args[1]
	}
	hwnd, err := win32.FindWindow("", title)
	if err != nil {
		fmt.Printf("FindWindow failed: window %s not found\n", title)
		os.Exit(1)
	}
	result, err := win32.SendMessage(hwnd, WM_MYMESSAGE, 42, 100)
	if err != nil {
		fmt.Printf("SendMessage failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent WM_USER+1 (wParam=42, lParam=100), result %d\n", result)
}
