// Command receiver is the tutorial's message receiver with package msgq:
// Register is the window, Serve the message loop and the handler the
// window procedure.
//
//	go run ./examples/msg/idiomatic/receiver [NAME]
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/xipc/xipc/msgq"
)

func main() {
	log.SetFlags(0)
	name := "ReceiverWindow"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	q, err := msgq.Register(name, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()

	fmt.Printf("Waiting for messages in window %s...\n", q.Name())
	ctx, stop := context.WithCancel(context.Background())
	err = q.Serve(ctx, func(m *msgq.Message) uintptr {
		if m.Msg != msgq.WM_USER+1 {
			return 0
		}
		fmt.Printf("Received WM_USER+1: wParam=%d lParam=%d\n", m.WParam, m.LParam)
		stop() // one message is the whole example
		return m.WParam + m.LParam
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}
