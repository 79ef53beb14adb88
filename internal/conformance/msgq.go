package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/msgq"
)

// TestMsgq is the behavioural suite for window message queues: what the
// package documentation of msgq promises, checked between real processes.
// The package's TestMain must call RunPeerIfAsked.
func TestMsgq(t *testing.T) {
	privateNamespace(t)
	t.Cleanup(func() {
		// Last, once every peer has gone: a Register removes what dead
		// receivers (killed peers, peers that exited without Close) left
		// in the namespace.
		if q, err := msgq.Register(uniqueName(t)+"-sweep", nil); err == nil {
			_ = q.Close() // nothing to report: the queue was only a broom
		}
	})

	runGroups(t, []group{
		{"Names", msgNameTests},
		{"Order", msgOrderTests},
		{"Send", msgSendTests},
		{"Quota", msgQuotaTests},
		{"Gone", msgGoneTests},
		{"Unblock", msgUnblockTests},
		{"Senders", msgSenderTests},
		{"NoBusyWait", msgIdleTests},
	})
}

// MsgqQuirks lets a backend skip checks its platform cannot pass; each
// field says why. Set by the backend's test before TestMsgq runs.
var MsgqQuirks struct {
	// NoQuota: posts beyond Quota succeed (Wine does not limit a queue).
	NoQuota string
	// NoCancelSend: a Send ends only at its context's deadline, not when
	// the context is cancelled (Windows: SendMessageTimeout takes a timeout).
	NoCancelSend string
	// MaxData, when not 0, is the largest SendData payload between two
	// processes that the platform carries; MaxDataWhy says why.
	MaxData    int
	MaxDataWhy string
}

// dataSizes keeps the sizes the platform carries between processes.
func dataSizes(t *testing.T, sizes ...int) []int {
	var keep []int
	for _, n := range sizes {
		if MsgqQuirks.MaxData != 0 && n > MsgqQuirks.MaxData {
			t.Logf("not sending %d bytes: %s", n, MsgqQuirks.MaxDataWhy)
			continue
		}
		keep = append(keep, n)
	}
	return keep
}

// queueName returns a queue name unique to this test and this run.
func queueName(t testing.TB) string { return uniqueName(t) }

// register registers a queue for the test; t.Cleanup closes it.
func register(t testing.TB, name string) *msgq.Queue {
	t.Helper()
	q, err := msgq.Register(name, nil)
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	t.Cleanup(func() {
		// Closing twice is fine here: some tests close the queue themselves.
		_ = q.Close()
	})
	return q
}

// find finds a queue; t.Cleanup closes the target.
func find(t testing.TB, name string) *msgq.Target {
	t.Helper()
	tg, err := msgq.Find(name)
	if err != nil {
		t.Fatalf("Find(%q): %v", name, err)
	}
	t.Cleanup(func() {
		// The test may have closed it.
		_ = tg.Close()
	})
	return tg
}

// getMsg takes the next message of q within wait.
func getMsg(t testing.TB, q *msgq.Queue, min, max uint32) *msgq.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := q.Get(ctx, min, max)
	if err != nil {
		t.Fatalf("Get(%#x, %#x): %v", min, max, err)
	}
	return m
}

// wantMsg fails unless m is the message (msg, w, l).
func wantMsg(t testing.TB, what string, m *msgq.Message, msg uint32, w, l uintptr) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s: no message; want msg=%#x wparam=%d lparam=%d", what, msg, w, l)
	}
	if m.Msg != msg || m.WParam != w || m.LParam != l {
		t.Fatalf("%s: %v; want msg=0x%04x wparam=%d lparam=%d", what, m, msg, w, l)
	}
}

// peerQueue makes a peer process register a fresh queue and answer every
// message; it returns the peer, its queue's ID and this process's target.
func peerQueue(t testing.TB, serve bool) (*peer, int, *msgq.Target) {
	t.Helper()
	name := queueName(t)
	p := startPeer(t)
	id := p.must(request{Op: "msgRegister", Name: name}).ID
	if serve {
		p.must(request{Op: "msgServe", ID: id})
	}
	return p, id, find(t, name)
}

