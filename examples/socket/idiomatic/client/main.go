// Command client is the tutorial's socket client with xipc.Dial: the same
// code reaches TCP, a unix socket or a named pipe, by address.
//
//	go run ./examples/socket/idiomatic/client [ADDR]   (default tcp:127.0.0.1:27015)
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/xipc/xipc"
)

func main() {
	log.SetFlags(0)
	addr := "tcp:127.0.0.1:27015"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := xipc.Dial(ctx, addr)
	if err != nil {
		log.Fatal(err) // xipc.ErrNotFound when nobody listens
	}
	defer c.Close()

	message := "Hello from client"
	if _, err := c.Write([]byte(message)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent: %s\n", message)

	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Received: %s\n", buf[:n])
}
