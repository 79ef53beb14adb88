// Command client is the tutorial's mailslot client, written with package
// win32: it opens the mailslot for writing and sends one message.
//
//	go run ./examples/mailslot/client [NAME]
package main

import (
	"fmt"
	"os"

	"github.com/xipc/xipc/win32"
)

func main() {
	name := `\\.\mailslot\MyMailslot`
	if len(os.Args) > 1 {
		name = `\\.\mailslot\` + os.Args[1]
	}
	hFile, err := win32.CreateFile(name,
		win32.GENERIC_WRITE,
		win32.FILE_SHARE_READ,
		nil,
		win32.OPEN_EXISTING,
		win32.FILE_ATTRIBUTE_NORMAL,
		0)
	if err != nil {
		fmt.Printf("CreateFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hFile)

	message := "Hello from mailslot client"
	if _, err := win32.WriteFile(hFile, []byte(message)); err != nil {
		fmt.Printf("WriteFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent: %s\n", message)
}
