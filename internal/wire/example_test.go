package wire_test

import (
	"fmt"

	"github.com/xipc/xipc/internal/wire"
)

func Example() {
	hello := wire.Hello{Flags: wire.HelloWait | wire.HelloRead | wire.HelloWrite}.Marshal()
	h, err := wire.ParseHello(hello[:])
	fmt.Println(h.Flags&wire.HelloWait != 0, err)
	_, err = wire.ParseReply([]byte("GET / HTTP/1.1"))
	fmt.Println(err)
	// Output:
	// true <nil>
	// protocol violation by peer (handshake frame of 14 bytes, want 8)
}
