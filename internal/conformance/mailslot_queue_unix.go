//go:build unix

package conformance

import (
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
)

// queueLimitTests check the Unix emulation's own limit: the queue it keeps
// for a reader that is not reading holds mailslot.QueueLimit bytes.
var queueLimitTests = []subtest{{"QueueLimit", testSlotQueueLimit}}

// testSlotQueueLimit: a writer waits only once QueueLimit bytes wait for the
// reader. Up to then its writes do not block; past it (and the socket's own
// small buffer) they do until the reader reads. What was written arrives
// whole and in order, and the write that timed out not at all.
func testSlotQueueLimit(t *testing.T) {
	const size = mailslot.MaxMessage
	const fit = mailslot.QueueLimit / size
	// most is far more than the socket's buffers hold past the queue.
	const most = 2 * fit
	s, p, id := peerWriter(t, guarded)
	r := p.do(request{Op: "slotWriteGen", ID: id, Count: fit, Size: size, Seed: 8, Timeout: noBlock})
	if r.Err != "" || r.Count != fit {
		t.Fatalf("peer wrote %d of %d %d-byte messages (QueueLimit is %d bytes) with nobody reading: %s", r.Count, fit, size, mailslot.QueueLimit, r.Err)
	}
	// A short deadline ends the write that waits.
	r = p.do(request{Op: "slotWriteGen", ID: id, Count: most, Size: size, Seed: 9, Timeout: 2 * time.Second})
	wantErr(t, "peer writes past QueueLimit with nobody reading", r.err(), errs.ErrTimeout)
	past := r.Count

	l := newLedger(size, false, 8, 9)
	readStamped(t, s, l, fit+past, 0, 0)
	if l.next[8] != fit || l.next[9] != past {
		t.Fatalf("read %d and %d messages of the two batches; want %d and %d", l.next[8], l.next[9], fit, past)
	}
	wantEmpty(t, "after reading what was written", s)

	// The reader has read: the writer can write again.
	p.must(request{Op: "slotWriteGen", ID: id, Count: 1, Size: size, Seed: 10, Timeout: noBlock})
	l.next[10] = 0
	readStamped(t, s, l, 1, 0, 0)
}
