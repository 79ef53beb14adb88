// Command server is the tutorial's named pipe server with package pipe:
// pipe.Listen is CreateNamedPipe, Accept is ConnectNamedPipe, and the
// connection is a net.Conn with ReadMsg and WriteMsg.
//
//	go run ./examples/pipe/idiomatic/server [NAME]
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/xipc/xipc/pipe"
)

func main() {
	log.SetFlags(0)
	name := "MyPipe"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	l, err := pipe.Listen(name, &pipe.ListenConfig{Message: true, MaxInstances: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	fmt.Printf("Waiting for a client on %s...\n", l.Addr())
	c, err := l.AcceptPipe()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("Client connected")

	buf := make([]byte, 1024)
	n, err := c.ReadMsg(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Received: %s\n", buf[:n])

	reply := "Hello from server"
	if _, err := c.WriteMsg([]byte(reply)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent: %s\n", reply)
}
