//go:build linux

package robust

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/msgq"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/shm/ring"
	"github.com/xipc/xipc/syncobj"
)

// leakRounds is how many objects of each kind TestLeaks opens and closes
// (a tenth of it with -short).
const leakRounds = 10_000

// What may differ between the start and the end of a kind's rounds: no file
// descriptor, and no file-backed mapping (a leaked view of an object is one
// of those: /dev/shm/xipc...). Anonymous mappings are not counted: the Go
// runtime maps more heap, span and GC metadata and goroutine stacks as a
// test runs and never unmaps them, a few lines of /proc/self/maps that have
// nothing to do with xipc (an unnamed sync object, the only anonymous
// mapping xipc makes, is not among the kinds here).
const (
	fdSlack   = 0
	mapsSlack = 0
)

func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // the directory ReadDir itself had open
}

func mapsCount(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		// ADDR PERMS OFFSET DEV INODE PATH: a file-backed one has a path.
		if f := bytes.Fields(line); len(f) >= 6 && f[5][0] == '/' {
			n++
		}
	}
	return n
}

// TestLeaks opens and closes leakRounds objects of each kind (with a peer
// end where there is one: pipe listener + client + server connection,
// mailslot + writer, ring producer + consumer, message queue + target) and checks that the
// process's open descriptors and mappings come back to where they were.
func TestLeaks(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	ctx := context.Background()
	rounds := map[string]func(i int) error{
		"pipe": func(i int) error {
			name := fmt.Sprintf("leak-%d", i)
			l, err := pipe.Listen(name, &pipe.ListenConfig{Message: true})
			if err != nil {
				return err
			}
			defer l.Close()
			c, err := pipe.Dial(ctx, name, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := l.AcceptPipe()
			if err != nil {
				return err
			}
			return s.Close()
		},
		"mailslot": func(i int) error {
			name := fmt.Sprintf("leak-%d", i)
			s, err := mailslot.Create(name, nil)
			if err != nil {
				return err
			}
			defer s.Close()
			w, err := mailslot.Open(name)
			if err != nil {
				return err
			}
			defer w.Close()
			_, err = w.Write([]byte("x"))
			return err
		},
		"shm": func(i int) error {
			m, err := shm.Create(fmt.Sprintf("leak-%d", i), 8192, nil)
			if err != nil {
				return err
			}
			v, err := m.View(0, 4096, shm.ReadOnly)
			if err != nil {
				m.Close()
				return err
			}
			v.Close()
			return m.Close()
		},
		"ring": func(i int) error {
			name := fmt.Sprintf("leak-%d", i)
			p, err := ring.Create(name, ring.Producer, ring.MinSize, nil)
			if err != nil {
				return err
			}
			defer p.Close()
			c, err := ring.Open(name, ring.Consumer, nil)
			if err != nil {
				return err
			}
			return c.Close()
		},
		"mutex": func(i int) error {
			m, err := syncobj.CreateMutex(fmt.Sprintf("leak-m%d", i), true, nil)
			if err != nil {
				return err
			}
			m.Unlock()
			return m.Close()
		},
		"event": func(i int) error {
			e, err := syncobj.CreateEvent(fmt.Sprintf("leak-e%d", i), false, true, nil)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			e.Wait(ctx)
			return e.Close()
		},
		"msgq": func(i int) error {
			name := fmt.Sprintf("leak-%d", i)
			q, err := msgq.Register(name, nil)
			if err != nil {
				return err
			}
			defer q.Close()
			tg, err := msgq.Find(name)
			if err != nil {
				return err
			}
			defer tg.Close()
			return tg.Post(msgq.WM_USER, 1, 2)
		},
		"semaphore": func(i int) error {
			s, err := syncobj.CreateSemaphore(fmt.Sprintf("leak-s%d", i), 0, 1, nil)
			if err != nil {
				return err
			}
			s.Release(1)
			return s.Close()
		},
	}
	for _, kind := range []string{"pipe", "mailslot", "shm", "ring", "mutex", "event", "semaphore", "msgq"} {
		t.Run(kind, func(t *testing.T) {
			round := rounds[kind]
			for i := range 50 { // warm up pools and the runtime
				if err := round(i); err != nil {
					t.Fatal(err)
				}
			}
			fds, maps := fdCount(t), mapsCount(t)
			n := leakRounds
			if testing.Short() {
				n /= 10
			}
			for i := range n {
				if err := round(i); err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			if n := fdCount(t); n > fds+fdSlack {
				t.Errorf("%d descriptors open after %d rounds, %d before", n, leakRounds, fds)
			}
			if n := mapsCount(t); n > maps+mapsSlack {
				t.Errorf("%d mappings after %d rounds, %d before", n, leakRounds, maps)
			}
		})
	}
}
