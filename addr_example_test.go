package xipc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/xipc/xipc"
)

// The same server and client over a named pipe and over TCP: only the
// address changes.
func ExampleListen() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, addr := range []string{"pipe:xipc-example-listen", "tcp:127.0.0.1:0"} {
		l, err := xipc.Listen(ctx, addr)
		if err != nil {
			fmt.Println(err)
			return
		}
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			io.Copy(c, c) // echo until the client half-closes
			c.(interface{ CloseWrite() error }).CloseWrite()
		}()
		if a, ok := l.Addr().(*net.TCPAddr); ok {
			addr = "tcp:" + a.String() // the port the system picked
		}
		c, err := xipc.Dial(ctx, addr)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Fprintln(c, "hello over", l.Addr().Network())
		reply, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Print(reply)
		c.Close()
		l.Close()
	}
	// Output:
	// hello over pipe
	// hello over tcp
}

func ExampleParseAddr() {
	for _, s := range []string{`pipe:app`, `\\.\pipe\App`, `unix:/run/app.sock`, `tcp:[::1]:0080`, `udp:x:1`, `tcp:x`} {
		a, err := xipc.ParseAddr(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(a.Network(), a)
	}
	// Output:
	// pipe pipe:\\.\pipe\app
	// pipe pipe:\\.\pipe\App
	// unix unix:/run/app.sock
	// tcp tcp:[::1]:80
	// address "udp:x:1": parse: not supported (unknown network "udp" (want pipe, unix or tcp))
	// address "tcp:x": parse: invalid name ("x": missing port (want tcp:HOST:PORT))
}
