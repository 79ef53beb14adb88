//go:build unix

package robust

import (
	"context"
	"testing"

	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
)

// BenchmarkOwnerCheck measures opening an object with the owner check on
// (the default) and off (AnyUser), in one run, so that the check's cost
// reads as the difference: pipe Dial (+ Accept and both Closes), mailslot
// Open + Close, shm Open + Close.
func BenchmarkOwnerCheck(b *testing.B) {
	b.Setenv("XIPC_ROOT", b.TempDir())
	ctx := context.Background()
	l, err := pipe.Listen("bench-owner", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	s, err := mailslot.Create("bench-owner", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m, err := shm.Create("bench-owner", 4096, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, any := range []bool{false, true} {
		label := "check"
		if any {
			label = "nocheck"
		}
		b.Run("pipe/"+label, func(b *testing.B) {
			cfg := &pipe.DialConfig{Owner: pipe.Owner{AnyUser: any}}
			for b.Loop() {
				c, err := pipe.Dial(ctx, "bench-owner", cfg)
				if err != nil {
					b.Fatal(err)
				}
				sc, err := l.AcceptPipe()
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
				sc.Close()
			}
		})
		b.Run("mailslot/"+label, func(b *testing.B) {
			for b.Loop() {
				w, err := mailslot.Open("bench-owner", mailslot.Owner{AnyUser: any})
				if err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
		})
		b.Run("shm/"+label, func(b *testing.B) {
			for b.Loop() {
				o, err := shm.Open("bench-owner", shm.ReadWrite, shm.Owner{AnyUser: any})
				if err != nil {
					b.Fatal(err)
				}
				o.Close()
			}
		})
	}
}
