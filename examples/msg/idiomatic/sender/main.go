// Command sender is the tutorial's message sender with package msgq: Find
// is FindWindow, Send is SendMessageTimeout with the context's deadline.
//
//	go run ./examples/msg/idiomatic/sender [NAME]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/xipc/xipc/msgq"
)

func main() {
	log.SetFlags(0)
	name := "ReceiverWindow"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	t, err := msgq.Find(name)
	if err != nil {
		log.Fatal(err) // xipc.ErrNotFound: no such window
	}
	defer t.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	result, err := t.Send(ctx, msgq.WM_USER+1, 42, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent WM_USER+1 (wParam=42, lParam=100), result %d\n", result)
}
