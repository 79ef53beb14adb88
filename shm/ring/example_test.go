package ring_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/xipc/xipc/shm/ring"
)

// One process creates the ring as its consumer; another (here the same
// one, for the example) opens it as the producer, writes messages in
// place and closes; the consumer reads them in place until io.EOF.
func Example() {
	name := fmt.Sprintf("example-ring-%d", os.Getpid())
	cons, err := ring.Create(name, ring.Consumer, 64<<10, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cons.Close()

	prod, err := ring.Open(name, ring.Producer, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, s := range []string{"hello", "from the", "producer"} {
		b, err := prod.Reserve(ctx, len(s))
		if err != nil {
			fmt.Println(err)
			return
		}
		copy(b, s)
		prod.Commit(len(s))
	}
	prod.Close() // the end of the stream

	for {
		msg, err := cons.Read(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s\n", msg)
		cons.Release()
	}
	// Output:
	// hello
	// from the
	// producer
}
