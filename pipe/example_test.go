package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/pipe"
)

// A message-mode echo server and a client. In a real program they would be
// two processes; the pipe behaves the same either way.
func Example() {
	name := fmt.Sprintf(`\\.\pipe\example-%d`, os.Getpid())
	l, err := pipe.Listen(name, &pipe.ListenConfig{Message: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.AcceptPipe()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		for {
			n, err := c.ReadMsg(buf)
			if err != nil {
				return
			}
			c.WriteMsg(buf[:n])
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	reply := make([]byte, 5)
	n, err := c.Transact([]byte("hello, pipe"), reply)
	fmt.Printf("%q more=%v\n", reply[:n], errors.Is(err, xipc.ErrMoreData))
	n, err = c.ReadMsg(reply)
	fmt.Printf("%q more=%v\n", reply[:n], errors.Is(err, xipc.ErrMoreData))
	n, err = c.ReadMsg(reply)
	fmt.Printf("%q err=%v\n", reply[:n], err)

	_, err = pipe.Dial(ctx, `\\.\pipe\no-such-pipe`, nil)
	fmt.Println(errors.Is(err, xipc.ErrNotFound))
	// Output:
	// "hello" more=true
	// ", pip" more=true
	// "e" err=<nil>
	// true
}
