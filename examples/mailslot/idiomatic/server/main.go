// Command server is the tutorial's mailslot server with package mailslot:
// Create is CreateMailslot, ReadMsg reads one whole message.
//
//	go run ./examples/mailslot/idiomatic/server [NAME]
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
	s, err := mailslot.Create(name, &mailslot.Config{ReadTimeout: mailslot.WaitForever})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	fmt.Printf("Waiting for messages on %s...\n", s.Name())
	for {
		msg, err := s.ReadMsg()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("Received: %s\n", msg)
	}
}