// peerTarget makes a fresh queue here and a peer process a sender to it.
func peerTarget(t testing.TB) (*msgq.Queue, *peer, int) {
	t.Helper()
	q := register(t, queueName(t))
	p := startPeer(t)
	return q, p, p.must(request{Op: "msgFind", Name: q.Name()}).ID
}

func ctxWait() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), wait)
}

var msgNameTests = []subtest{
	{"FindMissing", func(t *testing.T) {
		name := queueName(t)
		_, err := msgq.Find(name)
		wantErr(t, "Find of a name nobody registered", err, errs.ErrNotFound)
		var oe *errs.OpError
		if !errors.As(err, &oe) || oe.Op != "find" || oe.Kind != "msgq" || oe.Name != name {
			t.Errorf("Find error %#v; want an *OpError{Op: find, Kind: msgq, Name: %s}", err, name)
		}
	}},
	{"Invalid", func(t *testing.T) {
		for _, name := range []string{"", "a\x00b", strings.Repeat("x", msgq.MaxName+1), "\xff"} {
			_, err := msgq.Register(name, nil)
			wantErr(t, fmt.Sprintf("Register(%q)", name), err, errs.ErrInvalidName)
			_, err = msgq.Find(name)
			wantErr(t, fmt.Sprintf("Find(%q)", name), err, errs.ErrInvalidName)
		}
	}},
	{"Exists", func(t *testing.T) {
		q := register(t, queueName(t))
		p := startPeer(t)
		err := p.do(request{Op: "msgRegister", Name: q.Name()}).err()
		wantErr(t, "a second Register of a live name, in another process", err, errs.ErrExists)
	}},
	{"CaseInsensitive", func(t *testing.T) {
		q := register(t, queueName(t)+"-MiXeD")
		tg := find(t, strings.ToUpper(q.Name()))
		if err := tg.Post(msgq.WM_USER, 1, 2); err != nil {
			t.Fatalf("Post through a name spelled in upper case: %v", err)
		}
		wantMsg(t, "Get", getMsg(t, q, 0, 0), msgq.WM_USER, 1, 2)
	}},
	{"ReuseAfterCrash", func(t *testing.T) {
		name := queueName(t)
		p := startPeer(t)
		p.must(request{Op: "msgRegister", Name: name})
		p.kill()
		q := register(t, name)
		tg := find(t, name)
		if err := tg.Post(msgq.WM_APP, 7, 8); err != nil {
			t.Fatalf("Post to the queue registered again after its first owner died: %v", err)
		}
		wantMsg(t, "Get", getMsg(t, q, 0, 0), msgq.WM_APP, 7, 8)
	}},
	{"ReuseAfterClose", func(t *testing.T) {
		name := queueName(t)
		q, err := msgq.Register(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		register(t, name)
	}},
	{"RegisterMessage", func(t *testing.T) {
		a := "xipc-conformance-" + queueName(t)
		id := msgq.RegisterMessage(a)
		if id < msgq.FirstRegistered || id > msgq.LastRegistered {
			t.Fatalf("RegisterMessage(%q) = %#x; want a number in 0xC000..0xFFFF", a, id)
		}
		if again := msgq.RegisterMessage(strings.ToUpper(a)); again != id {
			t.Errorf("RegisterMessage of the name in upper case = %#x; want %#x", again, id)
		}
		p := startPeer(t)
		if r := p.must(request{Op: "msgRegisterMessage", Name: a}); uint32(r.N) != id {
			t.Errorf("in another process RegisterMessage(%q) = %#x; here %#x", a, r.N, id)
		}
		b := a + "-other"
		r := p.must(request{Op: "msgRegisterMessage", Name: b})
		if uint32(r.N) == id || r.N < msgq.FirstRegistered || r.N > msgq.LastRegistered {
			t.Errorf("RegisterMessage(%q) = %#x, for another name %#x", b, r.N, id)
		}
		if got := msgq.RegisterMessage(b); got != uint32(r.N) {
			t.Errorf("RegisterMessage(%q) here = %#x; the peer got %#x", b, got, r.N)
		}
		if got := msgq.RegisterMessage(""); got != 0 {
			t.Errorf(`RegisterMessage("") = %#x; want 0`, got)
		}
	}},
}

var msgOrderTests = []subtest{
	{"PostedFIFO", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		const n = 200
		r := p.must(request{Op: "msgPostGen", ID: tid, Seed: 5, Count: n})
		if r.Count != n {
			t.Fatalf("peer posted %d of %d", r.Count, n)
		}
		for i := range n {
			m := getMsg(t, q, 0, 0)
			wantMsg(t, fmt.Sprintf("message %d", i), m, msgq.WM_USER+1, 5, uintptr(i))
			if m.Sent {
				t.Fatalf("a posted message says it was sent")
			}
			if m.PID != 0 && m.PID != p.pid {
				t.Fatalf("message from pid %d; the peer is %d", m.PID, p.pid)
			}
		}
		if m, err := q.Peek(0, 0, true); m != nil || err != nil {
			t.Fatalf("Peek of the drained queue = (%v, %v); want (nil, nil)", m, err)
		}
	}},
	{"SentBeforePosted", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		for i := range 3 {
			p.must(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+1, uintptr(i), 0)})
		}
		ch := p.send(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER+9, 20, 22), Timeout: wait})
		time.Sleep(settle) // the send reaches the queue
		m := getMsg(t, q, 0, 0)
		wantMsg(t, "first Get", m, msgq.WM_USER+9, 20, 22)
		if !m.Sent {
			t.Errorf("the sent message says it was posted")
		}
		if err := m.Reply(42); err != nil {
			t.Fatalf("Reply: %v", err)
		}
		if r := p.await(ch, "msgSend"); r.Err != "" || r.N != 42 {
			t.Fatalf("peer's Send = (%d, %s); want (42, nil)", r.N, r.Err)
		}
		for i := range 3 {
			wantMsg(t, "posted", getMsg(t, q, 0, 0), msgq.WM_USER+1, uintptr(i), 0)
		}
	}},
	{"Notify", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		p.must(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+1, 1, 1)})
		p.must(request{Op: "msgNotify", ID: tid, Data: args(msgq.WM_USER+2, 2, 2)})
		wantMsg(t, "first Get", getMsg(t, q, 0, 0), msgq.WM_USER+2, 2, 2)
		wantMsg(t, "second Get", getMsg(t, q, 0, 0), msgq.WM_USER+1, 1, 1)
	}},
	{"Filter", func(t *testing.T) {
		q := register(t, queueName(t))
		tg := find(t, q.Name())
		for i := uint32(1); i <= 3; i++ {
			if err := tg.Post(msgq.WM_USER+i, uintptr(i), 0); err != nil {
				t.Fatal(err)
			}
		}
		wantMsg(t, "Get(WM_USER+2, WM_USER+2)", getMsg(t, q, msgq.WM_USER+2, msgq.WM_USER+2), msgq.WM_USER+2, 2, 0)
		m, err := q.Peek(msgq.WM_APP, msgq.WM_APP+10, true)
		if m != nil || err != nil {
			t.Fatalf("Peek of a range with no message = (%v, %v); want (nil, nil)", m, err)
		}
		m, err = q.Peek(0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		wantMsg(t, "Peek(PM_NOREMOVE)", m, msgq.WM_USER+1, 1, 0)
		m, err = q.Peek(0, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		wantMsg(t, "Peek(PM_REMOVE) after PM_NOREMOVE", m, msgq.WM_USER+1, 1, 0)
		wantMsg(t, "Get", getMsg(t, q, 0, 0), msgq.WM_USER+3, 3, 0)
	}},
	{"Serve", func(t *testing.T) {
		q := register(t, queueName(t))
		tg := find(t, q.Name())
		var got []uint32
		done := async(func() (struct{}, error) {
			return struct{}{}, q.Serve(context.Background(), func(m *msgq.Message) uintptr {
				got = append(got, m.Msg)
				return m.WParam * 2
			})
		})
		ctx, cancel := ctxWait()
		defer cancel()
		if r, err := tg.Send(ctx, msgq.WM_USER+5, 21, 0); err != nil || r != 42 {
			t.Fatalf("Send to a Serve loop = (%d, %v); want (42, nil)", r, err)
		}
		if err := tg.Post(msgq.WM_QUIT, 0, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := get(t, done, "Serve"); err != nil {
			t.Fatalf("Serve after WM_QUIT: %v; want nil", err)
		}
		if len(got) != 2 || got[0] != msgq.WM_USER+5 || got[1] != msgq.WM_QUIT {
			t.Fatalf("the handler saw %#x; want [WM_USER+5 WM_QUIT]", got)
		}
	}},
}

var msgSendTests = []subtest{
	{"Result", func(t *testing.T) {
		_, _, tg := peerQueue(t, true)
		ctx, cancel := ctxWait()
		defer cancel()
		for i := range 50 {
			r, err := tg.Send(ctx, msgq.WM_USER+1, 20, uintptr(i))
			if err != nil || r != uintptr(20+i) {
				t.Fatalf("Send %d = (%d, %v); want (%d, nil)", i, r, err, 20+i)
			}
		}
	}},
	{"Data", func(t *testing.T) {
		_, _, tg := peerQueue(t, true)
		ctx, cancel := ctxWait()
		defer cancel()
		for _, size := range dataSizes(t, 0, 1, 64, 64<<10, 64<<10+1, 1<<20, 16<<20) {
			data := payload(uint64(size), 0, size)
			want := uintptr(crc32.Checksum(data, castagnoli)) + 77
			r, err := tg.SendData(ctx, 77, data)
			if err != nil || r != want {
				t.Fatalf("SendData of %d bytes = (%#x, %v); want (%#x, nil): the receiver got other bytes", size, r, err, want)
			}
		}
	}},
	{"DataFromPeer", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		data := payload(9, 9, dataSizes(t, 3<<20, 1<<20)[0])
		ch := p.send(request{Op: "msgSendData", ID: tid, Seed: 5, Data: data, Timeout: wait})
		m := getMsg(t, q, 0, 0)
		if m.Msg != msgq.WM_COPYDATA || m.LParam != 5 || !bytes.Equal(m.Data, data) {
			t.Fatalf("got msg=%#x lparam=%d and %d bytes (equal: %v); want WM_COPYDATA, 5 and the %d bytes sent",
				m.Msg, m.LParam, len(m.Data), bytes.Equal(m.Data, data), len(data))
		}
		m.Reply(99) //nolint:errcheck // checked through the peer
		if r := p.await(ch, "msgSendData"); r.Err != "" || r.N != 99 {
			t.Fatalf("peer's SendData = (%d, %s); want (99, nil)", r.N, r.Err)
		}
	}},
	{"TimeoutNotDelivered", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		r := p.do(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER+3, 1, 2), Timeout: settle})
		wantErr(t, "a Send nobody takes, after its timeout", r.err(), errs.ErrTimeout)
		// A second message, posted: it must be the only one there.
		p.must(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+4, 3, 4)})
		wantMsg(t, "Get after the timed-out Send", getMsg(t, q, 0, 0), msgq.WM_USER+4, 3, 4)
		if m, err := q.Peek(0, 0, true); m != nil || err != nil {
			t.Fatalf("Peek = (%v, %v): the timed-out Send was delivered after all", m, err)
		}
	}},
	{"TimeoutAfterTake", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		ch := p.send(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER+3, 1, 2), Timeout: settle})
		m := getMsg(t, q, 0, 0)
		r := p.await(ch, "msgSend")
		wantErr(t, "a Send taken but not answered, after its timeout", r.err(), errs.ErrTimeout)
		// The answer has nowhere to go; it must not break the queue.
		_ = m.Reply(5) // may report the sender gone
		p.must(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+4, 3, 4)})
		wantMsg(t, "Get after the late Reply", getMsg(t, q, 0, 0), msgq.WM_USER+4, 3, 4)
	}},
	{"ManyAtOnce", func(t *testing.T) {
		_, _, tg := peerQueue(t, true)
		ctx, cancel := ctxWait()
		defer cancel()
		var wg sync.WaitGroup
		errc := make(chan error, 100)
		for g := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := tg.Send(ctx, msgq.WM_USER, uintptr(g), 1000)
				if err == nil && r != uintptr(g+1000) {
					err = fmt.Errorf("result %d, want %d", r, g+1000)
				}
				if err != nil {
					errc <- err
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("one of 100 concurrent Sends: %v", err)
		}
	}},
	{"CopyDataPost", func(t *testing.T) {
		q := register(t, queueName(t))
		tg := find(t, q.Name())
		wantErr(t, "Post(WM_COPYDATA)", tg.Post(msgq.WM_COPYDATA, 0, 0), errs.ErrInvalidParameter)
		ctx, cancel := ctxWait()
		defer cancel()
		_, err := tg.Send(ctx, msgq.WM_COPYDATA, 0, 0)
		wantErr(t, "Send(WM_COPYDATA)", err, errs.ErrInvalidParameter)
	}},
}

