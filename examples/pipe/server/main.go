// Command server is the tutorial's named pipe server, written with package
// win32: it creates a message pipe, waits for one client, prints the
// message it sends and answers it.
//
//	go run ./examples/pipe/server [NAME]
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
	hPipe, err := win32.CreateNamedPipe(name,
		win32.PIPE_ACCESS_DUPLEX,
		win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE|win32.PIPE_WAIT,
		1,    // max instances
		1024, // output buffer size
		1024, // input buffer size
		0,    // default timeout
		nil)  // default security
	if err != nil {
		fmt.Printf("CreateNamedPipe failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hPipe)

	fmt.Printf("Waiting for a client on %s...\n", name)
	if err := win32.ConnectNamedPipe(hPipe); err != nil {
		fmt.Printf("ConnectNamedPipe failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Println("Client connected")

	buffer := make([]byte, 1024)
	n, err := win32.ReadFile(hPipe, buffer)
	if err != nil {
		fmt.Printf("ReadFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Received: %s\n", buffer[:n])

	reply := "Hello from server"
	if _, err := win32.WriteFile(hPipe, []byte(reply)); err != nil {
		fmt.Printf("WriteFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	fmt.Printf("Sent: %s\n", reply)
	win32.FlushFileBuffers(hPipe)
	win32.DisconnectNamedPipe(hPipe)
}
