// Command client is the tutorial's mailslot client with package mailslot:
// Open is CreateFile(GENERIC_WRITE), each Write is one message.
//
//	go run ./examples/mailslot/idiomatic/client [NAME]
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/xipc/xipc/mailslot"
)

func main() {
	log.SetFlags(0)
	name := "MyMailslot"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	w, err := mailslot.Open(name)
	if err != nil {
		log.Fatal(err) // xipc.ErrNotFound when no server reads it
	}
	defer w.Close()

	message := "Hello from mailslot client"
	if _, err := w.Write([]byte(message)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent: %s\n", message)
}