var msgQuotaTests = []subtest{
	{"Exact", func(t *testing.T) {
		if MsgqQuirks.NoQuota != "" {
			t.Skip(MsgqQuirks.NoQuota)
		}
		q, p, tid := peerTarget(t)
		r := p.do(request{Op: "msgPostGen", ID: tid, Seed: 1, Count: msgq.Quota + 1})
		if r.Count != msgq.Quota {
			t.Fatalf("peer posted %d messages before an error; want exactly %d", r.Count, msgq.Quota)
		}
		wantErr(t, "Post number 10,001", r.err(), errs.ErrQuota)
		wantMsg(t, "Get", getMsg(t, q, 0, 0), msgq.WM_USER+1, 1, 0)
		p.must(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+2, 1, 1)})
		err := p.do(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER+2, 1, 2)}).err()
		wantErr(t, "Post into the full queue again", err, errs.ErrQuota)
		// Sends still get through a full queue of posted messages.
		tg := find(t, q.Name())
		ch := async(func() (uintptr, error) {
			ctx, cancel := ctxWait()
			defer cancel()
			return tg.Send(ctx, msgq.WM_USER+7, 1, 1)
		})
		time.Sleep(settle) // the send reaches the queue
		m := getMsg(t, q, 0, 0)
		wantMsg(t, "Get of a send to a full queue", m, msgq.WM_USER+7, 1, 1)
		m.Reply(3) //nolint:errcheck // checked through Send
		if r, err := get(t, ch, "Send"); err != nil || r != 3 {
			t.Fatalf("Send = (%d, %v); want (3, nil)", r, err)
		}
		for i := 1; i < msgq.Quota; i++ {
			wantMsg(t, fmt.Sprintf("posted message %d", i), getMsg(t, q, 0, 0), msgq.WM_USER+1, 1, uintptr(i))
		}
		wantMsg(t, "last", getMsg(t, q, 0, 0), msgq.WM_USER+2, 1, 1)
	}},
}

