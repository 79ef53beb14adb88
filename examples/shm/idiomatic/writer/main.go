// Command writer is the tutorial's shared memory writer with package shm:
// Create is CreateFileMapping + MapViewOfFile, Bytes is the view.
//
//	go run ./examples/shm/idiomatic/writer [NAME]
package main

import (
	"bufio"
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
	m, err := shm.Create(name, 256, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close() // the object lives while some process holds it

	message := "Hello from shared memory"
	copy(m.Bytes(), message+"\x00")
	fmt.Printf("Wrote %q to %s\n", message, m.Name())
	fmt.Println("Press Enter to exit...")
	bufio.NewReader(os.Stdin).ReadString('\n')
}
