// Command server is the tutorial's mailslot server, written with package
// win32: it creates a mailslot and prints every message written to it,
// until it is stopped.
//
//	go run ./examples/mailslot/server [NAME]
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
	hSlot, err := win32.CreateMailslot(name,
		0,                           // any message size
		win32.MAILSLOT_WAIT_FOREVER, // ReadFile waits for a message
		nil)                         // default security
	if err != nil {
		fmt.Printf("CreateMailslot failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hSlot)

	fmt.Printf("Waiting for messages on %s...\n", name)
	buffer := make([]byte, 1024)
	for {
		n, err := win32.ReadFile(hSlot, buffer)
		if err != nil {
			fmt.Printf("ReadFile failed: %d\n", win32.GetLastError())
			os.Exit(1)
		}
		fmt.Printf("Received: %s\n", buffer[:n])
	}
}
