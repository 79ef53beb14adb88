package win32_test

import (
	"context"
	"testing"

	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/win32"
)

// The facade's cost over the idiomatic package, in the same run: a 64-byte
// message round trip on a message pipe, both ends in this process (an echo
// goroutine), through win32 and through package pipe.

func BenchmarkPipeRoundTrip(b *testing.B) {
	b.Run("win32", func(b *testing.B) {
		name := `\\.\pipe\xipc-bench-win32-` + b.Name()[len(b.Name())-5:]
		srv, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX, win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE, 1, 65536, 65536, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer win32.CloseHandle(srv)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if win32.ConnectNamedPipe(srv) != nil {
				return
			}
			buf := make([]byte, 4096)
			for {
				n, err := win32.ReadFile(srv, buf)
				if err != nil {
					return
				}
				if _, err := win32.WriteFile(srv, buf[:n]); err != nil {
					return
				}
			}
		}()
		cli, err := win32.CreateFile(name, win32.GENERIC_READ|win32.GENERIC_WRITE, 0, nil, win32.OPEN_EXISTING, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		win32.SetNamedPipeHandleState(cli, win32.PIPE_READMODE_MESSAGE)
		msg, buf := make([]byte, 64), make([]byte, 4096)
		b.SetBytes(64)
		b.ResetTimer()
		for range b.N {
			if _, err := win32.TransactNamedPipe(cli, msg, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		win32.CloseHandle(cli)
		<-done
	})
	b.Run("pipe", func(b *testing.B) {
		l, err := pipe.Listen(`\\.\pipe\xipc-bench-pipe-`+b.Name()[len(b.Name())-4:], &pipe.ListenConfig{Message: true, MaxInstances: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := l.AcceptPipe()
			if err != nil {
				return
			}
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := c.ReadMsg(buf)
				if err != nil {
					return
				}
				if _, err := c.WriteMsg(buf[:n]); err != nil {
					return
				}
			}
		}()
		c, err := pipe.Dial(context.Background(), l.Addr().String(), nil)
		if err != nil {
			b.Fatal(err)
		}
		msg, buf := make([]byte, 64), make([]byte, 4096)
		b.SetBytes(64)
		b.ResetTimer()
		for range b.N {
			if _, err := c.Transact(msg, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
}
