// Command client is the tutorial's named pipe client, written with package
// win32: it opens the pipe, switches it to message read mode, sends a
// message and prints the server's answer.
//
//	go run ./examples/pipe/client [NAME]
package main

import (
	"fmt"
	"os"

	"github.com/xipc/xipc/win32"
)

func main() {
	name := `\\.\pipe\MyPipe`
	if len(os.Args) > 1 {
		name = `\\.\pipe\` + os.Args[1]
	}
	hPipe, err := win32.CreateFile(name,
		win32.GENERIC_READ|win32.GENERIC_WRITE,
		0,   // no sharing
		nil, // default security
		win32.OPEN_EXISTING,
		0, // default attributes
		0) // no template
	if err == win32.ERROR_PIPE_BUSY {
		// Every instance is taken: wait up to 5 seconds for a free one.
		if win32.WaitNamedPipe(name, 5000) == nil {
			hPipe, err = win32.CreateFile(name, win32.GENERIC_READ|win32.GENERIC_WRITE, 0, nil, win32.OPEN_EXISTING, 0, 0)
		}
	}
	if err != nil {
		fmt.Printf("CreateFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hPipe)

	if err := win32.SetNamedPipeHandleState(hPipe, win32.PIPE_READMODE_MESSAGE); err != nil {
		fmt.Printf("SetNamedPipeHandleState failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}

	message := "Hello from client"
	if _, err := win32.WriteFile(hPipe, []byte(message)); err != nil {
		fmt.Printf("WriteFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent: %s\n", message)

	buffer := make([]byte, 1024)
	n, err := win32.ReadFile(hPipe, buffer)
	if err != nil {
		fmt.Printf("ReadFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Received: %s\n", buffer[:n])
}
