// Command writer is the tutorial's shared memory writer, written with
// package win32: it creates a named file mapping, writes a message into a
// view of it and keeps it alive until Enter is pressed.
//
//	go run ./examples/shm/writer [NAME]
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/xipc/xipc/win32"
)

const bufSize = 256

func main() {
	name := `Local\MySharedMemory`
	if len(os.Args) > 1 {
		name = `Local\` + os.Args[1]
	}
	hMapFile, err := win32.CreateFileMapping(
		win32.INVALID_HANDLE_VALUE, // backed by memory (the paging file)
		nil,                        // default security
		win32.PAGE_READWRITE,
		0, bufSize, // size: high and low 32 bits
		name)
	if err != nil {
		fmt.Printf("CreateFileMapping failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hMapFile)

	pBuf, err := win32.MapViewOfFile(hMapFile, win32.FILE_MAP_ALL_ACCESS, 0, 0, bufSize)
	if err != nil {
		fmt.Printf("MapViewOfFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.UnmapViewOfFile(pBuf)

	message := "Hello from shared memory"
	copy(pBuf, message+"\x00")
	fmt.Printf("Wrote %q to %s\n", message, name)
	fmt.Println("Press Enter to exit...")
	bufio.NewReader(os.Stdin).ReadString('\n')
}
