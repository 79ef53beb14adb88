// Command reader is the tutorial's shared memory reader, written with
// package win32: it opens the named file mapping and prints what the writer
// put there.
//
//	go run ./examples/shm/reader [NAME]
package main

import (
	"bytes"
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
	hMapFile, err := win32.OpenFileMapping(win32.FILE_MAP_ALL_ACCESS, false, name)
	if err != nil {
		fmt.Printf("OpenFileMapping failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.CloseHandle(hMapFile)

	pBuf, err := win32.MapViewOfFile(hMapFile, win32.FILE_MAP_ALL_ACCESS, 0, 0, bufSize)
	if err != nil {
		fmt.Printf("MapViewOfFile failed: %d\n", win32.GetLastError())
		os.Exit(1)
	}
	defer win32.UnmapViewOfFile(pBuf)

	text, _, _ := bytes.Cut(pBuf, []byte{0})
	fmt.Printf("Read: %s\n", text)
}
