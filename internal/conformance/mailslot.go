package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
)

// TestMailslot is the behavioural suite for mailslots: what the package
// documentation of mailslot promises, checked between real processes. The
// package's TestMain must call RunPeerIfAsked.
func TestMailslot(t *testing.T) {
	privateNamespace(t)

	runGroups(t, []group{
		{"Names", slotNameTests},
		{"Messages", slotMessageTests},
		{"Timeouts", slotTimeoutTests},
		{"Info", slotInfoTests},
		{"Close", slotCloseTests},
		{"Writers", slotWriterTests},
	})
}

// slotPrefix starts the full name of a local mailslot.
const slotPrefix = `\\.\mailslot\`

// slotName returns a mailslot name unique to this test and this run.
func slotName(t testing.TB) string { return slotPrefix + uniqueName(t) }

// guarded is the configuration of most slots here: a read that waits for
// ever would hang the test, so reads wait at most wait.
var guarded = &mailslot.Config{ReadTimeout: wait}

// createSlot creates a mailslot for the test; t.Cleanup closes it.
func createSlot(t testing.TB, name string, cfg *mailslot.Config) *mailslot.Slot {
	t.Helper()
	s, err := mailslot.Create(name, cfg)
	if err != nil {
		t.Fatalf("Create(%q, %+v): %v", name, cfg, err)
	}
	t.Cleanup(func() {
		// Closing twice is fine here: some tests close the slot themselves.
		_ = s.Close()
	})
	return s
}

// openWriter opens a mailslot for writing; t.Cleanup closes the writer.
func openWriter(t testing.TB, name string) *mailslot.Writer {
	t.Helper()
	w, err := mailslot.Open(name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	t.Cleanup(func() {
		// The slot may be gone: the writer's Close has nothing to report then.
		_ = w.Close()
	})
	return w
}

// mustNotCreate fails unless Create fails with an error matching one of
// targets (and closes the slot if it succeeds).
func mustNotCreate(t testing.TB, name string, cfg *mailslot.Config, targets ...error) {
	t.Helper()
	what := fmt.Sprintf("Create(%s, %+v)", show([]byte(name)), cfg)
	s, err := mailslot.Create(name, cfg)
	if err == nil {
		// The test fails anyway; closing only frees the name.
		_ = s.Close()
		t.Errorf("%s succeeded; want an error matching %s", what, errNames(targets))
		return
	}
	wantAnyErr(t, what, err, targets...)
}

// mustNotOpen fails unless Open fails with an error matching target (and
// closes the writer if it succeeds).
func mustNotOpen(t testing.TB, name string, target error) {
	t.Helper()
	what := fmt.Sprintf("Open(%s)", show([]byte(name)))
	w, err := mailslot.Open(name)
	if err == nil {
		// The test fails anyway; closing only frees the handle.
		_ = w.Close()
		t.Errorf("%s succeeded; want an error matching %s", what, errName(target))
		return
	}
	wantErr(t, what, err, target)
}

// peerWriter creates a fresh slot here and makes a peer process its
// writer; it returns the slot, the peer and the peer's writer.
func peerWriter(t testing.TB, cfg *mailslot.Config) (*mailslot.Slot, *peer, int) {
	t.Helper()
	s := createSlot(t, slotName(t), cfg)
	p := startPeer(t)
	return s, p, p.slotOpen(s.Name())
}

// slotWriters are peer processes, each with a writer on one slot. Writer
// i writes stamped messages as writer seed+i.
type slotWriters struct {
	peers []*peer
	ids   []int
	seed  uint64
}

// startWriters starts n peer processes and opens the slot name in each.
func startWriters(t testing.TB, name string, n int, seed uint64) *slotWriters {
	t.Helper()
	w := &slotWriters{peers: startPeers(t, n), seed: seed}
	opens := make([]<-chan reply, n)
	for i, p := range w.peers {
		opens[i] = p.send(request{Op: "slotOpen", Name: name})
	}
	for i, p := range w.peers {
		r := p.await(opens[i], "slotOpen")
		if r.Err != "" {
			t.Fatalf("peer %d: Open(%q): %s", i, name, r.Err)
		}
		w.ids = append(w.ids, r.ID)
	}
	return w
}

// ledger returns a ledger for the writers' messages of up to size bytes.
func (w *slotWriters) ledger(size int) *ledger {
	l := newLedger(size, true)
	for i := range w.peers {
		l.next[w.seed+uint64(i)] = 0
	}
	return l
}

// write makes every writer write count stamped messages of up to size
// bytes, all at once. The function it returns waits until they have, and
// fails unless every one wrote all.
func (w *slotWriters) write(count, size int) func(t testing.TB) {
	done := make([]<-chan reply, len(w.peers))
	for i, p := range w.peers {
		done[i] = p.send(request{Op: "slotWriteGen", ID: w.ids[i], Count: count, Size: size, Seed: w.seed + uint64(i), Vary: true})
	}
	return func(t testing.TB) {
		t.Helper()
		for i, p := range w.peers {
			if r := p.await(done[i], "slotWriteGen"); r.Err != "" || r.Count != count {
				t.Fatalf("peer %d wrote %d of %d messages: %s", i, r.Count, count, r.Err)
			}
		}
	}
}

func (p *peer) slotCreate(name string, cfg *mailslot.Config) int {
	p.t.Helper()
	return p.must(request{Op: "slotCreate", Name: name, Mailslot: cfg}).ID
}

func (p *peer) slotOpen(name string) int {
	p.t.Helper()
	return p.must(request{Op: "slotOpen", Name: name}).ID
}

// slotWrite writes one message, which must succeed.
func (p *peer) slotWrite(id int, m []byte) {
	p.t.Helper()
	if r := p.must(request{Op: "slotWrite", ID: id, Data: m}); r.N != len(m) {
		p.t.Fatalf("peer Write of %d bytes = %d", len(m), r.N)
	}
}

// slotTryWrite writes one message and returns the error.
func (p *peer) slotTryWrite(id int, m []byte) (int, error) {
	p.t.Helper()
	r := p.do(request{Op: "slotWrite", ID: id, Data: m})
	return r.N, r.err()
}

// readSlot reads one message with Read and fails unless it is want.
func readSlot(t testing.TB, s *mailslot.Slot, want []byte) {
	t.Helper()
	buf := make([]byte, mailslot.MaxMessage)
	n, err := s.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Fatalf("Read = (%d, %v) %s; want (%d, nil) %s", n, err, show(buf[:n]), len(want), show(want))
	}
}

// wantInfo fails unless s's Info is want.
func wantInfo(t testing.TB, what string, s *mailslot.Slot, want mailslot.Info) {
	t.Helper()
	got, err := s.Info()
	if err != nil || got != want {
		t.Fatalf("Info %s = %+v, %v; want %+v", what, got, err, want)
	}
}

// readStamped reads count stamped messages into l, failing at the first
// wrong one. Every every-th read, it pauses for pause.
func readStamped(t testing.TB, s *mailslot.Slot, l *ledger, count, every int, pause time.Duration) {
	t.Helper()
	buf := make([]byte, mailslot.MaxMessage)
	for i := range count {
		n, err := s.Read(buf)
		if err != nil {
			t.Fatalf("Read #%d of %d: %v", i, count, err)
		}
		if err := l.add(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if every > 0 && i%every == every-1 {
			time.Sleep(pause)
		}
	}
}

// wantEmpty fails unless s holds no message: Info says so and a poll
// finds none.
func wantEmpty(t testing.TB, what string, s *mailslot.Slot) {
	t.Helper()
	info, err := s.Info()
	if err != nil || info.Count != 0 || info.NextSize != mailslot.NoMessage {
		t.Errorf("Info %s = %+v, %v; want Count 0 and NextSize NoMessage", what, info, err)
	}
	if err := s.SetReadTimeout(0); err != nil {
		t.Fatalf("SetReadTimeout(0): %v", err)
	}
	defer func() {
		if err := s.SetReadTimeout(info.ReadTimeout); err != nil {
			t.Fatalf("SetReadTimeout(%v): %v", info.ReadTimeout, err)
		}
	}()
	m, err := get(t, async(s.ReadMsg), "ReadMsg polling "+what)
	if err == nil {
		t.Errorf("ReadMsg polling %s = %s; want no message", what, show(m))
		return
	}
	wantTimeout(t, "ReadMsg polling "+what, err)
}

// Names and parameters.

var slotNameTests = []subtest{
	{"Exists", testSlotExists},
	{"Lookalikes", testSlotLookalikes},
	{"NotFound", testSlotNotFound},
	{"Spellings", testSlotSpellings},
	{"PseudoDirectories", testSlotPseudoDirectories},
	{"Invalid", testSlotInvalidNames},
	{"Longest", testSlotLongestName},
	{"Remote", testSlotRemote},
	{"Parameters", testSlotParameters},
}

// testSlotExists: a name held by a live slot, in this process or another,
// in any spelling, cannot be created again. (After its owner has gone, it
// can: see the Close group.)
func testSlotExists(t *testing.T) {
	name := slotName(t)
	bare := strings.TrimPrefix(name, slotPrefix)
	p := startPeer(t)
	p.slotCreate(name, nil)
	for _, spelling := range []string{name, bare, strings.ToUpper(bare), `\\.\MAILSLOT\` + strings.ToLower(bare)} {
		mustNotCreate(t, spelling, nil, errs.ErrExists)
	}
	mine := slotName(t)
	createSlot(t, mine, nil)
	mustNotCreate(t, mine, &mailslot.Config{MaxMessageSize: 10}, errs.ErrExists)
	mustNotCreate(t, strings.ToUpper(mine), nil, errs.ErrExists)
}

// testSlotLookalikes: names that differ from a live slot's only by a suffix
// are other slots (on Unix, none of them may land on the live slot's lock
// file or kick socket): all live at once, and each gets its own messages.
func testSlotLookalikes(t *testing.T) {
	name := slotName(t)
	all := []string{name, name + ".lock", name + "%lock", name + "%kick", name + "%25kick", name + ".kick"}
	slots := make([]*mailslot.Slot, len(all))
	for i, n := range all {
		slots[i] = createSlot(t, n, guarded)
	}
	for _, n := range all {
		w := openWriter(t, n)
		if _, err := w.Write([]byte(n)); err != nil {
			t.Fatalf("Write to %s: %v", n, err)
		}
	}
	for i, n := range all {
		readSlot(t, slots[i], []byte(n))
		mustNotCreate(t, n, nil, errs.ErrExists)
	}
}

// testSlotNotFound: Open of a slot nobody created fails at once.
func testSlotNotFound(t *testing.T) {
	name := slotName(t)
	mustNotOpen(t, name, errs.ErrNotFound)
	mustNotOpen(t, strings.TrimPrefix(name, slotPrefix), errs.ErrNotFound)
	mustNotOpen(t, name+`\sub`, errs.ErrNotFound)
}

// testSlotSpellings: `\\.\mailslot\X\a\b`, bare `X\a\b` and either in other
// case reach one slot, from another process.
func testSlotSpellings(t *testing.T) {
	name := slotName(t) + `\a\b\c`
	bare := strings.TrimPrefix(name, slotPrefix)
	s := createSlot(t, name, guarded)
	if s.Name() != name {
		t.Errorf("Name() = %q; want %q", s.Name(), name)
	}
	spellings := []string{name, bare, strings.ToUpper(bare), `\\.\MAILSLOT\` + strings.ToUpper(bare), `\\.\MailSlot\` + strings.ToLower(bare)}
	p := startPeer(t)
	for _, sp := range spellings {
		p.slotWrite(p.slotOpen(sp), []byte(sp))
	}
	for _, sp := range spellings {
		readSlot(t, s, []byte(sp))
	}

	// A slot created with a bare name has the full name.
	bare2 := uniqueName(t) + `\x`
	s2 := createSlot(t, bare2, nil)
	if want := slotPrefix + bare2; s2.Name() != want {
		t.Errorf("Name() of a slot created as %q = %q; want %q", bare2, s2.Name(), want)
	}
}

// testSlotPseudoDirectories: pseudo-directories are part of the name, not
// directories: `X\a\b`, `X\a\b\c` and `X\a\b\c\d` are three unrelated
// slots, and none needs another to exist.
func testSlotPseudoDirectories(t *testing.T) {
	base := uniqueName(t)
	mid := createSlot(t, slotPrefix+base+`\a\b\c`, guarded)
	mustNotOpen(t, base+`\a\b`, errs.ErrNotFound)
	mustNotOpen(t, base+`\a\b\c\d`, errs.ErrNotFound)
	mustNotOpen(t, base, errs.ErrNotFound)
	up := createSlot(t, base+`\a\b`, guarded)
	down := createSlot(t, base+`\A\B\C\D`, guarded)

	p := startPeer(t)
	slots := []*mailslot.Slot{up, mid, down}
	for _, s := range slots {
		p.slotWrite(p.slotOpen(s.Name()), []byte(s.Name()))
	}
	for _, s := range slots {
		readSlot(t, s, []byte(s.Name()))
		wantInfo(t, "of "+s.Name()+" after reading its message", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage, ReadTimeout: wait})
	}
}

func testSlotInvalidNames(t *testing.T) {
	// `\\.\mailslot\` has 13 characters of the 259 a full name may have.
	longest := 259 - len(slotPrefix)
	for _, name := range []string{
		"", slotPrefix, `\\.\mailslot`, `\\`, `\\.\`, `\\\mailslot\x`, `\\.\pipe\x`, `\x`, `\\.\mailslot\\x`,
		`a\`, `a\\b`, `\\.\mailslot\a\`, `\\.\mailslot\a\\b`, "nul\x00", "bad\xffutf8", `\\bad host\mailslot\x`,
		strings.Repeat("n", longest+1), slotPrefix + strings.Repeat("n", longest+1),
		slotPrefix + strings.Repeat(`ab\`, longest/3) + "cd",
	} {
		mustNotCreate(t, name, nil, errs.ErrInvalidName)
		mustNotOpen(t, name, errs.ErrInvalidName)
	}
}

// testSlotLongestName: a name of 259 characters, pseudo-directories
// included, works (on Linux its socket path is a hash).
func testSlotLongestName(t *testing.T) {
	prefix := slotName(t) + `\`
	name := prefix + strings.Repeat("x", 259-len(prefix))
	s := createSlot(t, name, guarded)
	p := startPeer(t)
	p.slotWrite(p.slotOpen(strings.ToUpper(strings.TrimPrefix(name, slotPrefix))), []byte("long"))
	readSlot(t, s, []byte("long"))
}

// testSlotRemote: a writer of a network mailslot needs the gateway's TLS
// directory (Linux; here an empty one, see docs/network.md): without it
// Open fails with ErrNetwork (ErrNotSupported on Windows for now); a slot
// can only be created on this machine.
func testSlotRemote(t *testing.T) {
	t.Setenv("XIPC_TLS_DIR", noTLSDir(t))
	for _, name := range []string{`\\host\mailslot\x`, `\\*\mailslot\x`, `\\DOMAIN\mailslot\a\b`, `\\10.0.0.1\mailslot\x`} {
		if w, err := mailslot.Open(name); err == nil {
			_ = w.Close() // the test fails anyway
			t.Errorf("Open(%s) without TLS credentials succeeded", name)
		} else {
			wantAnyErr(t, "Open("+name+")", err, errs.ErrNetwork, errs.ErrNotSupported)
		}
		mustNotCreate(t, name, nil, errs.ErrInvalidParameter, errs.ErrNotSupported)
	}
}

// testSlotParameters: Create refuses a bad Config and keeps the name free;
// good ones show in Info; SetReadTimeout refuses a bad timeout and keeps
// the old one.
func testSlotParameters(t *testing.T) {
	name := slotName(t)
	for _, cfg := range []mailslot.Config{
		{MaxMessageSize: -1},
		{MaxMessageSize: mailslot.MaxMessage + 1},
		{ReadTimeout: -5},
		{ReadTimeout: -5 * time.Millisecond},
		{ReadTimeout: mailslot.WaitForever - 1},
	} {
		mustNotCreate(t, name, &cfg, errs.ErrInvalidParameter)
	}
	mustNotOpen(t, name, errs.ErrNotFound)

	for _, tt := range []struct {
		cfg  *mailslot.Config
		want mailslot.Info
	}{
		{nil, mailslot.Info{MaxMessageSize: mailslot.MaxMessage}},
		{&mailslot.Config{MaxMessageSize: 1, ReadTimeout: mailslot.WaitForever}, mailslot.Info{MaxMessageSize: 1, ReadTimeout: mailslot.WaitForever}},
		{&mailslot.Config{MaxMessageSize: mailslot.MaxMessage, ReadTimeout: 1500 * time.Millisecond}, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, ReadTimeout: 1500 * time.Millisecond}},
		{&mailslot.Config{MaxMessageSize: 424, ReadTimeout: time.Millisecond}, mailslot.Info{MaxMessageSize: 424, ReadTimeout: time.Millisecond}},
	} {
		s := createSlot(t, slotName(t), tt.cfg)
		tt.want.NextSize = mailslot.NoMessage
		wantInfo(t, fmt.Sprintf("of a new slot with %+v", tt.cfg), s, tt.want)
		for _, d := range []time.Duration{-5, -time.Second, mailslot.WaitForever - 1} {
			wantErr(t, fmt.Sprintf("SetReadTimeout(%v)", d), s.SetReadTimeout(d), errs.ErrInvalidParameter)
		}
		wantInfo(t, "after refused SetReadTimeouts", s, tt.want)
	}
}

// Messages.

var slotMessageTests = []subtest{
	{"Order", testSlotOrder},
	{"TooLarge", testSlotTooLarge},
	{"InsufficientBuffer", testSlotInsufficientBuffer},
	{"ReadMsg", testSlotReadMsg},
	{"Stream", testSlotStream},
}

// testSlotOrder: a writer in another process: each Write is one message,
// whole, in order; empty ones and ones of exactly MaxMessageSize included.
func testSlotOrder(t *testing.T) {
	for _, max := range []int{1000, 0} {
		s, p, id := peerWriter(t, &mailslot.Config{MaxMessageSize: max, ReadTimeout: wait})
		if max == 0 {
			max = mailslot.MaxMessage
		}
		msgs := [][]byte{[]byte("one"), {}, []byte("two-two"), payload(1, 0, max), {}, payload(1, 1, max-1), []byte("z"), payload(1, 2, max)}
		for _, m := range msgs {
			p.slotWrite(id, m)
		}
		for i, want := range msgs {
			buf := make([]byte, max)
			n, err := s.Read(buf)
			if err != nil || !bytes.Equal(buf[:n], want) {
				t.Fatalf("max %d: Read #%d = (%d, %v) %s; want (%d, nil) %s", max, i, n, err, show(buf[:n]), len(want), show(want))
			}
		}
	}
}

// testSlotTooLarge: a message longer than MaxMessageSize fails at the
// writer and nothing of it arrives; the writer goes on.
func testSlotTooLarge(t *testing.T) {
	for _, max := range []int{100, 0} {
		s, p, id := peerWriter(t, &mailslot.Config{MaxMessageSize: max, ReadTimeout: wait})
		if max == 0 {
			max = mailslot.MaxMessage
		}
		fits, big := payload(2, 0, max), payload(2, 1, max+1)
		p.slotWrite(id, fits)
		n, err := p.slotTryWrite(id, big)
		wantErr(t, fmt.Sprintf("peer Write of %d bytes to a slot of %d", len(big), max), err, errs.ErrMessageTooLarge)
		if n != 0 {
			t.Errorf("peer Write of a too-large message = %d bytes written; want 0", n)
		}
		p.slotWrite(id, []byte("after"))

		// The same from this process, through another writer.
		w := openWriter(t, s.Name())
		n, err = w.Write(big)
		wantErr(t, fmt.Sprintf("Write of %d bytes to a slot of %d", len(big), max), err, errs.ErrMessageTooLarge)
		if n != 0 {
			t.Errorf("Write of a too-large message = %d bytes written; want 0", n)
		}

		wantInfo(t, "after a refused message", s, mailslot.Info{MaxMessageSize: max, NextSize: max, Count: 2, ReadTimeout: wait})
		readSlot(t, s, fits)
		readSlot(t, s, []byte("after"))
		wantEmpty(t, "after the messages that fit", s)
	}
}

// testSlotInsufficientBuffer: a buffer shorter than the next message gets
// ErrInsufficientBuffer and nothing, and the message stays first in the
// queue, for as long as reads are too short.
func testSlotInsufficientBuffer(t *testing.T) {
	s, p, id := peerWriter(t, guarded)
	first := payload(3, 0, 50)
	p.slotWrite(id, first)
	p.slotWrite(id, []byte("next"))
	p.slotWrite(id, []byte{})
	short := make([]byte, 49)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i, read := range []func([]byte) (int, error){
		s.Read,
		s.Read,
		func(p []byte) (int, error) { return s.ReadContext(ctx, p) },
	} {
		for _, buf := range [][]byte{short, nil} {
			n, err := read(buf)
			wantErr(t, fmt.Sprintf("read #%d of 50 bytes into %d", i, len(buf)), err, errs.ErrInsufficientBuffer)
			if n != 0 {
				t.Errorf("read #%d of 50 bytes into %d = %d bytes; want 0", i, len(buf), n)
			}
		}
		wantInfo(t, "after too-short reads", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: 50, Count: 3, ReadTimeout: wait})
	}
	buf := make([]byte, 50)
	if n, err := s.Read(buf); n != 50 || err != nil || !bytes.Equal(buf, first) {
		t.Fatalf("Read of 50 bytes into 50 = (%d, %v) %s; want (50, nil) %s", n, err, show(buf[:n]), show(first))
	}
	buf = make([]byte, 4)
	if n, err := s.Read(buf); n != 4 || err != nil || string(buf) != "next" {
		t.Fatalf("Read of 4 bytes into 4 = (%d, %v) %q; want (4, nil) \"next\"", n, err, buf[:n])
	}
	// An empty message fits an empty buffer.
	if n, err := s.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read of an empty message into an empty buffer = (%d, %v); want (0, nil)", n, err)
	}
	wantEmpty(t, "after reading everything", s)
}

// testSlotReadMsg: ReadMsg returns each message in a new slice of exactly
// its size.
func testSlotReadMsg(t *testing.T) {
	const max = 2000
	s, p, id := peerWriter(t, &mailslot.Config{MaxMessageSize: max, ReadTimeout: wait})
	sizes := []int{0, 1, 7, 1000, max, 3}
	for i, size := range sizes {
		p.slotWrite(id, payload(4, i, size))
	}
	var got [][]byte
	for i, size := range sizes {
		m, err := s.ReadMsg()
		if err != nil || len(m) != size || cap(m) != size || !bytes.Equal(m, payload(4, i, size)) {
			t.Fatalf("ReadMsg #%d = %s (len %d, cap %d), %v; want the %d-byte message in a slice of len and cap %d",
				i, show(m), len(m), cap(m), err, size, size)
		}
		got = append(got, m)
	}
	// Each slice is its own: none shares memory with another.
	for i := range got {
		for j := range got[i] {
			got[i][j] ^= 0xff
		}
	}
	for i, size := range sizes {
		want := payload(4, i, size)
		for j := range want {
			want[j] ^= 0xff
		}
		if !bytes.Equal(got[i], want) {
			t.Fatalf("ReadMsg's slice #%d shares memory with another", i)
		}
	}
}

// testSlotStream: a writer in another process writes while this process
// reads, sometimes slower: every message whole and in order.
func testSlotStream(t *testing.T) {
	const count, size = 3000, 4 << 10
	s, p, id := peerWriter(t, guarded)
	ch := p.send(request{Op: "slotWriteGen", ID: id, Count: count, Size: size, Seed: 5, Vary: true})
	l := newLedger(size, true, 5)
	readStamped(t, s, l, count, 100, 5*time.Millisecond)
	if r := p.await(ch, "slotWriteGen"); r.Err != "" || r.Count != count {
		t.Fatalf("peer wrote %d of %d messages: %s", r.Count, count, r.Err)
	}
	if err := l.complete(count); err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, "after the stream", s)
}

// Read timeouts.

var slotTimeoutTests = []subtest{
	{"Poll", testSlotPoll},
	{"Timeout", testSlotTimeout},
	{"Forever", testSlotForever},
	{"SetReadTimeout", testSlotSetReadTimeout},
	{"ContextCancel", testSlotContextCancel},
	{"ContextDeadline", testSlotContextDeadline},
	{"CloseUnblocksRead", testSlotCloseUnblocksRead},
	{"UseAfterClose", testSlotUseAfterClose},
}

// poll is far longer than a poll ever takes and far shorter than wait: a
// read that takes longer waited for something. (Not a speed check: a poll
// that waits at all usually waits for ever.)
const poll = 10 * time.Second

// testSlotPoll: a read timeout of 0 (the default) polls: a message written
// before the call is returned, none gives ErrTimeout at once.
func testSlotPoll(t *testing.T) {
	s, p, id := peerWriter(t, nil)
	wantInfo(t, "of a slot created with a nil Config", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage})
	buf := make([]byte, 100)
	for _, what := range []string{"Read", "ReadMsg"} {
		read := func() (int, error) { return s.Read(buf) }
		if what == "ReadMsg" {
			read = func() (int, error) { m, err := s.ReadMsg(); return copy(buf, m), err }
		}
		start := time.Now()
		_, err := get(t, async(read), what+" polling an empty slot")
		wantTimeout(t, what+" polling an empty slot", err)
		if el := time.Since(start); el > poll {
			t.Errorf("%s polling an empty slot took %v", what, el)
		}

		msgs := []string{"m1", "", "m3"}
		for _, m := range msgs {
			p.slotWrite(id, []byte(m))
		}
		for _, m := range msgs {
			n, err := get(t, async(read), what+" polling a slot with a message")
			if err != nil || string(buf[:n]) != m {
				t.Fatalf("%s polling a slot with a message written before = (%d, %v) %q; want %q", what, n, err, buf[:n], m)
			}
		}
		_, err = get(t, async(read), what+" polling an emptied slot")
		wantTimeout(t, what+" polling an emptied slot", err)
	}
}

// testSlotTimeout: a read timeout of N waits about N, then ErrTimeout.
func testSlotTimeout(t *testing.T) {
	const d = 300 * time.Millisecond
	s := createSlot(t, slotName(t), &mailslot.Config{ReadTimeout: d})
	wantInfo(t, "of a new slot", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage, ReadTimeout: d})
	reads := map[string]func() error{
		"Read":    func() error { _, err := s.Read(make([]byte, 10)); return err },
		"ReadMsg": func() error { _, err := s.ReadMsg(); return err },
	}
	for what, read := range reads {
		start := time.Now()
		err := read()
		el := time.Since(start)
		wantTimeout(t, fmt.Sprintf("%s with a %v timeout", what, d), err)
		if el < d*9/10 {
			t.Errorf("%s with a %v timeout gave up after %v", what, d, el)
		}
	}
	// A message that comes while the read waits ends the wait.
	if err := s.SetReadTimeout(wait); err != nil {
		t.Fatal(err)
	}
	ch := async(s.ReadMsg)
	time.Sleep(settle)
	pending(t, ch, "ReadMsg with a long timeout")
	w := openWriter(t, s.Name())
	if _, err := w.Write([]byte("in time")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if m, err := get(t, ch, "ReadMsg with a long timeout"); err != nil || string(m) != "in time" {
		t.Fatalf("ReadMsg waiting while a message came = (%q, %v); want \"in time\"", m, err)
	}
}

// testSlotForever: WaitForever waits until a message comes.
func testSlotForever(t *testing.T) {
	s, p, id := peerWriter(t, &mailslot.Config{ReadTimeout: mailslot.WaitForever})
	wantInfo(t, "of a new slot", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage, ReadTimeout: mailslot.WaitForever})
	ch := async(s.ReadMsg)
	time.Sleep(3 * settle)
	pending(t, ch, "ReadMsg with WaitForever")
	p.slotWrite(id, []byte("at last"))
	if m, err := get(t, ch, "ReadMsg with WaitForever"); err != nil || string(m) != "at last" {
		t.Fatalf("ReadMsg with WaitForever = (%q, %v); want \"at last\"", m, err)
	}
}

// testSlotSetReadTimeout: SetReadTimeout changes the timeout of later
// reads, and Info reports it.
func testSlotSetReadTimeout(t *testing.T) {
	s := createSlot(t, slotName(t), &mailslot.Config{ReadTimeout: mailslot.WaitForever})
	info := func(d time.Duration) mailslot.Info {
		return mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage, ReadTimeout: d}
	}
	set := func(d time.Duration) {
		t.Helper()
		if err := s.SetReadTimeout(d); err != nil {
			t.Fatalf("SetReadTimeout(%v): %v", d, err)
		}
		wantInfo(t, fmt.Sprintf("after SetReadTimeout(%v)", d), s, info(d))
	}

	set(0)
	_, err := get(t, async(s.ReadMsg), "ReadMsg after SetReadTimeout(0)")
	wantTimeout(t, "ReadMsg after SetReadTimeout(0)", err)

	const d = 250 * time.Millisecond
	set(d)
	start := time.Now()
	_, err = get(t, async(s.ReadMsg), fmt.Sprintf("ReadMsg after SetReadTimeout(%v)", d))
	wantTimeout(t, fmt.Sprintf("ReadMsg after SetReadTimeout(%v)", d), err)
	if el := time.Since(start); el < d*9/10 {
		t.Errorf("ReadMsg after SetReadTimeout(%v) gave up after %v", d, el)
	}

	set(mailslot.WaitForever)
	ch := async(s.ReadMsg)
	time.Sleep(3 * settle)
	pending(t, ch, "ReadMsg after SetReadTimeout(WaitForever)")
	w := openWriter(t, s.Name())
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if m, err := get(t, ch, "ReadMsg after SetReadTimeout(WaitForever)"); err != nil || string(m) != "x" {
		t.Fatalf("ReadMsg after SetReadTimeout(WaitForever) = (%q, %v); want \"x\"", m, err)
	}
}

// testSlotContextCancel: ReadContext waits until its context ends, whatever
// the slot's timeout (here: poll), and returns the context's error.
func testSlotContextCancel(t *testing.T) {
	s := createSlot(t, slotName(t), nil)
	buf := make([]byte, 10)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := get(t, async(func() (int, error) { return s.ReadContext(ctx, buf) }), "ReadContext with a cancelled context")
	wantErr(t, "ReadContext with a cancelled context", err, context.Canceled)

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	ch := async(func() (int, error) { return s.ReadContext(ctx, buf) })
	time.Sleep(settle)
	pending(t, ch, "ReadContext on a polling slot")
	cancel()
	_, err = get(t, ch, "ReadContext whose context was cancelled while it waited")
	wantErr(t, "ReadContext whose context was cancelled while it waited", err, context.Canceled)

	// A message ends the wait; the slot goes on working.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	ch = async(func() (int, error) { return s.ReadContext(ctx, buf) })
	time.Sleep(settle)
	pending(t, ch, "ReadContext on a polling slot")
	w := openWriter(t, s.Name())
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n, err := get(t, ch, "ReadContext while a message came"); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("ReadContext while a message came = (%d, %v) %q; want \"hello\"", n, err, buf[:n])
	}
	wantEmpty(t, "after ReadContext", s)
}

// testSlotContextDeadline: a context's deadline bounds ReadContext, even on
// a slot that waits for ever; the error matches both ErrTimeout and
// context.DeadlineExceeded, also when the call comes after the deadline.
// Several rounds, because a context's own timer may fire a little after its
// deadline, and the error must match context.DeadlineExceeded all the same.
func testSlotContextDeadline(t *testing.T) {
	s := createSlot(t, slotName(t), &mailslot.Config{ReadTimeout: mailslot.WaitForever})
	const d = 100 * time.Millisecond
	read := func(ctx context.Context) <-chan result[int] {
		return async(func() (int, error) { return s.ReadContext(ctx, make([]byte, 10)) })
	}
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		start := time.Now()
		_, err := get(t, read(ctx), "ReadContext with a deadline")
		el := time.Since(start)
		wantTimeout(t, "ReadContext with a deadline", err)
		wantErr(t, "ReadContext with a deadline", err, context.DeadlineExceeded)
		if el < d*9/10 {
			t.Errorf("ReadContext with a %v deadline gave up after %v", d, el)
		}
		_, err = get(t, read(ctx), "ReadContext past its deadline")
		wantErr(t, "ReadContext past its deadline", err, errs.ErrTimeout, context.DeadlineExceeded)
		cancel()
		if t.Failed() {
			break
		}
	}
}

// testSlotCloseUnblocksRead: Close from another goroutine ends a read that
// waits, with ErrClosed.
func testSlotCloseUnblocksRead(t *testing.T) {
	reads := []struct {
		name string
		f    func(s *mailslot.Slot) (int, error)
	}{
		{"Read", func(s *mailslot.Slot) (int, error) { return s.Read(make([]byte, 10)) }},
		{"ReadMsg", func(s *mailslot.Slot) (int, error) { m, err := s.ReadMsg(); return len(m), err }},
		{"ReadContext", func(s *mailslot.Slot) (int, error) { return s.ReadContext(context.Background(), make([]byte, 10)) }},
	}
	for _, r := range reads {
		s := createSlot(t, slotName(t), &mailslot.Config{ReadTimeout: mailslot.WaitForever})
		what := r.name + " waiting when the slot was closed"
		ch := async(func() (int, error) { return r.f(s) })
		time.Sleep(settle)
		pending(t, ch, r.name+" on an empty slot")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err := get(t, ch, what)
		wantErr(t, what, err, errs.ErrClosed)
	}
}

func testSlotUseAfterClose(t *testing.T) {
	s := createSlot(t, slotName(t), guarded)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "second Close", s.Close(), errs.ErrClosed)
	_, err := s.Read(make([]byte, 10))
	wantErr(t, "Read after Close", err, errs.ErrClosed)
	_, err = s.ReadMsg()
	wantErr(t, "ReadMsg after Close", err, errs.ErrClosed)
	_, err = s.ReadContext(context.Background(), make([]byte, 10))
	wantErr(t, "ReadContext after Close", err, errs.ErrClosed)
	_, err = s.Info()
	wantErr(t, "Info after Close", err, errs.ErrClosed)
}

// Info.

var slotInfoTests = []subtest{
	{"Exact", testSlotInfoExact},
	{"AfterEachWrite", testSlotInfoAfterEachWrite},
	{"WhileWriting", infoWhileWriting(false)},
	{"WhileWritingAndReading", infoWhileWriting(true)},
	{"WhileReadWaits", testSlotInfoWhileReadWaits},
}

// testSlotInfoWhileReadWaits: Info called while a Read waits does not take
// the message that Read waits for from under it. 300 times, a Read waits,
// a message comes, and Info is called at once, over and over: every Read
// returns its message. (On Unix, Info moves datagrams to the slot's queue;
// a reader asleep in the poller must still hear of them.)
func testSlotInfoWhileReadWaits(t *testing.T) {
	s := createSlot(t, slotName(t), guarded)
	w := openWriter(t, s.Name())
	buf := make([]byte, 64)
	for i := range 300 {
		read := async(func() (int, error) { return s.Read(buf) })
		time.Sleep(100 * time.Microsecond) // let Read start waiting, mostly
		if _, err := w.Write([]byte{byte(i)}); err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
		var n int
		var err error
	loop:
		for {
			select {
			case r := <-read:
				n, err = r.v, r.err
				break loop
			default:
				if _, err := s.Info(); err != nil {
					t.Fatalf("Info #%d: %v", i, err)
				}
			}
		}
		if err != nil || n != 1 || buf[0] != byte(i) {
			t.Fatalf("Read #%d = %d %x, %v; want the message %x", i, n, buf[:n], err, byte(i))
		}
	}
}

// testSlotInfoExact: after a writer in another process wrote messages of
// distinct sizes and exited, Info counts them all, and reports the size of
// each next one as they are read.
func testSlotInfoExact(t *testing.T) {
	const max = 500
	s, p, id := peerWriter(t, &mailslot.Config{MaxMessageSize: max, ReadTimeout: wait})
	info := mailslot.Info{MaxMessageSize: max, NextSize: mailslot.NoMessage, ReadTimeout: wait}
	wantInfo(t, "of a new slot", s, info)
	sizes := []int{17, 0, 300, 1, max, 42, 99}
	for i, size := range sizes {
		p.slotWrite(id, payload(6, i, size))
	}
	p.exit()
	for i, size := range sizes {
		info.NextSize, info.Count = size, len(sizes)-i
		wantInfo(t, fmt.Sprintf("before read #%d", i), s, info)
		wantInfo(t, fmt.Sprintf("again before read #%d", i), s, info)
		readSlot(t, s, payload(6, i, size))
	}
	info.NextSize, info.Count = mailslot.NoMessage, 0
	wantInfo(t, "after reading everything", s, info)
}

// testSlotInfoAfterEachWrite: a message counts from the moment its Write
// returns: Info right after each write, by this process or another, counts
// it, with reads in between.
func testSlotInfoAfterEachWrite(t *testing.T) {
	s, p, id := peerWriter(t, guarded)
	w := openWriter(t, s.Name())
	var waiting [][]byte
	check := func(what string) {
		t.Helper()
		info := mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: mailslot.NoMessage, Count: len(waiting), ReadTimeout: wait}
		if len(waiting) > 0 {
			info.NextSize = len(waiting[0])
		}
		wantInfo(t, what, s, info)
	}
	for i := range 60 {
		m := payload(9, i, 1+i)
		if i%2 == 0 {
			if _, err := w.Write(m); err != nil {
				t.Fatalf("Write #%d: %v", i, err)
			}
		} else {
			p.slotWrite(id, m)
		}
		waiting = append(waiting, m)
		check(fmt.Sprintf("right after write #%d", i))
		if i%3 == 2 {
			readSlot(t, s, waiting[0])
			waiting = waiting[1:]
			check(fmt.Sprintf("right after a read, write #%d", i))
		}
	}
}

// infoWhileWriting: while writers in other processes write, every Info is
// a consistent snapshot. With no reads, Count never falls, never passes
// what was written, reaches it, and NextSize stays the first message's.
// With reads, the message read is always NextSize bytes long and Count
// falls by at most the one read.
func infoWhileWriting(read bool) func(t *testing.T) {
	return func(t *testing.T) {
		const writers, count, size = 4, 300, 256
		const total = writers * count
		s := createSlot(t, slotName(t), guarded)
		ws := startWriters(t, s.Name(), writers, 100)
		l := ws.ledger(size)
		written := ws.write(count, size)
		var last mailslot.Info
		first := mailslot.NoMessage
		buf := make([]byte, mailslot.MaxMessage)
		deadline := time.Now().Add(wait)
		for l.total+last.Count < total {
			if time.Now().After(deadline) {
				t.Fatalf("after %v, %d messages read and %d waiting of %d written", wait, l.total, last.Count, total)
			}
			info, err := s.Info()
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			switch {
			case info.Count < 0 || l.total+info.Count > total:
				t.Fatalf("Info = %+v with %d messages read; only %d were written", info, l.total, total)
			case (info.Count == 0) != (info.NextSize == mailslot.NoMessage):
				t.Fatalf("Info = %+v: Count and NextSize disagree", info)
			case info.Count < last.Count-1 || !read && info.Count < last.Count:
				t.Fatalf("Info = %+v after %+v: Count fell by more than the reads", info, last)
			case !read && first != mailslot.NoMessage && info.NextSize != first:
				t.Fatalf("Info = %+v: NextSize changed from %d with nobody reading", info, first)
			}
			if first == mailslot.NoMessage {
				first = info.NextSize
			}
			last = info
			if !read || info.Count == 0 {
				continue
			}
			n, err := s.Read(buf)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if n != info.NextSize {
				t.Fatalf("Read got a %d-byte message; Info just said the next had %d", n, info.NextSize)
			}
			if err := l.add(buf[:n]); err != nil {
				t.Fatal(err)
			}
		}
		written(t)
		if !read {
			wantInfo(t, "when all was written", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: first, Count: total, ReadTimeout: wait})
		}
		readStamped(t, s, l, total-l.total, 0, 0)
		if err := l.complete(count); err != nil {
			t.Fatal(err)
		}
		wantEmpty(t, "after reading everything", s)
	}
}

// The slot's end.

var slotCloseTests = []subtest{
	{"Discards", testSlotCloseDiscards},
	{"ReaderCloses", readerGone("close")},
	{"ReaderExits", readerGone("exit")},
	{"ReaderKilled", readerGone("kill")},
}

// testSlotCloseDiscards: Close deletes the slot and its messages; a new
// slot of the same name starts empty, and the old writers cannot reach it.
func testSlotCloseDiscards(t *testing.T) {
	name := slotName(t)
	s := createSlot(t, name, guarded)
	w := openWriter(t, name)
	for _, m := range []string{"a", "b", "c"} {
		if _, err := w.Write([]byte(m)); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	wantInfo(t, "after 3 writes", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: 1, Count: 3, ReadTimeout: wait})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := w.Write([]byte("d"))
	wantErr(t, "Write after the slot was closed", err, errs.ErrNotFound)

	s = createSlot(t, name, guarded)
	wantEmpty(t, "of a new slot of a closed one's name", s)
	_, err = w.Write([]byte("e"))
	wantErr(t, "Write by a writer of a closed slot after a new one was made", err, errs.ErrNotFound)
	w2 := openWriter(t, name)
	if _, err := w2.Write([]byte("fresh")); err != nil {
		t.Fatalf("Write to the new slot: %v", err)
	}
	readSlot(t, s, []byte("fresh"))
	wantEmpty(t, "of the new slot", s)
}

// readerGone: while a peer process holds a slot, its name cannot be
// created; when the peer closes it, exits or is killed, the slot and its
// messages vanish: writers that opened before fail on their next write,
// Open fails, and a new Create succeeds and starts empty.
func readerGone(how string) func(t *testing.T) {
	return func(t *testing.T) {
		name := slotName(t)
		p := startPeer(t)
		id := p.slotCreate(name, guarded)
		mustNotCreate(t, name, nil, errs.ErrExists)
		w := openWriter(t, strings.ToUpper(name))
		if _, err := w.Write([]byte("first")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if r := p.must(request{Op: "slotRead", ID: id, Size: 100}); string(r.Data) != "first" {
			t.Fatalf("peer Read = %q; want \"first\"", r.Data)
		}
		if _, err := w.Write([]byte("never read")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		switch how {
		case "close":
			p.close(id)
		case "exit":
			p.exit()
		case "kill":
			p.kill()
		}
		_, err := w.Write([]byte("after"))
		wantErr(t, "Write after the reader's slot went ("+how+")", err, errs.ErrNotFound)
		mustNotOpen(t, name, errs.ErrNotFound)

		s := createSlot(t, name, guarded)
		wantEmpty(t, "of a new slot of a gone one's name", s)
		_, err = w.Write([]byte("after the new Create"))
		wantErr(t, "Write by a writer of the gone slot after a new one was made", err, errs.ErrNotFound)
		q := startPeer(t)
		q.slotWrite(q.slotOpen(name), []byte("new slot?"))
		readSlot(t, s, []byte("new slot?"))
		wantEmpty(t, "of the new slot", s)
	}
}

// Writers.

var slotWriterTests = append([]subtest{
	{"ManyWriters", testSlotManyWriters},
	{"NoReader", testSlotNoReader},
	{"ReaderStops", testSlotReaderStops},
}, queueLimitTests...)

// manyWriters and manyCount: how many processes write at once, and how many
// messages each, in testSlotManyWriters.
const manyWriters, manyCount = 50, 1000

// testSlotManyWriters: many processes write at once: every message arrives
// whole, none is lost, each writer's in its order.
func testSlotManyWriters(t *testing.T) {
	const size = 200
	s := createSlot(t, slotName(t), guarded)
	ws := startWriters(t, s.Name(), manyWriters, 1000)
	l := ws.ledger(size)
	written := ws.write(manyCount, size)
	readStamped(t, s, l, manyWriters*manyCount, 0, 0)
	written(t)
	if err := l.complete(manyCount); err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, "after all the writers' messages", s)
}

// noBlock is the write deadline of writers that must not wait: far longer
// than their writes take on any machine, far shorter than a hang.
const noBlock = 30 * time.Second

// testSlotReaderStops: a writer does not wait for a reader that stopped
// reading: a writer in another process sends 3,000 messages while the
// reader reads the first 200 and then stops (on Unix, the writer's kicks
// come while a read is in progress, and must still be served after it).
func testSlotReaderStops(t *testing.T) {
	const count, size, first = 3000, 64, 200
	s, p, id := peerWriter(t, guarded)
	wrote := async(func() (reply, error) {
		r := p.do(request{Op: "slotWriteGen", ID: id, Count: count, Size: size, Seed: 12, Timeout: noBlock})
		return r, r.err()
	})
	l := newLedger(size, false, 12)
	readStamped(t, s, l, first, 0, 0)
	if r, err := get(t, wrote, "the peer's writes"); err != nil || r.Count != count {
		t.Fatalf("peer wrote %d of %d messages after the reader stopped: %v", r.Count, count, err)
	}
	readStamped(t, s, l, count-first, 0, 0)
	if err := l.complete(count); err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, "after reading everything", s)
}

// testSlotNoReader: a writer does not wait for the reader: with no read in
// progress, a writer in another process sends 1,000 messages (a write
// deadline turns a blocked write into an error), and all of them are then
// counted and read.
func testSlotNoReader(t *testing.T) {
	const count, size = 1000, 64
	s, p, id := peerWriter(t, guarded)
	if r := p.do(request{Op: "slotWriteGen", ID: id, Count: count, Size: size, Seed: 7, Vary: true, Timeout: noBlock}); r.Err != "" || r.Count != count {
		t.Fatalf("peer wrote %d of %d messages with nobody reading: %s", r.Count, count, r.Err)
	}
	wantInfo(t, "after the writes", s, mailslot.Info{MaxMessageSize: mailslot.MaxMessage, NextSize: stampSize(size, 0, true), Count: count, ReadTimeout: wait})
	l := newLedger(size, true, 7)
	readStamped(t, s, l, count, 0, 0)
	if err := l.complete(count); err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, "after reading everything", s)
}
