package conformance

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/xipc/xipc/mailslot"
)

// The peer's mailslot commands. A slot or a writer the peer opens gets an
// ID; "close" (common to all suites) closes either.

var mailslotOps = map[string]agentOp{
	"slotCreate": func(a *agent, req request, r *reply) error {
		s, err := mailslot.Create(req.Name, req.Mailslot)
		if err == nil {
			r.ID = a.add(s)
		}
		return err
	},
	"slotOpen": func(a *agent, req request, r *reply) error {
		w, err := mailslot.Open(req.Name)
		if err == nil {
			r.ID = a.add(w)
		}
		return err
	},
	// slotRead reads one message into a buffer of Size bytes.
	"slotRead": on(func(s *mailslot.Slot, req request, r *reply) error {
		buf := make([]byte, req.Size)
		n, err := s.Read(buf)
		r.N, r.Data = n, buf[:n]
		return err
	}),
	// slotWrite writes Data as one message.
	"slotWrite": on(func(w *mailslot.Writer, req request, r *reply) error {
		if err := setWriteTimeout(w, req.Timeout); err != nil {
			return err
		}
		n, err := w.Write(req.Data)
		r.N = n
		return err
	}),
	// slotWriteGen writes Count stamped messages of writer Seed, of
	// stampSize(Size, i, Vary) bytes, and stops at the first error.
	"slotWriteGen": on(func(w *mailslot.Writer, req request, r *reply) error {
		if err := setWriteTimeout(w, req.Timeout); err != nil {
			return err
		}
		for i := range req.Count {
			n, err := w.Write(stamp(req.Seed, i, stampSize(req.Size, i, req.Vary)))
			r.N += n
			if err != nil {
				return err
			}
			r.Count++
		}
		return nil
	}),
}

// setWriteTimeout gives w's writes a deadline d from now, or none when d is 0.
func setWriteTimeout(w *mailslot.Writer, d time.Duration) error {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	return w.SetWriteDeadline(t)
}

// A stamped message says who wrote it, where it belongs in its writer's
// sequence, and whether it arrived whole: the writer (8 bytes), the
// sequence number (8), the payload, and a CRC-32C of all that (4).
const stampLen = 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// stamp returns message seq of writer w, size bytes long (at least stampLen).
func stamp(w uint64, seq, size int) []byte {
	m := payload(w, seq, size)
	binary.LittleEndian.PutUint64(m[0:], w)
	binary.LittleEndian.PutUint64(m[8:], uint64(seq))
	binary.LittleEndian.PutUint32(m[size-4:], crc32.Checksum(m[:size-4], castagnoli))
	return m
}

// stampSize is the size of message i of a stamped stream whose messages
// have up to size bytes: always size, or, when vary, every size from
// stampLen to size.
func stampSize(size, i int, vary bool) int { return stampLen + genSize(size-stampLen, i, vary) }

// unstamp checks a stamped message and returns its writer and sequence
// number.
func unstamp(m []byte) (w uint64, seq int, err error) {
	n := len(m)
	if n < stampLen {
		return 0, 0, fmt.Errorf("a %d-byte message: shorter than any stamped one", n)
	}
	if crc32.Checksum(m[:n-4], castagnoli) != binary.LittleEndian.Uint32(m[n-4:]) {
		return 0, 0, fmt.Errorf("a %d-byte message with a bad checksum: cut, merged or garbled", n)
	}
	return binary.LittleEndian.Uint64(m[0:]), int(binary.LittleEndian.Uint64(m[8:])), nil
}

// ledger checks the messages of stamped writers as they arrive: each one
// whole, from a known writer, of the right size, and the next in that
// writer's order (so none lost, repeated or reordered).
type ledger struct {
	size  int
	vary  bool
	next  map[uint64]int // writer → the sequence number expected next
	total int
}

func newLedger(size int, vary bool, writers ...uint64) *ledger {
	l := &ledger{size: size, vary: vary, next: map[uint64]int{}}
	for _, w := range writers {
		l.next[w] = 0
	}
	return l
}

// add checks the next message to arrive.
func (l *ledger) add(m []byte) error {
	w, seq, err := unstamp(m)
	if err != nil {
		return fmt.Errorf("message #%d: %v", l.total, err)
	}
	want, ok := l.next[w]
	switch {
	case !ok:
		return fmt.Errorf("message #%d: from writer %d, which does not exist", l.total, w)
	case seq != want:
		return fmt.Errorf("message #%d: writer %d's message %d, expected its message %d (lost, repeated or out of order)", l.total, w, seq, want)
	case len(m) != stampSize(l.size, seq, l.vary):
		return fmt.Errorf("message #%d: writer %d's message %d has %d bytes; it was written with %d", l.total, w, seq, len(m), stampSize(l.size, seq, l.vary))
	}
	l.next[w]++
	l.total++
	return nil
}

// complete reports an error unless every writer's first count messages,
// and no more, have arrived.
func (l *ledger) complete(count int) error {
	for w, n := range l.next {
		if n != count {
			return fmt.Errorf("writer %d: %d of its %d messages arrived", w, n, count)
		}
	}
	return nil
}
