package win32_test

import (
	"errors"
	"fmt"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/win32"
)

// A message pipe written as the Win32 C code would be; errors are values
// and also in GetLastError.
func Example() {
	name := `\\.\pipe\xipc-win32-example`
	srv, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX,
		win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE|win32.PIPE_WAIT, 1, 4096, 4096, 0, nil)
	if err != nil {
		fmt.Println("CreateNamedPipe:", err)
		return
	}
	defer win32.CloseHandle(srv)

	done := make(chan error, 1)
	go func() { done <- win32.ConnectNamedPipe(srv) }()
	cli, err := win32.CreateFile(name, win32.GENERIC_READ|win32.GENERIC_WRITE, 0, nil, win32.OPEN_EXISTING, 0, 0)
	if err != nil {
		fmt.Println("CreateFile:", err)
		return
	}
	defer win32.CloseHandle(cli)
	if err := <-done; err != nil {
		fmt.Println("ConnectNamedPipe:", err)
		return
	}
	win32.SetNamedPipeHandleState(cli, win32.PIPE_READMODE_MESSAGE)

	win32.WriteFile(cli, []byte("hello, server"))
	buf := make([]byte, 8)
	n, err := win32.ReadFile(srv, buf)
	fmt.Printf("%q %v %d\n", buf[:n], errors.Is(err, xipc.ErrMoreData), win32.GetLastError())
	n, err = win32.ReadFile(srv, buf)
	fmt.Printf("%q %v\n", buf[:n], err)

	_, err = win32.CreateFile(`\\.\pipe\xipc-win32-example-missing`, win32.GENERIC_READ, 0, nil, win32.OPEN_EXISTING, 0, 0)
	fmt.Println(err)
	// Output:
	// "hello, s" true 234
	// "erver" <nil>
	// ERROR_FILE_NOT_FOUND (2): file does not exist
}