var msgGoneTests = []subtest{
	{"PostAfterClose", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		err := p.do(request{Op: "msgPost", ID: tid, Data: args(msgq.WM_USER, 0, 0)}).err()
		wantErr(t, "Post to a closed queue", err, errs.ErrNotFound)
		err = p.do(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER, 0, 0), Timeout: wait}).err()
		wantErr(t, "Send to a closed queue", err, errs.ErrNotFound)
		_, err = msgq.Find(q.Name())
		wantErr(t, "Find of a closed queue", err, errs.ErrNotFound)
	}},
	{"PostAfterKill", func(t *testing.T) {
		p, _, tg := peerQueue(t, false)
		p.kill()
		wantErr(t, "Post to a queue whose process was killed", tg.Post(msgq.WM_USER, 0, 0), errs.ErrNotFound)
		_, err := msgq.Find(tg.Name())
		wantErr(t, "Find of a queue whose process was killed", err, errs.ErrNotFound)
	}},
	{"KillDuringSend", func(t *testing.T) {
		p, _, tg := peerQueue(t, false)
		ch := async(func() (uintptr, error) {
			ctx, cancel := ctxWait()
			defer cancel()
			return tg.Send(ctx, msgq.WM_USER, 1, 2)
		})
		time.Sleep(settle)
		pending(t, ch, "Send to a queue that nobody reads")
		p.kill()
		_, err := get(t, ch, "Send after the receiver was killed")
		wantErr(t, "Send whose receiver was killed", err, errs.ErrNotFound)
	}},
	{"KillAfterTake", func(t *testing.T) {
		p, qid, tg := peerQueue(t, false)
		held := p.send(request{Op: "msgHold", ID: qid})
		ch := async(func() (uintptr, error) {
			ctx, cancel := ctxWait()
			defer cancel()
			return tg.Send(ctx, msgq.WM_USER, 1, 2)
		})
		p.await(held, "msgHold")
		p.kill()
		_, err := get(t, ch, "Send after the receiver took it and was killed")
		wantErr(t, "Send whose receiver took it and was killed", err, errs.ErrNotFound)
	}},
	{"CloseFailsSends", func(t *testing.T) {
		q, p, tid := peerTarget(t)
		chs := []<-chan reply{
			p.send(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER, 0, 0), Timeout: wait}),
			p.send(request{Op: "msgSendData", ID: tid, Data: payload(1, 1, 100<<10), Timeout: wait}),
		}
		time.Sleep(settle)
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		for _, ch := range chs {
			wantErr(t, "a Send waiting when the queue closed", p.await(ch, "msgSend").err(), errs.ErrNotFound)
		}
	}},
}

