package xipc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xipc/xipc"
)

// TestMain runs the test binary as a peer process when a test starts one
// (XIPC_TEST_PEER set), and otherwise runs the tests with goleak.
func TestMain(m *testing.M) {
	if role := os.Getenv("XIPC_TEST_PEER"); role != "" {
		os.Exit(peer(role, os.Getenv("XIPC_TEST_ADDR")))
	}
	goleak.VerifyTestMain(m)
}

// peer plays one side of a test in its own process:
//
//	dial    dials addr, sends "hello from PID\n", prints the reply line,
//	        half-closes and prints "eof" when the other side closes too
//	hang    dials addr, says "connected" and waits to be killed
//	listen  listens at addr, says "listening" and waits to be killed
func peer(role, addr string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fail := func(err error) int {
		fmt.Println("error:", err)
		return 1
	}
	switch role {
	case "dial", "hang":
		c, err := xipc.Dial(ctx, addr)
		if err != nil {
			return fail(err)
		}
		if role == "hang" {
			fmt.Println("connected")
			time.Sleep(time.Hour)
		}
		if _, err := fmt.Fprintf(c, "hello from %d\n", os.Getpid()); err != nil {
			return fail(err)
		}
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		fmt.Print("reply: ", line)
		if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
			return fail(err)
		}
		if _, err := r.ReadByte(); err != io.EOF {
			return fail(fmt.Errorf("read after the reply: %v, want EOF", err))
		}
		fmt.Println("eof")
		return 0
	case "listen":
		l, err := xipc.Listen(ctx, addr)
		if err != nil {
			return fail(err)
		}
		defer l.Close()
		fmt.Println("listening")
		time.Sleep(time.Hour)
	}
	return fail(fmt.Errorf("unknown role %q", role))
}
