// Command reader is the tutorial's shared memory reader with package shm:
// Open is OpenFileMapping + MapViewOfFile.
//
//	go run ./examples/shm/idiomatic/reader [NAME]
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/xipc/xipc/shm"
)

func main() {
	log.SetFlags(0)
	name := "MySharedMemory"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	m, err := shm.Open(name, shm.ReadOnly)
	if err != nil {
		log.Fatal(err) // xipc.ErrNotFound when no writer holds it
	}
	defer m.Close()
	text, _, _ := bytes.Cut(m.Bytes(), []byte{0})
	fmt.Printf("Read: %s\n", text)
}
