package msgq_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/xipc/xipc/msgq"
)

// A receiver registers a queue and answers sent messages in a Serve loop;
// a sender finds it by name, posts, and sends.
func Example() {
	name := fmt.Sprintf("xipc-example-%d", os.Getpid())
	q, err := msgq.Register(name, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Close()
	done := make(chan error, 1)
	go func() {
		done <- q.Serve(context.Background(), func(m *msgq.Message) uintptr {
			switch m.Msg {
			case msgq.WM_USER + 1:
				fmt.Println("posted:", m)
			case msgq.WM_COPYDATA:
				fmt.Printf("data: %s\n", m.Data)
			}
			return m.WParam + m.LParam
		})
	}()

	t, err := msgq.Find(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := t.Send(ctx, msgq.WM_USER+2, 20, 22) // waits for the handler's result
	fmt.Println("send:", r, err)
	t.SendData(ctx, 0, []byte("hello"))
	t.Post(msgq.WM_USER+1, 1, 2) // returns at once
	t.Post(msgq.WM_QUIT, 0, 0)   // after the message before it: Serve returns
	fmt.Println("serve:", <-done)
	// Output:
	// send: 42 <nil>
	// data: hello
	// posted: msg=0x0401 wparam=1 lparam=2
	// serve: <nil>
}
