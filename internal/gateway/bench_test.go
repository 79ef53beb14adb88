//go:build unix

package gateway_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/pipe"
)

// BenchmarkTransact measures a 64-byte Transact round trip to an echo
// server in this process, on the local pipe and through a gateway on the
// loopback interface (TLS, relays), and 64 KiB messages one way.
func BenchmarkTransact(b *testing.B) {
	dir := b.TempDir()
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: dir, Hosts: []string{"gw=127.0.0.1"}, Clients: []string{"c"}}); err != nil {
		b.Fatal(err)
	}
	b.Setenv("XIPC_ROOT", b.TempDir())
	b.Setenv(link.EnvTLSDir, filepath.Join(dir, "c"))
	creds, err := link.Load(filepath.Join(dir, "gw"))
	if err != nil {
		b.Fatal(err)
	}
	g, err := gateway.Start(gateway.Config{Creds: creds, Listen: "127.0.0.1:0", Datagram: "-"})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	l, err := pipe.Listen("bench", &pipe.ListenConfig{Message: true, RemoteClients: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.AcceptPipe()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 128<<10)
				for {
					n, err := c.ReadMsg(buf)
					if err != nil {
						return
					}
					if n <= 64 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	for _, tc := range []struct{ name, pipe string }{
		{"local", `\\.\pipe\bench`},
		{"remote", `\\` + g.Addr().String() + `\pipe\bench`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c, err := pipe.Dial(ctx, tc.pipe, nil)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		out, in := make([]byte, 64), make([]byte, 64)
		b.Run("rtt64/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Transact(out, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		big := make([]byte, 64<<10)
		b.Run("oneway64k/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(big)))
			for b.Loop() {
				if _, err := c.Write(big); err != nil {
					b.Fatal(err)
				}
			}
			// One round trip: everything before it has been read.
			if _, err := c.Transact(out, in); err != nil {
				b.Fatal(err)
			}
		})
		c.Close()
	}
}
