// Command client is the tutorial's named pipe client with package pipe:
// Dial is CreateFile (waiting for a free instance like WaitNamedPipe, up
// to the context's deadline) and Transact writes one message and reads the
// reply.
//
//	go run ./examples/pipe/idiomatic/client [NAME]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/xipc/xipc/pipe"
)

func main() {
	log.SetFlags(0)
	name := "MyPipe"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	message := "Hello from client"
	fmt.Printf("Sent: %s\n", message)
	reply := make([]byte, 1024)
	n, err := c.Transact([]byte(message), reply)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Received: %s\n", reply[:n])
}