var msgUnblockTests = []subtest{
	{"CloseWakesGet", func(t *testing.T) {
		q, err := msgq.Register(queueName(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		ch := async(func() (*msgq.Message, error) { return q.Get(context.Background(), 0, 0) })
		time.Sleep(settle)
		pending(t, ch, "Get of an empty queue")
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = get(t, ch, "Get after Close")
		wantErr(t, "Get when the queue closed", err, errs.ErrClosed)
		wantErr(t, "second Close", q.Close(), errs.ErrClosed)
		_, err = q.Get(context.Background(), 0, 0)
		wantErr(t, "Get after Close", err, errs.ErrClosed)
	}},
	{"CancelGet", func(t *testing.T) {
		q := register(t, queueName(t))
		ctx, cancel := context.WithCancel(context.Background())
		ch := async(func() (*msgq.Message, error) { return q.Get(ctx, 0, 0) })
		time.Sleep(settle)
		pending(t, ch, "Get of an empty queue")
		cancel()
		_, err := get(t, ch, "Get after cancel")
		wantErr(t, "Get whose context was cancelled", err, context.Canceled)
		dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer dcancel()
		_, err = q.Get(dctx, 0, 0)
		wantErr(t, "Get past its deadline", err, errs.ErrTimeout, context.DeadlineExceeded)
		// The queue still works.
		tg := find(t, q.Name())
		if err := tg.Post(msgq.WM_USER, 1, 1); err != nil {
			t.Fatal(err)
		}
		wantMsg(t, "Get", getMsg(t, q, 0, 0), msgq.WM_USER, 1, 1)
	}},
	{"CancelSend", func(t *testing.T) {
		if MsgqQuirks.NoCancelSend != "" {
			t.Skip(MsgqQuirks.NoCancelSend)
		}
		q := register(t, queueName(t))
		tg := find(t, q.Name())
		ctx, cancel := context.WithCancel(context.Background())
		ch := async(func() (uintptr, error) { return tg.Send(ctx, msgq.WM_USER, 1, 1) })
		time.Sleep(settle)
		pending(t, ch, "Send nobody takes")
		cancel()
		if _, err := get(t, ch, "Send after cancel"); !errors.Is(err, context.Canceled) && !errors.Is(err, errs.ErrTimeout) {
			t.Fatalf("Send whose context was cancelled: %v; want context.Canceled", err)
		}
		if m, err := q.Peek(0, 0, true); m != nil || err != nil {
			t.Fatalf("Peek = (%v, %v): the cancelled Send was delivered", m, err)
		}
	}},
	{"ClosedTarget", func(t *testing.T) {
		q := register(t, queueName(t))
		tg, err := msgq.Find(q.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Close(); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "Post through a closed target", tg.Post(msgq.WM_USER, 0, 0), errs.ErrClosed)
		wantErr(t, "second Close of a target", tg.Close(), errs.ErrClosed)
	}},
}

var msgSenderTests = []subtest{
	{"EightProcesses", func(t *testing.T) {
		q := register(t, queueName(t))
		const senders, each = 8, 10000
		ps := startPeers(t, senders)
		ids := make([]int, senders)
		for i, p := range ps {
			ids[i] = p.must(request{Op: "msgFind", Name: q.Name()}).ID
		}
		chs := make([]<-chan reply, senders)
		for i, p := range ps {
			chs[i] = p.send(request{Op: "msgPostGen", ID: ids[i], Seed: uint64(100 + i), Count: each, Vary: true})
		}
		next := make([]int, senders)
		for total := 0; total < senders*each; total++ {
			m := getMsg(t, q, 0, 0)
			s := int(m.WParam) - 100
			if m.Msg != msgq.WM_USER+1 || s < 0 || s >= senders {
				t.Fatalf("message %d: %v, from no sender", total, m)
			}
			if int(m.LParam) != next[s] {
				t.Fatalf("message %d: sender %d's message %d; expected its message %d (lost, repeated or out of order)", total, s, m.LParam, next[s])
			}
			next[s]++
		}
		for i, p := range ps {
			if r := p.await(chs[i], "msgPostGen"); r.Err != "" || r.Count != each {
				t.Errorf("sender %d posted %d: %s", i, r.Count, r.Err)
			}
		}
	}},
}

var msgIdleTests = []subtest{
	{"BlockedGetAndSend", func(t *testing.T) {
		// A process blocked in Get and in a Send nobody takes, for 2
		// seconds, uses little CPU (under 10% of a core): it sleeps in
		// the kernel, it does not spin or poll.
		const span = 2 * time.Second
		p := startPeer(t)
		name := queueName(t)
		qid := p.must(request{Op: "msgRegister", Name: name})
		held := p.send(request{Op: "msgHold", ID: qid.ID})
		q := register(t, queueName(t))
		tid := p.must(request{Op: "msgFind", Name: q.Name()}).ID
		sent := p.send(request{Op: "msgSend", ID: tid, Data: args(msgq.WM_USER, 1, 2), Timeout: wait})
		time.Sleep(settle)
		before := p.cpuTime(t)
		time.Sleep(span)
		used := p.cpuTime(t) - before
		if used > span/10 {
			t.Errorf("a peer blocked in Get and Send for %v used %v of CPU; want under %v", span, used, span/10)
		}
		t.Logf("a peer blocked for %v used %v of CPU", span, used)
		m := getMsg(t, q, 0, 0)
		wantMsg(t, "Get", m, msgq.WM_USER, 1, 2)
		m.Reply(3) //nolint:errcheck // checked through the peer
		if r := p.await(sent, "msgSend"); r.Err != "" || r.N != 3 {
			t.Errorf("peer Send = (%d, %s); want (3, nil)", r.N, r.Err)
		}
		tg := find(t, name)
		if err := tg.Post(msgq.WM_APP, 0, 0); err != nil {
			t.Fatal(err)
		}
		if r := p.await(held, "msgHold"); r.Err != "" {
			t.Errorf("peer Get: %s", r.Err)
		}
	}},
}
