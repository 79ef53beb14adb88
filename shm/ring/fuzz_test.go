package ring_test

import (
	"context"
	"errors"
	"testing"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm/ring"
)

// model is what a ring must do, computed from its documented layout: an
// 8-byte header per message, messages padded to 8 bytes, and a wrap marker
// wherever a message would not fit before the end of the data area.
type model struct {
	size, max  int
	tail, head uint64 // bytes committed, released
	queue      []modelMsg
	resv       int // reserved bytes, -1: none
	resvID     int
	held       bool
	nextID     int
}

type modelMsg struct {
	id, n int
	end   uint64 // the tail after it
}

func (m *model) need(n int) (start, total uint64) {
	need := 8 + uint64(n+7)&^7
	start = m.tail
	if room := uint64(m.size) - m.tail%uint64(m.size); need > room {
		start += room
	}
	return start, start - m.tail + need
}

func (m *model) fits(n int) bool {
	_, total := m.need(n)
	return uint64(m.size)-(m.tail-m.head) >= total
}

// FuzzRing drives a producer and a consumer of one ring, in one goroutine,
// with a sequence of operations taken from the input, and compares every
// answer with the model: which calls succeed, which would block (they
// poll: the context has ended), what each message holds.
func FuzzRing(f *testing.F) {
	f.Add([]byte{0, 10, 0, 1, 10, 2, 3})
	f.Add([]byte{0, 255, 255, 1, 255, 0, 255, 255, 1, 255, 0, 1, 1, 1, 2, 3, 2, 3, 2})
	f.Add([]byte{5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 0, 7, 200, 1, 3})
	f.Add([]byte{0, 200, 7, 1, 100, 2, 0, 50, 1, 1, 40, 3, 2, 3, 4, 2, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		prod, cons := pair(t, ring.MinSize, &ring.Options{Spin: -1})
		m := &model{size: prod.Size(), max: prod.MaxMessage(), resv: -1}
		poll := expired()
		var resvBuf, heldBuf []byte
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return int(b)
		}
		check := func(what string, err error, want error) {
			t.Helper()
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("%s: %v, want %v", what, err, want)
			}
		}
		for len(ops) > 0 {
			switch next() % 8 {
			case 0, 5: // Reserve: sizes up to a little past MaxMessage
				n := (next()<<8 | next()) % (m.max + 64)
				if next()%4 > 0 {
					n %= 300 // mostly small ones
				}
				b, err := prod.Reserve(poll, n)
				switch {
				case n > m.max:
					check("Reserve too large", err, errs.ErrMessageTooLarge)
					m.resv = -1
					continue
				case !m.fits(n):
					check("Reserve on a full ring", err, context.Canceled)
					m.resv = -1
					continue
				}
				check("Reserve", err, nil)
				if len(b) != n || cap(b) != n {
					t.Fatalf("Reserve(%d) gave %d/%d bytes", n, len(b), cap(b))
				}
				m.resv, m.resvID = n, m.nextID
				m.nextID++
				copy(b, pattern(m.resvID, n))
				resvBuf = b
			case 1, 6: // Commit all or part of it, or too much
				k := next()
				if m.resv < 0 {
					check("Commit without Reserve", prod.Commit(0), errs.ErrInvalidParameter)
					continue
				}
				n := m.resv
				switch k % 4 {
				case 0:
					n = k % (m.resv + 1)
				case 1:
					n = m.resv + 1 + k
					check("Commit past the reservation", prod.Commit(n), errs.ErrInvalidParameter)
					continue
				}
				check("Commit", prod.Commit(n), nil)
				start, _ := m.need(m.resv)
				m.tail = start + 8 + uint64(n+7)&^7
				m.queue = append(m.queue, modelMsg{id: m.resvID, n: n, end: m.tail})
				m.resv = -1
				resvBuf = nil
			case 2, 7: // Read
				b, err := cons.Read(poll)
				switch {
				case m.held:
					check("Read before Release", err, errs.ErrInvalidParameter)
				case len(m.queue) == 0:
					check("Read of an empty ring", err, context.Canceled)
				default:
					check("Read", err, nil)
					q := m.queue[0]
					if string(b) != string(pattern(q.id, q.n)) {
						t.Fatalf("message %d: read %d bytes %x..., want %d", q.id, len(b), b[:min(len(b), 8)], q.n)
					}
					m.held, heldBuf = true, b
				}
			case 3: // Release, checking that nothing overwrote the held message
				if m.held {
					q := m.queue[0]
					if string(heldBuf) != string(pattern(q.id, q.n)) {
						t.Fatalf("message %d changed while held", q.id)
					}
					m.head = q.end
					m.queue = m.queue[1:]
					m.held, heldBuf = false, nil
				}
				cons.Release()
			case 4: // the reservation is still ours
				if m.resv >= 0 && string(resvBuf) != string(pattern(m.resvID, m.resv)) {
					t.Fatal("the reservation changed")
				}
			}
		}
		// Drain: everything committed arrives, then io.EOF.
		if m.held {
			cons.Release()
			m.queue = m.queue[1:]
		}
		prod.Close()
		for _, q := range m.queue {
			b, err := cons.Read(poll)
			if err != nil || string(b) != string(pattern(q.id, q.n)) {
				t.Fatalf("drain: message %d: %d bytes, %v", q.id, len(b), err)
			}
			cons.Release()
		}
		if _, err := cons.Read(poll); err == nil || err.Error() != "EOF" {
			t.Fatalf("Read after the drain: %v, want io.EOF", err)
		}
	})
}
