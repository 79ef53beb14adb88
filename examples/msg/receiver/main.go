// Command receiver is the tutorial's message receiver, written with package
// win32: it registers a window class, creates a message-only window titled
// ReceiverWindow and runs a message loop; its window procedure prints the
// WM_USER+1 it gets, answers wParam+lParam and ends the loop.
//
//	go run ./examples/msg/receiver [TITLE]
package main

import (
	"fmt"
	"os"

	"github.com/xipc/xipc/win32"
)

const WM_MYMESSAGE = win32.WM_USER + 1

func wndProc(hwnd win32.HWND, msg uint32, wParam, lParam uintptr) uintptr {
	switch msg {
	case WM_MYMESSAGE:
		fmt.Printf("Received WM_USER+1: wParam=%d lParam=%d\n", wParam, lParam)
		win32.PostQuitMessage(0)
		return wParam + lParam
	}
	return win32.DefWindowProc(hwnd, msg, wParam, lParam)
}

func main() {
	title := "ReceiverWindow"
	if len(os.Args) > 1 {
		title = os.Args[1]
	}
	wc := win32.WNDCLASS{LpfnWndProc: wndProc, LpszClassName: "MyWindowClass"}
	if err := win32.RegisterClass(&wc); err != nil {
		fmt.Printf("RegisterClass failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	hwnd, err := win32.CreateWindowEx(0, "MyWindowClass", title, 0, 0, 0, 0, 0, win32.HWND_MESSAGE, 0, 0, 0)
	if err != nil {
		fmt.Printf("CreateWindowEx failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.DestroyWindow(hwnd)

	fmt.Printf("Waiting for messages in window %s...\n", title)
	var msg win32.MSG
	for {
		ok, err := win32.GetMessage(&msg, 0, 0, 0)
		if err != nil {
			fmt.Printf("GetMessage failed: %d\n", win32.GetLastError())
			os.Exit(1)
		}
		if !ok {
			break // WM_QUIT
		}
		win32.TranslateMessage(&msg)
		win32.DispatchMessage(&msg)
	}
}
