// Command server is the tutorial's socket server with xipc.Listen: the same
// code serves TCP, a unix socket or a named pipe, by address.
//
//	go run ./examples/socket/idiomatic/server [ADDR]   (default tcp:127.0.0.1:27015)
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/xipc/xipc"
)

func main() {
	log.SetFlags(0)
	addr := "tcp:127.0.0.1:27015"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	l, err := xipc.Listen(context.Background(), addr)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	fmt.Printf("Waiting for a connection on %s...\n", addr)
	c, err := l.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("Client connected")

	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Received: %s\n", buf[:n])

	reply := "Hello from server"
	if _, err := c.Write([]byte(reply)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent: %s\n", reply)
}
