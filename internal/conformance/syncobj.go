package conformance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// TestSyncobj is the behavioural suite for the named sync objects
// (mutexes, events, semaphores, Wait and WaitAll): what the package
// documentation of syncobj promises, checked between real processes. The
// package's TestMain must call RunPeerIfAsked.
func TestSyncobj(t *testing.T) {
	privateNamespace(t)

	runGroups(t, []group{
		{"Mutex", mutexTests},
		{"Event", eventTests},
		{"Semaphore", semTests},
		{"Wait", waitTests},
		{"Context", syncCtxTests},
		{"Names", syncNameTests},
		{"Lifetime", syncLifetimeTests},
		{"NoBusyWait", noBusyWaitTests},
	})
}

// Time limits besides wait and settle. Both are far above what the
// emulation needs (it looks for dead owners every 100 ms); Wine and the
// race detector on two noisy cores are slow.
const (
	// abandonedWithin is how soon a waiter must hear that the owner of its
	// mutex died: "within a few seconds".
	abandonedWithin = 10 * time.Second
	// promptly bounds how long a wait may take to notice its context end
	// or its handle close.
	promptly = 5 * time.Second
)

// Mutexes.

var mutexTests = []subtest{
	{"Exclusion", testMutexExclusion},
	{"Recursion", testMutexRecursion},
	{"PerHandle", testMutexPerHandle},
	{"NotOwner", testMutexNotOwner},
	{"InitialOwner", testMutexInitialOwner},
	{"Existed", testMutexExisted},
	{"AbandonedByKill", testMutexAbandonedByKill},
	{"AbandonedNobodyWaiting", testMutexAbandonedNobodyWaiting},
	{"AbandonedByExit", testMutexAbandonedByExit},
	{"AbandonedByClose", testMutexAbandonedByClose},
	{"AbandonedByCloseHere", testMutexAbandonedByCloseHere},
}

// testMutexExclusion: two peer processes and this one, started together,
// each add 1 to a counter in shared memory many times, under the mutex, in
// two steps with a yield between them: the total is exact, so no two held
// it at once.
func testMutexExclusion(t *testing.T) {
	const each, off = 3000, 64
	name := syncName(t)
	m := createMutex(t, name, false)
	counter := createShm(t, shmName(t), 4096)
	ps := startPeers(t, 2)
	chs := make([]<-chan reply, len(ps))
	for i, p := range ps {
		id := p.syncMustOpen("mutexOpen", name)
		chs[i] = p.send(request{Op: "mutexCount", ID: id, Name: counter.Name(), Size: off, Count: each})
	}
	time.Sleep(settle)
	startRace(counter.Bytes()[off+8:])
	if err := countUnder(m, counter.Bytes()[off:off+8], each); err != nil {
		t.Errorf("counting here: %v", err)
	}
	for i, p := range ps {
		if err := p.await(chs[i], "mutexCount").err(); err != nil {
			t.Errorf("peer %d counting: %v", i, err)
		}
	}
	if got, want := binary.LittleEndian.Uint64(counter.Bytes()[off:]), uint64(3*each); got != want {
		t.Errorf("three processes each counted %d under the mutex: the counter is %d; want %d", each, got, want)
	}
}

// testMutexRecursion: the owning handle locks again without waiting; the
// mutex stays held until as many Unlocks, then goes to a waiter; one more
// Unlock is ErrNotOwner.
func testMutexRecursion(t *testing.T) {
	name := syncName(t)
	m := createMutex(t, name, false)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	for i := range 3 {
		lockCtx(t, fmt.Sprintf("Lock %d of the owner (a poll)", i+1), m, endedCtx())
	}
	ch := p.startWait(id)
	for i := range 2 {
		unlockMutex(t, m)
		time.Sleep(settle)
		wantNoReply(t, ch, fmt.Sprintf("peer Lock after %d of 3 Unlocks", i+1))
	}
	unlockMutex(t, m)
	if err := p.await(ch, "wait").err(); err != nil {
		t.Fatalf("peer Lock after the third Unlock of three Locks: %v", err)
	}
	wantErr(t, "a fourth Unlock of three Locks", m.Unlock(), errs.ErrNotOwner)
	p.syncMust("unlock", id)
}

// testMutexPerHandle: a mutex is owned by the handle that locked it, not
// by the process nor the goroutine: another handle in the same process
// waits like another process would, and may not unlock it; the owning
// handle locks and unlocks from any goroutine.
func testMutexPerHandle(t *testing.T) {
	name := syncName(t)
	h1 := createMutex(t, name, false)
	h2 := openMutex(t, name)
	lockMutex(t, h1)
	wantErr(t, "Lock (a poll) of a second handle while the first owns it", h2.Lock(endedCtx()), errs.ErrTimeout)
	wantErr(t, "Unlock of a second handle while the first owns it", h2.Unlock(), errs.ErrNotOwner)
	ch := asyncErr(func() error { return h2.Lock(boundedCtx(t)) })
	time.Sleep(settle)
	pending(t, ch, "Lock of a second handle while the first owns the mutex")

	// The owner's handle nests from another goroutine, and unlocks from this one.
	if _, err := get(t, asyncErr(func() error { return h1.Lock(endedCtx()) }), "Lock of the owning handle in another goroutine"); err != nil {
		t.Fatalf("Lock (a poll) of the owning handle in another goroutine: %v", err)
	}
	unlockMutex(t, h1)
	time.Sleep(settle)
	pending(t, ch, "Lock of a second handle after one of the owner's two Unlocks")
	unlockMutex(t, h1)
	if _, err := get(t, ch, "Lock of a second handle"); err != nil {
		t.Fatalf("Lock of a second handle after the first unlocked: %v", err)
	}
	wantErr(t, "Lock (a poll) of the first handle while the second owns the mutex", h1.Lock(endedCtx()), errs.ErrTimeout)
	wantErr(t, "Unlock of the first handle while the second owns the mutex", h1.Unlock(), errs.ErrNotOwner)
	unlockMutex(t, h2)
}

// testMutexNotOwner: Unlock by any handle that does not own the mutex is
// ErrNotOwner (ERROR_NOT_OWNER) and changes nothing: of a free mutex, and
// of one that another process owns, in either direction.
func testMutexNotOwner(t *testing.T) {
	name := syncName(t)
	m := createMutex(t, name, false)
	err := m.Unlock()
	wantErr(t, "Unlock of a free mutex", err, errs.ErrNotOwner)
	wantOpError(t, "Unlock's error", err, "unlock", "mutex", `Local\`+name)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	wantErr(t, "peer Unlock of a free mutex", p.syncDo("unlock", id), errs.ErrNotOwner)

	p.syncMust("wait", id)
	wantErr(t, "Unlock here while the peer owns the mutex", m.Unlock(), errs.ErrNotOwner)
	wantErr(t, "Lock (a poll) here after that Unlock", m.Lock(endedCtx()), errs.ErrTimeout)
	p.syncMust("unlock", id)

	lockMutex(t, m)
	wantErr(t, "peer Unlock while this process owns the mutex", p.syncDo("unlock", id), errs.ErrNotOwner)
	wantErr(t, "peer Lock (a poll) after that Unlock", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, m)
}

// testMutexInitialOwner: CreateMutex with initialOwner makes a new mutex
// owned by the returned handle; of an existing mutex, it is ignored.
func testMutexInitialOwner(t *testing.T) {
	name, name2 := syncName(t), syncName(t) // before the peer starts, so checked after it ends
	m := createMutex(t, name, true)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	wantErr(t, "peer Lock (a poll) of a mutex created with initialOwner", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, m)
	wantErr(t, "a second Unlock of the initial owner", m.Unlock(), errs.ErrNotOwner)
	if err := p.syncWait(id, -1); err != nil {
		t.Fatalf("peer Lock (a poll) after the initial owner unlocked: %v", err)
	}

	// The peer owns it now: initialOwner of an existing mutex gives nothing.
	again := createMutex(t, name, true)
	if !again.Existed() {
		t.Errorf("CreateMutex(%q, true) of an existing mutex: Existed() = false", name)
	}
	wantErr(t, "Unlock of a handle from CreateMutex(initialOwner) of an existing mutex", again.Unlock(), errs.ErrNotOwner)
	wantErr(t, "its Lock (a poll) while the peer owns the mutex", again.Lock(endedCtx()), errs.ErrTimeout)
	p.syncMust("unlock", id)

	// The peer creates one with initialOwner.
	pid, existed := p.mutexCreate(name2, true)
	if existed {
		t.Errorf("peer CreateMutex(%q, true) of a new name: Existed() = true", name2)
	}
	m2 := openMutex(t, name2)
	wantErr(t, "Lock (a poll) of the peer's mutex created with initialOwner", m2.Lock(endedCtx()), errs.ErrTimeout)
	p.syncMust("unlock", pid)
	lockCtx(t, "Lock (a poll) after the peer unlocked", m2, endedCtx())
	unlockMutex(t, m2)
}

// testMutexExisted: Create of an existing name opens it and says so
// (ERROR_ALREADY_EXISTS), here and in another process; the new name's
// Create does not.
func testMutexExisted(t *testing.T) {
	name := syncName(t)
	m := createMutex(t, name, false)
	if m.Existed() {
		t.Errorf("CreateMutex(%q) of a new name: Existed() = true", name)
	}
	again := createMutex(t, name, false)
	if !again.Existed() {
		t.Errorf("CreateMutex(%q) of an existing mutex: Existed() = false", name)
	}
	p := startPeer(t)
	id, existed := p.mutexCreate(name, false)
	if !existed {
		t.Errorf("peer CreateMutex(%q) of an existing mutex: Existed() = false", name)
	}
	// One mutex behind the three handles.
	lockMutex(t, again)
	wantErr(t, "Lock (a poll) of the first handle while the second owns it", m.Lock(endedCtx()), errs.ErrTimeout)
	wantErr(t, "peer Lock (a poll) while the second handle here owns it", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, again)
}

// testMutexAbandonedByKill: a peer holding the mutex is killed (SIGKILL,
// TerminateProcess) while this process waits for it: the wait ends within
// a few seconds with the mutex owned and ErrAbandoned (WAIT_ABANDONED);
// after that it is an ordinary mutex again.
func testMutexAbandonedByKill(t *testing.T) {
	name, m, p, _ := peerOwnsMutex(t)
	ch := lockWaits(t, m)
	start := time.Now()
	p.kill()
	_, err := get(t, ch, "Lock of a mutex whose owner was killed")
	wantErr(t, "Lock of a mutex whose owner was killed", err, errs.ErrAbandoned)
	if d := time.Since(start); d > abandonedWithin {
		t.Errorf("Lock noticed the owner's death after %v; want within %v", d, abandonedWithin)
	}
	wantOwnedThenNormal(t, name, m)
}

// testMutexAbandonedNobodyWaiting: the owner is killed with nobody
// waiting; the next Lock gets ErrAbandoned, once.
func testMutexAbandonedNobodyWaiting(t *testing.T) {
	name, m, p, _ := peerOwnsMutex(t)
	p.kill()
	wantErr(t, "Lock of a mutex whose owner was killed", m.Lock(boundedCtx(t)), errs.ErrAbandoned)
	wantOwnedThenNormal(t, name, m)
}

// testMutexAbandonedByExit: a process that exits holding the mutex,
// without unlocking or closing, abandons it as a killed one does.
func testMutexAbandonedByExit(t *testing.T) {
	name, m, p, _ := peerOwnsMutex(t)
	ch := lockWaits(t, m)
	p.exit()
	_, err := get(t, ch, "Lock of a mutex whose owner exited")
	wantErr(t, "Lock of a mutex whose owner exited holding it", err, errs.ErrAbandoned)
	wantOwnedThenNormal(t, name, m)
}

// testMutexAbandonedByClose: the owner closes its handle while holding the
// mutex: the waiter gets it with ErrAbandoned.
func testMutexAbandonedByClose(t *testing.T) {
	name, m, p, id := peerOwnsMutex(t)
	ch := lockWaits(t, m)
	p.close(id)
	_, err := get(t, ch, "Lock of a mutex whose owner closed its handle")
	wantErr(t, "Lock of a mutex whose owner closed its handle holding it", err, errs.ErrAbandoned)
	wantOwnedThenNormal(t, name, m)
}

// testMutexAbandonedByCloseHere: the same with both handles in this
// process and nobody waiting at the close; the owner had nested locks.
func testMutexAbandonedByCloseHere(t *testing.T) {
	name := syncName(t)
	m := createMutex(t, name, false)
	owner := openMutex(t, name)
	lockMutex(t, owner)
	lockMutex(t, owner)
	closeSync(t, owner)
	wantErr(t, "Lock of a mutex whose owner closed its handle holding it", m.Lock(boundedCtx(t)), errs.ErrAbandoned)
	wantOwnedThenNormal(t, name, m)
}

// wantOwnedThenNormal checks a mutex that m has just taken with
// ErrAbandoned: m owns it (once: one Unlock frees it), and from then on
// Locks, here and in another process, succeed without ErrAbandoned.
func wantOwnedThenNormal(t *testing.T, name string, m *syncobj.Mutex) {
	t.Helper()
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	wantErr(t, "peer Lock (a poll) while the abandoned mutex's new owner holds it", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, m)
	wantErr(t, "a second Unlock after taking an abandoned mutex", m.Unlock(), errs.ErrNotOwner)
	lockCtx(t, "Lock after the abandoned mutex was taken and unlocked", m, boundedCtx(t))
	unlockMutex(t, m)
	if err := p.syncWait(id, 0); err != nil {
		t.Errorf("peer Lock after the abandoned mutex was taken and unlocked: %v; want nil", err)
	}
	p.syncMust("unlock", id)
}

// Events.

var eventTests = []subtest{
	{"ManualWakesAll", testEventManualWakesAll},
	{"AutoWakesOne", testEventAutoWakesOne},
	{"InitialState", testEventInitialState},
	{"SetIsNotCounted", testEventSetIsNotCounted},
	{"Existed", testEventExisted},
}

// testEventManualWakesAll: Set of a manual-reset event releases every
// waiter, in several processes and in this one, and the event stays set
// until Reset.
func testEventManualWakesAll(t *testing.T) {
	name := syncName(t)
	e := createEvent(t, name, true, false)
	ps := startPeers(t, 3)
	ids := make([]int, len(ps))
	chs := make([]<-chan reply, len(ps))
	for i, p := range ps {
		ids[i] = p.syncMustOpen("eventOpen", name)
		chs[i] = p.startWait(ids[i])
	}
	here := asyncErr(func() error { return e.Wait(boundedCtx(t)) })
	time.Sleep(settle)
	for i := range ps {
		wantNoReply(t, chs[i], fmt.Sprintf("peer %d Wait before Set", i))
	}
	pending(t, here, "Wait before Set")

	setEvent(t, e)
	for i, p := range ps {
		if err := p.await(chs[i], "wait").err(); err != nil {
			t.Errorf("peer %d Wait after Set: %v", i, err)
		}
	}
	if _, err := get(t, here, "Wait"); err != nil {
		t.Errorf("Wait after Set: %v", err)
	}
	wantSignalled(t, "a manual-reset event after releasing its waiters", e)
	wantSignalled(t, "a manual-reset event, again", e)
	if err := ps[0].syncWait(ids[0], -1); err != nil {
		t.Errorf("peer Wait (a poll) of the set event: %v", err)
	}
	ps[1].syncMust("reset", ids[1])
	wantUnsignalled(t, "a manual-reset event after the peer's Reset", e)
	wantErr(t, "peer Wait (a poll) after Reset", ps[2].syncWait(ids[2], -1), errs.ErrTimeout)
}

// testEventAutoWakesOne: each Set of an auto-reset event releases exactly
// one of the waiting processes and leaves the event reset; a peer's Set
// releases a waiter here.
func testEventAutoWakesOne(t *testing.T) {
	name := syncName(t)
	e := createEvent(t, name, false, false)
	ps := startPeers(t, 3)
	ids := make([]int, len(ps))
	chs := make([]<-chan reply, len(ps))
	for i, p := range ps {
		ids[i] = p.syncMustOpen("eventOpen", name)
		chs[i] = p.startWait(ids[i])
	}
	time.Sleep(settle)
	done := make([]bool, len(ps))
	for round := range ps {
		for i := range ps {
			if !done[i] {
				wantNoReply(t, chs[i], fmt.Sprintf("peer %d Wait before Set %d", i, round+1))
			}
		}
		setEvent(t, e)
		i, r := nextReply(t, chs, done, fmt.Sprintf("Set %d of an auto-reset event with %d waiters", round+1, len(ps)-round))
		if err := r.err(); err != nil {
			t.Errorf("peer %d Wait after Set %d: %v", i, round+1, err)
		}
		time.Sleep(settle)
		for j := range ps {
			if !done[j] {
				wantNoReply(t, chs[j], fmt.Sprintf("peer %d Wait after Set %d released peer %d", j, round+1, i))
			}
		}
	}
	wantUnsignalled(t, "an auto-reset event after each Set released a waiter", e)

	here := asyncErr(func() error { return e.Wait(boundedCtx(t)) })
	time.Sleep(settle)
	pending(t, here, "Wait here before the peer's Set")
	ps[0].syncMust("set", ids[0])
	if _, err := get(t, here, "Wait"); err != nil {
		t.Errorf("Wait here after the peer's Set: %v", err)
	}
	wantUnsignalled(t, "an auto-reset event after its Set released the waiter here", e)
}

// testEventInitialState: initialState makes the event start set, of either
// kind, for every process; without it the event starts reset.
func testEventInitialState(t *testing.T) {
	names := []string{syncName(t), syncName(t), syncName(t), syncName(t)} // before the peer starts
	p := startPeer(t)
	for _, manual := range []bool{true, false} {
		for _, initial := range []bool{true, false} {
			what := fmt.Sprintf("CreateEvent(manualReset %v, initialState %v)", manual, initial)
			name := names[0]
			names = names[1:]
			e := createEvent(t, name, manual, initial)
			id := p.syncMustOpen("eventOpen", name)
			err := p.syncWait(id, -1)
			if initial && err != nil {
				t.Errorf("%s: peer Wait (a poll): %v; want it set", what, err)
			}
			if !initial {
				wantErr(t, what+": peer Wait (a poll)", err, errs.ErrTimeout)
			}
			if initial && manual {
				wantSignalled(t, what+" after the peer's Wait", e)
			} else {
				wantUnsignalled(t, what+" after the peer's Wait", e)
			}
		}
	}
}

// testEventSetIsNotCounted: an event is not a counter: a second Set of a
// set event changes nothing, and one Reset undoes two Sets.
func testEventSetIsNotCounted(t *testing.T) {
	auto := createEvent(t, syncName(t), false, false)
	setEvent(t, auto)
	setEvent(t, auto)
	wantSignalled(t, "an auto-reset event set twice", auto)
	wantUnsignalled(t, "an auto-reset event set twice, after one Wait", auto)

	manual := createEvent(t, syncName(t), true, false)
	setEvent(t, manual)
	setEvent(t, manual)
	resetEvent(t, manual)
	wantUnsignalled(t, "a manual-reset event set twice and reset once", manual)
	resetEvent(t, manual)
	wantUnsignalled(t, "a manual-reset event reset twice", manual)
}

// testEventExisted: CreateEvent of an existing event opens it, says so,
// and ignores its parameters (kind and state), here and in another
// process.
func testEventExisted(t *testing.T) {
	name := syncName(t)
	e := createEvent(t, name, true, false)
	if e.Existed() {
		t.Errorf("CreateEvent(%q) of a new name: Existed() = true", name)
	}
	again := createEvent(t, name, false, true)
	if !again.Existed() {
		t.Errorf("CreateEvent(%q, auto, set) of an existing event: Existed() = false", name)
	}
	wantUnsignalled(t, "an existing reset event after CreateEvent(initialState true)", again)
	p := startPeer(t)
	id, existed := p.eventCreate(name, false, true)
	if !existed {
		t.Errorf("peer CreateEvent(%q) of an existing event: Existed() = false", name)
	}
	wantErr(t, "peer Wait (a poll) of the existing reset event", p.syncWait(id, -1), errs.ErrTimeout)
	setEvent(t, again)
	// Still manual-reset: every Wait passes until Reset.
	wantSignalled(t, "the existing manual-reset event set through the second handle", e)
	wantSignalled(t, "the existing manual-reset event, again", again)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Wait (a poll) of the set event: %v", err)
	}
}

// Semaphores.

var semTests = []subtest{
	{"Count", testSemCount},
	{"InitialCount", testSemInitialCount},
	{"TooManyPosts", testSemTooManyPosts},
	{"LargestMax", testSemLargestMax},
	{"BadCounts", testSemBadCounts},
	{"Existed", testSemExisted},
}

// testSemCount: a semaphore with N permits lets N waiters of other
// processes through and holds the next until a Release.
func testSemCount(t *testing.T) {
	const permits = 3
	name := syncName(t)
	s := createSemaphore(t, name, permits, 10)
	ps := startPeers(t, 2)
	var chs []<-chan reply
	for _, p := range ps {
		id := p.syncMustOpen("semOpen", name)
		chs = append(chs, p.startWait(id), p.startWait(id))
	}
	done := make([]bool, len(chs))
	for n := range permits {
		if _, r := nextReply(t, chs, done, fmt.Sprintf("permit %d of %d", n+1, permits)); r.err() != nil {
			t.Errorf("peer Wait %d of a semaphore with %d permits: %v", n+1, permits, r.err())
		}
	}
	time.Sleep(settle)
	last := -1
	for i := range chs {
		if !done[i] {
			last = i
			wantNoReply(t, chs[i], fmt.Sprintf("Wait %d on a semaphore with %d permits", permits+1, permits))
		}
	}
	if prev := releaseSem(t, s, 1); prev != 0 {
		t.Errorf("Release(1) after %d waiters took %d permits: previous count %d; want 0", permits, permits, prev)
	}
	if err := ps[last/2].await(chs[last], "wait").err(); err != nil {
		t.Errorf("peer Wait after the Release: %v", err)
	}
	wantUnsignalled(t, "the semaphore after every permit was taken", s)
}

// testSemInitialCount: the initial count is the number of Waits that pass
// at once; Release returns the count before it.
func testSemInitialCount(t *testing.T) {
	s := createSemaphore(t, syncName(t), 2, 5)
	if n := semCount(t, s); n != 2 {
		t.Errorf("CreateSemaphore(initial 2): %d Waits pass; want 2", n)
	}
	if prev := releaseSem(t, s, 2); prev != 2 {
		t.Errorf("Release(2) of a count of 2: previous count %d", prev)
	}
	if prev := releaseSem(t, s, 1); prev != 4 {
		t.Errorf("Release(1) of a count of 4: previous count %d", prev)
	}
	if n := semCount(t, s); n != 5 {
		t.Errorf("after Releases of 2 and 1 on a count of 2: %d Waits pass; want 5", n)
	}
}

// testSemTooManyPosts: a Release past the maximum fails with
// ErrTooManyPosts (ERROR_TOO_MANY_POSTS) and leaves the count as it was,
// here and in another process; Release of less than 1 is
// ErrInvalidParameter.
func testSemTooManyPosts(t *testing.T) {
	name := syncName(t)
	s := createSemaphore(t, name, 2, 3)
	_, err := s.Release(2)
	wantErr(t, "Release(2) of a count of 2, max 3", err, errs.ErrTooManyPosts)
	wantOpError(t, "Release's error", err, "release", "semaphore", `Local\`+name)
	if prev := releaseSem(t, s, 1); prev != 2 {
		t.Errorf("Release(1) after a failed Release(2): previous count %d; want 2, unchanged", prev)
	}
	_, err = s.Release(1)
	wantErr(t, "Release(1) of a count at its max", err, errs.ErrTooManyPosts)
	p := startPeer(t)
	id := p.syncMustOpen("semOpen", name)
	_, err = p.release(id, 1)
	wantErr(t, "peer Release(1) of a count at its max", err, errs.ErrTooManyPosts)
	for _, n := range []int{0, -1} {
		_, err = s.Release(n)
		wantErr(t, fmt.Sprintf("Release(%d)", n), err, errs.ErrInvalidParameter)
	}
	if n := semCount(t, s); n != 3 {
		t.Errorf("after the failed Releases: %d Waits pass; want 3", n)
	}
}

// testSemLargestMax: the largest maximum is LONG_MAX (2^31-1), and the
// count reaches it.
func testSemLargestMax(t *testing.T) {
	const most = 1<<31 - 1
	s := createSemaphore(t, syncName(t), most, most)
	_, err := s.Release(1)
	wantErr(t, "Release(1) of a count of 2^31-1 at its max", err, errs.ErrTooManyPosts)
	wantSignalled(t, "a semaphore with a count of 2^31-1", s)
	if prev := releaseSem(t, s, 1); prev != most-1 {
		t.Errorf("Release(1) after one Wait on a count of 2^31-1: previous count %d; want %d", prev, most-1)
	}
}

// testSemBadCounts: counts outside 0 <= initial <= max, 1 <= max <=
// 2^31-1 are ErrInvalidParameter and create nothing.
func testSemBadCounts(t *testing.T) {
	for _, c := range []struct{ initial, max int }{
		{0, 0}, {1, 0}, {-1, 1}, {2, 1}, {0, -1}, {0, 1 << 31}, {1 << 31, 1 << 31}, {-1, -1},
	} {
		for _, name := range []string{syncName(t), ""} {
			s, err := syncobj.CreateSemaphore(name, c.initial, c.max, nil)
			wantErr(t, fmt.Sprintf("CreateSemaphore(%q, %d, %d)", name, c.initial, c.max), err, errs.ErrInvalidParameter)
			if s != nil {
				t.Errorf("CreateSemaphore(%d, %d) returned a semaphore with its error", c.initial, c.max)
				closeSync(t, s)
			}
			if name != "" {
				wantSyncGone(t, name)
			}
		}
	}
}

// testSemExisted: CreateSemaphore of an existing semaphore opens it, says
// so and ignores the counts given, here and in another process.
func testSemExisted(t *testing.T) {
	name := syncName(t)
	s := createSemaphore(t, name, 1, 5)
	if s.Existed() {
		t.Errorf("CreateSemaphore(%q) of a new name: Existed() = true", name)
	}
	again := createSemaphore(t, name, 0, 1)
	if !again.Existed() {
		t.Errorf("CreateSemaphore(%q, 0, 1) of an existing semaphore: Existed() = false", name)
	}
	p := startPeer(t)
	id, existed := p.semCreate(name, 3, 3)
	if !existed {
		t.Errorf("peer CreateSemaphore(%q) of an existing semaphore: Existed() = false", name)
	}
	if prev, err := p.release(id, 4); err != nil || prev != 1 {
		t.Errorf("peer Release(4) of the existing count 1, max 5: (%d, %v); want (1, nil)", prev, err)
	}
	_, err := again.Release(1)
	wantErr(t, "Release(1) of the existing semaphore at its max 5", err, errs.ErrTooManyPosts)
	if n := semCount(t, again); n != 5 {
		t.Errorf("%d Waits pass; want 5", n)
	}
}

// Wait and WaitAll.

var waitTests = []subtest{
	{"LowestIndex", testWaitLowestIndex},
	{"MixedTypes", testWaitMixedTypes},
	{"WakesOnAny", testWaitWakesOnAny},
	{"AllOrNone", testWaitAllOrNone},
	{"AllTakesAll", testWaitAllTakesAll},
	{"AllHoldsNoneWhileWaiting", testWaitAllHoldsNoneWhileWaiting},
	{"AllDuplicates", testWaitAllDuplicates},
	{"AllAcrossProcesses", testWaitAllAcrossProcesses},
	{"Counts", testWaitCounts},
	{"Abandoned", testWaitAbandoned},
	{"AllAbandoned", testWaitAllAbandoned},
}

// testWaitLowestIndex: Wait returns the lowest index among the signalled
// objects, and takes only that one.
func testWaitLowestIndex(t *testing.T) {
	ctx := boundedCtx(t)
	m := []*syncobj.Event{
		createEvent(t, syncName(t), true, false),
		createEvent(t, syncName(t), true, true),
		createEvent(t, syncName(t), true, true),
	}
	wantIndex(t, "Wait(reset, set, set) of manual-reset events", ctx, 1, m[0], m[1], m[2])
	wantIndex(t, "the same Wait again", ctx, 1, m[0], m[1], m[2])
	setEvent(t, m[0])
	wantIndex(t, "Wait(set, set, set)", ctx, 0, m[0], m[1], m[2])
	resetEvent(t, m[0])
	resetEvent(t, m[1])
	wantIndex(t, "Wait(reset, reset, set)", ctx, 2, m[0], m[1], m[2])

	a := []*syncobj.Event{
		createEvent(t, syncName(t), false, false),
		createEvent(t, syncName(t), false, true),
		createEvent(t, syncName(t), false, true),
	}
	wantIndex(t, "Wait(reset, set, set) of auto-reset events", ctx, 1, a[0], a[1], a[2])
	wantIndex(t, "the same Wait again: the one it released is reset", ctx, 2, a[0], a[1], a[2])
	_, err := syncobj.Wait(endedCtx(), a[0], a[1], a[2])
	wantErr(t, "Wait (a poll) after each set event was taken", err, errs.ErrTimeout)
}

// testWaitMixedTypes: Wait over a mutex, a semaphore and an event takes
// the first available: a mutex another process owns is not.
func testWaitMixedTypes(t *testing.T) {
	ctx := boundedCtx(t)
	mname := syncName(t)
	m := createMutex(t, mname, false)
	s := createSemaphore(t, syncName(t), 1, 1)
	e := createEvent(t, syncName(t), true, true)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", mname)
	p.syncMust("wait", id)
	wantIndex(t, "Wait(mutex the peer owns, semaphore 1, set event)", ctx, 1, m, s, e)
	wantIndex(t, "Wait(mutex the peer owns, semaphore 0, set event)", ctx, 2, m, s, e)
	p.syncMust("unlock", id)
	wantIndex(t, "Wait(free mutex, semaphore 0, set event)", ctx, 0, m, s, e)
	wantErr(t, "peer Lock (a poll) after Wait took the mutex", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, m)
}

// testWaitWakesOnAny: a blocked Wait wakes when another process signals
// any of its objects, and reports that one.
func testWaitWakesOnAny(t *testing.T) {
	names := []string{syncName(t), syncName(t), syncName(t)}
	es := make([]syncobj.Object, len(names))
	for i, n := range names {
		es[i] = createEvent(t, n, false, false)
	}
	p := startPeer(t)
	for _, i := range []int{2, 0, 1} {
		id := p.syncMustOpen("eventOpen", names[i])
		ch := async(func() (int, error) { return syncobj.Wait(boundedCtx(t), es...) })
		time.Sleep(settle)
		pending(t, ch, "Wait of three reset events")
		p.syncMust("set", id)
		got, err := get(t, ch, "Wait")
		if err != nil || got != i {
			t.Errorf("Wait after the peer set event %d: (%d, %v); want (%d, nil)", i, got, err, i)
		}
	}
}

// testWaitAllOrNone: WaitAll that cannot have every object takes none of
// them: not a semaphore's count, an auto-reset event's state nor a free
// mutex.
func testWaitAllOrNone(t *testing.T) {
	mname := syncName(t)
	m := createMutex(t, mname, false)
	s := createSemaphore(t, syncName(t), 1, 1)
	empty := createSemaphore(t, syncName(t), 0, 1)
	auto := createEvent(t, syncName(t), false, true)
	unset := createEvent(t, syncName(t), true, false)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", mname)

	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), settle)
		t.Cleanup(cancel)
		return ctx
	}
	err := syncobj.WaitAll(short(), s, auto, m, unset)
	wantErr(t, "WaitAll(semaphore 1, set auto-reset event, free mutex, reset event)", err, errs.ErrTimeout)
	if n := semCount(t, s); n != 1 {
		t.Errorf("the semaphore after a WaitAll that timed out: count %d; want 1, untouched", n)
	}
	wantSignalled(t, "the auto-reset event after a WaitAll that timed out", auto)
	setEvent(t, auto)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Lock (a poll) of the mutex after a WaitAll here timed out: %v; want it free", err)
	}

	// The peer owns the mutex: the others stay put with a poll too.
	err = syncobj.WaitAll(endedCtx(), s, auto, m)
	wantErr(t, "WaitAll (a poll) of semaphore 1, set auto-reset event, a mutex the peer owns", err, errs.ErrTimeout)
	if n := semCount(t, s); n != 1 {
		t.Errorf("the semaphore after a WaitAll poll failed: count %d; want 1, untouched", n)
	}
	wantSignalled(t, "the auto-reset event after a WaitAll poll failed", auto)
	p.syncMust("unlock", id)
	err = syncobj.WaitAll(endedCtx(), m, empty)
	wantErr(t, "WaitAll (a poll) of a free mutex and an empty semaphore", err, errs.ErrTimeout)
	wantErr(t, "Unlock after that WaitAll", m.Unlock(), errs.ErrNotOwner)
}

// testWaitAllTakesAll: WaitAll of available objects takes every one: the
// mutex is owned, the semaphore decremented, the auto-reset event reset,
// the manual-reset event left set.
func testWaitAllTakesAll(t *testing.T) {
	mname := syncName(t)
	m := createMutex(t, mname, false)
	s := createSemaphore(t, syncName(t), 2, 2)
	auto := createEvent(t, syncName(t), false, true)
	manual := createEvent(t, syncName(t), true, true)
	if err := syncobj.WaitAll(boundedCtx(t), auto, s, manual, m); err != nil {
		t.Fatalf("WaitAll of available objects: %v", err)
	}
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", mname)
	wantErr(t, "peer Lock (a poll) after WaitAll took the mutex", p.syncWait(id, -1), errs.ErrTimeout)
	unlockMutex(t, m)
	if n := semCount(t, s); n != 1 {
		t.Errorf("the semaphore after WaitAll: count %d; want 1", n)
	}
	wantUnsignalled(t, "the auto-reset event after WaitAll", auto)
	wantSignalled(t, "the manual-reset event after WaitAll", manual)
}

// testWaitAllHoldsNoneWhileWaiting: a blocked WaitAll holds none of the
// objects that are available: another process takes one meanwhile; when
// all are available at once, WaitAll takes them together.
func testWaitAllHoldsNoneWhileWaiting(t *testing.T) {
	sname, ename := syncName(t), syncName(t)
	s := createSemaphore(t, sname, 0, 1)
	e := createEvent(t, ename, false, false)
	p := startPeer(t)
	sid := p.syncMustOpen("semOpen", sname)
	eid := p.syncMustOpen("eventOpen", ename)
	ch := asyncErr(func() error { return syncobj.WaitAll(boundedCtx(t), s, e) })
	time.Sleep(settle)
	pending(t, ch, "WaitAll of an empty semaphore and a reset event")
	releaseSem(t, s, 1)
	time.Sleep(settle)
	pending(t, ch, "WaitAll after only the semaphore was released")
	if err := p.syncWait(sid, -1); err != nil {
		t.Fatalf("peer Wait (a poll) of the semaphore a WaitAll here waits for: %v; want the permit free to take", err)
	}
	p.syncMust("set", eid)
	time.Sleep(settle)
	pending(t, ch, "WaitAll after the event was set but the semaphore taken")
	if _, err := p.release(sid, 1); err != nil {
		t.Fatalf("peer Release: %v", err)
	}
	if _, err := get(t, ch, "WaitAll"); err != nil {
		t.Fatalf("WaitAll after both were available: %v", err)
	}
	wantUnsignalled(t, "the semaphore after WaitAll", s)
	wantUnsignalled(t, "the auto-reset event after WaitAll", e)
}

// testWaitAllDuplicates: WaitAll of one object twice, through one handle
// or two (its creator's and an opener's), is ErrInvalidParameter and takes
// nothing; Wait may name it twice.
func testWaitAllDuplicates(t *testing.T) {
	// A WaitAll that hangs here holds the semaphore's internal lock for
	// good: then the handles stay open and the name is not swept, as
	// touching them would hang the test too.
	name := uniqueName(t)
	s, err := syncobj.CreateSemaphore(name, 2, 2, nil)
	if err != nil {
		t.Fatalf("CreateSemaphore: %v", err)
	}
	s2, err := syncobj.OpenSemaphore(name)
	if err != nil {
		t.Fatalf("OpenSemaphore: %v", err)
	}
	for _, c := range []struct {
		what string
		objs []syncobj.Object
	}{
		{"WaitAll of one semaphore handle twice", []syncobj.Object{s, s}},
		{"WaitAll of one semaphore through its creator's and an opener's handles", []syncobj.Object{s, s2}},
		{"WaitAll of one semaphore through an opener's and its creator's handles", []syncobj.Object{s2, s}},
	} {
		// A bug here tends to deadlock WaitAll with itself.
		_, err := getWithin(t, asyncErr(func() error { return syncobj.WaitAll(boundedCtx(t), c.objs...) }), promptly, c.what)
		wantErr(t, c.what, err, errs.ErrInvalidParameter)
	}
	if n := semCount(t, s); n != 2 {
		t.Errorf("the semaphore after the refused WaitAlls: count %d; want 2", n)
	}
	wantIndex(t, "Wait of one semaphore twice", boundedCtx(t), 0, s, s2)
	if n := semCount(t, s); n != 1 {
		t.Errorf("the semaphore after one Wait: count %d; want 1", n)
	}
	closeSync(t, s2)
	closeSync(t, s)
	wantSyncGone(t, name)
}

// testWaitAllAcrossProcesses: two processes calling WaitAll of the same
// two objects over and over at once, each through one handle it created
// and one it opened, never deadlock each other.
func testWaitAllAcrossProcesses(t *testing.T) {
	const n = 5000
	// A deadlock here holds the objects' internal locks for good: then the
	// handles stay open and the names are not swept (see
	// testWaitAllDuplicates). The peer ends with the test.
	xname, yname := uniqueName(t), uniqueName(t)
	x, err := syncobj.CreateEvent(xname, true, true, nil)
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	p := startPeer(t)
	yid, _ := p.eventCreate(yname, true, true)
	xid := p.syncMustOpen("eventOpen", xname)
	y, err := syncobj.OpenEvent(yname)
	if err != nil {
		t.Fatalf("OpenEvent: %v", err)
	}
	ch := p.send(request{Op: "waitAllLoop", ID: xid, Size: yid, Count: n})
	objs := []syncobj.Object{x, y}
	if _, err := getWithin(t, asyncErr(func() error { return waitAllLoop(objs, n) }), wait, fmt.Sprintf("%d WaitAlls here while a peer does as many", n)); err != nil {
		t.Errorf("WaitAll here: %v", err)
	}
	select {
	case r := <-ch:
		if err := r.err(); err != nil {
			t.Errorf("peer WaitAll: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("the peer's %d WaitAlls did not end within %v: they hang", n, wait)
	}
	closeSync(t, y)
	closeSync(t, x)
}

// testWaitCounts: Wait and WaitAll take 1 to 64 objects
// (MAXIMUM_WAIT_OBJECTS); none, 65 or a nil one is ErrInvalidParameter.
func testWaitCounts(t *testing.T) {
	if syncobj.MaxWait != 64 {
		t.Errorf("MaxWait = %d; want 64", syncobj.MaxWait)
	}
	objs := make([]syncobj.Object, 65)
	for i := range objs {
		objs[i] = createEvent(t, "", false, false)
	}
	_, err := syncobj.Wait(boundedCtx(t))
	wantErr(t, "Wait of no objects", err, errs.ErrInvalidParameter)
	wantErr(t, "WaitAll of no objects", syncobj.WaitAll(boundedCtx(t)), errs.ErrInvalidParameter)
	_, err = syncobj.Wait(boundedCtx(t), objs...)
	wantErr(t, "Wait of 65 objects", err, errs.ErrInvalidParameter)
	wantErr(t, "WaitAll of 65 objects", syncobj.WaitAll(boundedCtx(t), objs...), errs.ErrInvalidParameter)
	_, err = syncobj.Wait(boundedCtx(t), objs[0], nil)
	wantErr(t, "Wait of a nil object", err, errs.ErrInvalidParameter)
	wantErr(t, "WaitAll of a nil object", syncobj.WaitAll(boundedCtx(t), nil, objs[0]), errs.ErrInvalidParameter)

	most := objs[:64]
	setEvent(t, most[63].(*syncobj.Event))
	wantIndex(t, "Wait of 64 events, the last one set", boundedCtx(t), 63, most...)
	for _, o := range objs {
		setEvent(t, o.(*syncobj.Event))
	}
	if err := syncobj.WaitAll(boundedCtx(t), most...); err != nil {
		t.Fatalf("WaitAll of 64 set events: %v", err)
	}
	_, err = syncobj.Wait(endedCtx(), most...)
	wantErr(t, "Wait (a poll) of the 64 auto-reset events WaitAll took", err, errs.ErrTimeout)
	wantSignalled(t, "the 65th event, which no call took", objs[64])
}

// testWaitAbandoned: a mutex whose owner was killed ends a Wait on it with
// its index and ErrAbandoned; the waiter owns it.
func testWaitAbandoned(t *testing.T) {
	name := syncName(t)
	e := createEvent(t, syncName(t), true, false)
	m := createMutex(t, name, false)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	p.syncMust("wait", id)
	ch := async(func() (int, error) { return syncobj.Wait(boundedCtx(t), e, m) })
	time.Sleep(settle)
	pending(t, ch, "Wait(reset event, mutex the peer owns)")
	start := time.Now()
	p.kill()
	i, err := get(t, ch, "Wait of a mutex whose owner was killed")
	wantErr(t, "Wait(reset event, mutex whose owner was killed)", err, errs.ErrAbandoned)
	if i != 1 {
		t.Errorf("Wait(reset event, mutex whose owner was killed) = %d; want 1, the mutex", i)
	}
	if d := time.Since(start); d > abandonedWithin {
		t.Errorf("Wait noticed the owner's death after %v; want within %v", d, abandonedWithin)
	}
	wantOwnedThenNormal(t, name, m)
}

// testWaitAllAbandoned: WaitAll that takes an abandoned mutex with other
// objects takes them all and reports ErrAbandoned.
func testWaitAllAbandoned(t *testing.T) {
	name := syncName(t)
	s := createSemaphore(t, syncName(t), 1, 1)
	m := createMutex(t, name, false)
	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", name)
	p.syncMust("wait", id)
	p.kill()
	wantErr(t, "WaitAll(semaphore 1, mutex whose owner was killed)", syncobj.WaitAll(boundedCtx(t), s, m), errs.ErrAbandoned)
	wantUnsignalled(t, "the semaphore after WaitAll took it with the abandoned mutex", s)
	wantOwnedThenNormal(t, name, m)
}

// Contexts: a wait tries first, then waits until its context ends.

var syncCtxTests = []subtest{
	{"Poll", testSyncPoll},
	{"Deadline", testSyncDeadline},
	{"Cancel", testSyncCancel},
	{"CloseDuringWait", testSyncCloseDuringWait},
	{"UseAfterClose", testSyncUseAfterClose},
}

// testSyncPoll: a context that has ended already polls: the wait takes
// what is available and fails at once (ErrTimeout and the context's
// error) when nothing is.
func testSyncPoll(t *testing.T) {
	mname := syncName(t)
	m := createMutex(t, mname, false)
	e := createEvent(t, syncName(t), false, false)
	s := createSemaphore(t, syncName(t), 0, 1)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		what string
		errs []error
	}{
		{endedCtx(), "past its deadline", []error{errs.ErrTimeout, context.DeadlineExceeded}},
		{cancelled, "cancelled", []error{context.Canceled}},
	} {
		setEvent(t, e)
		releaseSem(t, s, 1)
		lockCtx(t, "Lock of a free mutex with a context "+c.what, m, c.ctx)
		if err := e.Wait(c.ctx); err != nil {
			t.Errorf("Wait of a set event with a context %s: %v", c.what, err)
		}
		if err := s.Wait(c.ctx); err != nil {
			t.Errorf("Wait of a semaphore of count 1 with a context %s: %v", c.what, err)
		}
		setEvent(t, e)
		releaseSem(t, s, 1)
		if i, err := syncobj.Wait(c.ctx, e, s); err != nil || i != 0 {
			t.Errorf("Wait(set event, semaphore 1) with a context %s: (%d, %v); want (0, nil)", c.what, i, err)
		}
		if err := syncobj.WaitAll(c.ctx, s, m); err != nil {
			t.Errorf("WaitAll(semaphore 1, mutex it owns) with a context %s: %v", c.what, err)
		}
		unlockMutex(t, m)
		unlockMutex(t, m)
	}

	p := startPeer(t)
	id := p.syncMustOpen("mutexOpen", mname)
	p.syncMust("wait", id)
	for _, c := range []struct {
		ctx  func() context.Context
		what string
		errs []error
	}{
		{endedCtx, "past its deadline", []error{errs.ErrTimeout, context.DeadlineExceeded}},
		{func() context.Context { return cancelled }, "cancelled", []error{context.Canceled}},
	} {
		start := time.Now()
		wantErr(t, "Lock of a mutex the peer owns, with a context "+c.what, m.Lock(c.ctx()), c.errs...)
		wantErr(t, "Wait of a reset event with a context "+c.what, e.Wait(c.ctx()), c.errs...)
		wantErr(t, "Wait of an empty semaphore with a context "+c.what, s.Wait(c.ctx()), c.errs...)
		_, err := syncobj.Wait(c.ctx(), m, e, s)
		wantErr(t, "Wait of all three with a context "+c.what, err, c.errs...)
		wantErr(t, "WaitAll of all three with a context "+c.what, syncobj.WaitAll(c.ctx(), m, e, s), c.errs...)
		if d := time.Since(start); d > promptly {
			t.Errorf("five polls with a context %s took %v", c.what, d)
		}
	}
}

// testSyncDeadline: a wait whose context has a deadline fails after about
// that time with ErrTimeout and context.DeadlineExceeded, in an error that
// reports Timeout() like net's.
func testSyncDeadline(t *testing.T) {
	const d = 500 * time.Millisecond
	m := createMutex(t, syncName(t), true)
	h := openMutex(t, m.Name())
	e := createEvent(t, syncName(t), true, false)
	for _, c := range []struct {
		what string
		f    func(ctx context.Context) error
	}{
		{"Lock of a mutex another handle owns", h.Lock},
		{"Wait of a reset event", e.Wait},
		{"Wait of both", func(ctx context.Context) error { _, err := syncobj.Wait(ctx, h, e); return err }},
		{"WaitAll of both", func(ctx context.Context) error { return syncobj.WaitAll(ctx, h, e) }},
	} {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		_, err := get(t, asyncErr(func() error { return c.f(ctx) }), c.what)
		took := time.Since(start)
		cancel()
		wantTimeout(t, c.what+" with a deadline", err)
		wantErr(t, c.what+" with a deadline", err, context.DeadlineExceeded)
		// A Win32 wait may end up to a clock tick (15.6 ms) early.
		if took < d-20*time.Millisecond || took > d+promptly {
			t.Errorf("%s with a %v deadline returned after %v", c.what, d, took)
		}
	}
}

// testSyncCancel: cancelling the context from another goroutine ends a
// blocked wait promptly with context.Canceled.
func testSyncCancel(t *testing.T) {
	m := createMutex(t, syncName(t), true)
	h := openMutex(t, m.Name())
	e := createEvent(t, syncName(t), false, false)
	for _, c := range []struct {
		what string
		f    func(ctx context.Context) error
	}{
		{"Lock of a mutex another handle owns", h.Lock},
		{"Wait of a reset event", e.Wait},
		{"Wait of both", func(ctx context.Context) error { _, err := syncobj.Wait(ctx, h, e); return err }},
		{"WaitAll of both", func(ctx context.Context) error { return syncobj.WaitAll(ctx, h, e) }},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		ch := asyncErr(func() error { return c.f(ctx) })
		time.Sleep(settle)
		pending(t, ch, c.what)
		start := time.Now()
		cancel()
		_, err := get(t, ch, c.what)
		wantErr(t, c.what+" whose context was cancelled", err, context.Canceled)
		if d := time.Since(start); d > promptly {
			t.Errorf("%s returned %v after its context was cancelled; want promptly", c.what, d)
		}
	}
	// Nothing was taken on the way.
	wantUnsignalled(t, "the event after the cancelled waits", e)
	unlockMutex(t, m)
	lockCtx(t, "Lock of the second handle after the cancelled waits", h, endedCtx())
	unlockMutex(t, h)
}

// testSyncCloseDuringWait: closing a handle while another goroutine waits
// on it ends that wait with ErrClosed: no crash, no hang. The object
// lives on for its other handles.
func testSyncCloseDuringWait(t *testing.T) {
	mname, ename := syncName(t), syncName(t)
	m := createMutex(t, mname, true)
	e := createEvent(t, ename, false, false)
	other := createEvent(t, syncName(t), false, false)
	for _, c := range []struct {
		what string
		f    func(ctx context.Context, h syncobj.Object) error
		open func() syncobj.Object
	}{
		{"Lock of a mutex another handle owns", func(ctx context.Context, h syncobj.Object) error { return h.(*syncobj.Mutex).Lock(ctx) },
			func() syncobj.Object { return openMutex(t, mname) }},
		{"Wait of a reset event", func(ctx context.Context, h syncobj.Object) error { return h.(*syncobj.Event).Wait(ctx) },
			func() syncobj.Object { return openEvent(t, ename) }},
		{"Wait of two events", func(ctx context.Context, h syncobj.Object) error { _, err := syncobj.Wait(ctx, other, h); return err },
			func() syncobj.Object { return openEvent(t, ename) }},
		{"WaitAll of two events", func(ctx context.Context, h syncobj.Object) error { return syncobj.WaitAll(ctx, h, other) },
			func() syncobj.Object { return openEvent(t, ename) }},
	} {
		h := c.open()
		ch := asyncErr(func() error { return c.f(boundedCtx(t), h) })
		time.Sleep(settle)
		pending(t, ch, c.what)
		start := time.Now()
		if err := h.Close(); err != nil {
			t.Errorf("Close of a handle with a wait in progress: %v", err)
		}
		_, err := get(t, ch, c.what+" on a handle closed meanwhile")
		wantErr(t, c.what+" on a handle closed meanwhile", err, errs.ErrClosed)
		if d := time.Since(start); d > promptly {
			t.Errorf("%s returned %v after its handle was closed; want promptly", c.what, d)
		}
	}
	// The objects work on through their other handles.
	setEvent(t, e)
	wantSignalled(t, "the event through its first handle", e)
	unlockMutex(t, m)
	h := openMutex(t, mname)
	lockCtx(t, "Lock of a new handle", h, endedCtx())
	unlockMutex(t, h)
	wantUnsignalled(t, "the other event, which nobody set", other)
}

// testSyncUseAfterClose: every call on a closed handle fails with
// ErrClosed, a second Close included.
func testSyncUseAfterClose(t *testing.T) {
	m := createMutex(t, syncName(t), false)
	e := createEvent(t, syncName(t), true, true)
	s := createSemaphore(t, syncName(t), 1, 1)
	lockMutex(t, m)
	for _, o := range []syncobj.Object{m, e, s} {
		closeSync(t, o)
		wantErr(t, "a second Close", o.Close(), errs.ErrClosed)
		_, err := syncobj.Wait(endedCtx(), o)
		wantErr(t, "Wait (a poll) of a closed handle", err, errs.ErrClosed)
		_, err = syncobj.Wait(boundedCtx(t), o)
		wantErr(t, "Wait of a closed handle", err, errs.ErrClosed)
		wantErr(t, "WaitAll of a closed handle", syncobj.WaitAll(boundedCtx(t), o), errs.ErrClosed)
	}
	wantErr(t, "Lock of a closed handle", m.Lock(boundedCtx(t)), errs.ErrClosed)
	wantErr(t, "Unlock of a closed handle", m.Unlock(), errs.ErrClosed)
	wantErr(t, "Set of a closed handle", e.Set(), errs.ErrClosed)
	wantErr(t, "Reset of a closed handle", e.Reset(), errs.ErrClosed)
	wantErr(t, "Wait of a closed event", e.Wait(boundedCtx(t)), errs.ErrClosed)
	_, err := s.Release(1)
	wantErr(t, "Release of a closed handle", err, errs.ErrClosed)
	wantErr(t, "Wait of a closed semaphore", s.Wait(boundedCtx(t)), errs.ErrClosed)
}

// Names: kernel-object names, one namespace with the file mappings.

var syncNameTests = []subtest{
	{"LocalIsDefault", testSyncLocalIsDefault},
	{"GlobalIsAnother", testSyncGlobalIsAnother},
	{"CaseSensitive", testSyncCaseSensitive},
	{"NotFound", testSyncNotFound},
	{"InvalidNames", testSyncInvalidNames},
	{"LongestName", testSyncLongestName},
	{"WrongType", testSyncWrongType},
	{"WrongTypeAcrossProcesses", testSyncWrongTypeAcrossProcesses},
	{"Unnamed", testSyncUnnamed},
}

// testSyncLocalIsDefault: `Local\NAME` and a bare NAME are one object, in
// this process and another, and Name reports `Local\NAME`.
func testSyncLocalIsDefault(t *testing.T) {
	bare, bare2 := syncName(t), syncName(t)
	local := `Local\` + bare
	e := createEvent(t, local, true, false)
	b := openEvent(t, bare)
	again := createEvent(t, bare, false, false)
	if !again.Existed() {
		t.Errorf("CreateEvent(%q) after CreateEvent(%q): Existed() = false", bare, local)
	}
	for what, got := range map[string]string{
		"CreateEvent(" + local + ")": e.Name(), "OpenEvent(" + bare + ")": b.Name(), "CreateEvent(" + bare + ")": again.Name(),
	} {
		if got != local {
			t.Errorf("%s.Name() = %q; want %q", what, got, local)
		}
	}
	setEvent(t, b)
	wantSignalled(t, local+" set through "+bare, e)
	p := startPeer(t)
	id := p.syncMustOpen("eventOpen", bare)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Wait (a poll) through %q: %v", bare, err)
	}
	pid, _ := p.semCreate(bare2, 0, 1)
	s := openSemaphore(t, `Local\`+bare2)
	if _, err := p.release(pid, 1); err != nil {
		t.Fatalf("peer Release: %v", err)
	}
	wantSignalled(t, `Local\`+bare2+" released by the peer through "+bare2, s)
}

// testSyncGlobalIsAnother: `Global\NAME` is another object than
// `Local\NAME`.
func testSyncGlobalIsAnother(t *testing.T) {
	bare := syncName(t)
	global := `Global\` + bare
	sweepSync(t, global)
	g, err := syncobj.CreateEvent(global, true, true, nil)
	if err != nil {
		skipIfGlobalDenied(t, err)
		t.Fatalf("CreateEvent(%q): %v", global, err)
	}
	t.Cleanup(func() { _ = g.Close() }) // the test may close it; a second Close only reports ErrClosed
	if g.Name() != global {
		t.Errorf("CreateEvent(%q).Name() = %q", global, g.Name())
	}
	for _, other := range []string{bare, `Local\` + bare} {
		wantOpenErr(t, other, syncKinds[1], errs.ErrNotFound)
	}
	l := createEvent(t, bare, true, false)
	if l.Existed() {
		t.Errorf("CreateEvent(%q) while only %q exists: Existed() = true", bare, global)
	}
	wantUnsignalled(t, bare+" while "+global+" is set", l)
	p := startPeer(t)
	id := p.syncMustOpen("eventOpen", global)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Wait (a poll) of %q: %v", global, err)
	}
}

// testSyncCaseSensitive: another case is another name.
func testSyncCaseSensitive(t *testing.T) {
	name := syncName(t) // starts "xipc-"
	upper, first := strings.ToUpper(name), "X"+name[1:]
	sweepSync(t, upper)
	sweepSync(t, first)
	m := createMutex(t, name, false)
	for _, other := range []string{upper, first, `Local\` + upper} {
		wantOpenErr(t, other, syncKinds[0], errs.ErrNotFound)
	}
	p := startPeer(t)
	_, err := p.syncOpen("mutexOpen", upper)
	wantErr(t, fmt.Sprintf("peer OpenMutex(%q) while only %q exists", upper, name), err, errs.ErrNotFound)
	u := createMutex(t, upper, false)
	if u.Existed() {
		t.Errorf("CreateMutex(%q) while only %q exists: Existed() = true", upper, name)
	}
	lockMutex(t, u)
	id := p.syncMustOpen("mutexOpen", name)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Lock (a poll) of %q while %q is held: %v", name, upper, err)
	}
	wantErr(t, fmt.Sprintf("Lock (a poll) of %q, which the peer holds", name), m.Lock(endedCtx()), errs.ErrTimeout)
	unlockMutex(t, u)
}

// testSyncNotFound: Open of a name nobody created fails with ErrNotFound,
// for each type, in an *errs.OpError that names the operation, the kind
// and the object.
func testSyncNotFound(t *testing.T) {
	name := syncName(t)
	for _, k := range syncKinds {
		err := wantOpenErr(t, name, k, errs.ErrNotFound)
		if k.name != "shm" {
			wantOpError(t, k.openCall+"'s error", err, "open", k.name, `Local\`+name)
		}
	}
	p := startPeer(t)
	for _, op := range []string{"mutexOpen", "eventOpen", "semOpen"} {
		_, err := p.syncOpen(op, name)
		wantErr(t, fmt.Sprintf("peer %s of a name nobody created", op), err, errs.ErrNotFound)
	}
}

// testSyncInvalidNames: malformed names fail with ErrInvalidName in every
// Create and Open; "" is an unnamed object for Create only.
func testSyncInvalidNames(t *testing.T) {
	for _, name := range []string{
		"",
		`Local\`,
		`Global\`,
		`a\b`,
		`Local\a\b`,
		`Global\a\b`,
		`local\x`, // the prefixes are case-sensitive: this is a name with a '\'
		`Session\1\x`,
		`\x`,
		"a\x00b",
		"\xff\xfe",
		`Local\` + strings.Repeat("n", 260-len(`Local\`)+1),
	} {
		for _, k := range syncKinds {
			if name != "" {
				wantCreateErr(t, name, k, errs.ErrInvalidName)
			}
			wantOpenErr(t, name, k, errs.ErrInvalidName)
		}
	}
}

// testSyncLongestName: a name of MAX_PATH (260) characters with its
// `Local\` prefix works for every type.
func testSyncLongestName(t *testing.T) {
	for _, k := range syncKinds[:3] {
		longest := uniqueName(t)
		longest += strings.Repeat("n", 260-len(`Local\`)-len(longest))
		sweepSync(t, longest)
		o, err := k.create(longest)
		if err != nil {
			t.Fatalf("%s(%q), %d characters with Local\\: %v", k.createCall, longest, len(longest)+6, err)
		}
		t.Cleanup(func() { _ = o.Close() })
		o2, err := k.open(`Local\` + longest)
		if err != nil {
			t.Fatalf("%s of the longest name: %v", k.openCall, err)
		}
		closeSync(t, o2)
	}
}

// testSyncWrongType: a name held by one type of object (a mutex, an
// event, a semaphore or a file mapping) cannot be created or opened as any
// other type: ErrWrongType; once its holder closes, it can.
func testSyncWrongType(t *testing.T) {
	for _, holder := range syncKinds {
		name := syncName(t)
		h, err := holder.create(name)
		if err != nil {
			t.Fatalf("%s(%q): %v", holder.createCall, name, err)
		}
		for _, k := range syncKinds {
			if k.name == holder.name {
				continue
			}
			for _, n := range []string{name, `Local\` + name} {
				wantCreateErr(t, n, k, errs.ErrWrongType)
				wantOpenErr(t, n, k, errs.ErrWrongType)
			}
		}
		closeSync(t, h)
		for _, k := range syncKinds {
			o, err := k.create(name)
			if err != nil {
				t.Errorf("%s(%q) after the %s that held the name closed: %v", k.createCall, name, holder.name, err)
				continue
			}
			closeSync(t, o)
		}
	}
}

// testSyncWrongTypeAcrossProcesses: the same when another process holds
// the name.
func testSyncWrongTypeAcrossProcesses(t *testing.T) {
	ename, mname, sname := syncName(t), syncName(t), syncName(t)
	p := startPeer(t)
	p.eventCreate(ename, true, false)
	p.shmCreate(mname, 4096)
	for _, k := range syncKinds {
		if k.name != "event" {
			wantCreateErr(t, ename, k, errs.ErrWrongType)
			wantOpenErr(t, ename, k, errs.ErrWrongType)
		}
	}
	for _, k := range syncKinds[:3] {
		wantCreateErr(t, mname, k, errs.ErrWrongType)
		wantOpenErr(t, mname, k, errs.ErrWrongType)
	}
	createSemaphore(t, sname, 1, 1)
	for _, op := range []string{"mutexOpen", "eventOpen"} {
		_, err := p.syncOpen(op, sname)
		wantErr(t, fmt.Sprintf("peer %s of a semaphore's name", op), err, errs.ErrWrongType)
	}
	_, _, err := p.shmOpen(sname, shm.ReadWrite)
	wantErr(t, "peer shm.Open of a semaphore's name", err, errs.ErrWrongType)
}

// testSyncUnnamed: "" makes an unnamed object: no name, never Existed,
// a new object each time, working between goroutines through its handle.
func testSyncUnnamed(t *testing.T) {
	e1 := createEvent(t, "", false, false)
	e2 := createEvent(t, "", false, false)
	for _, e := range []*syncobj.Event{e1, e2} {
		if e.Name() != "" || e.Existed() {
			t.Errorf("CreateEvent(\"\"): Name() %q, Existed() %v; want \"\", false", e.Name(), e.Existed())
		}
	}
	ch := asyncErr(func() error { return e1.Wait(boundedCtx(t)) })
	time.Sleep(settle)
	pending(t, ch, "Wait of an unnamed event")
	setEvent(t, e2)
	time.Sleep(settle)
	pending(t, ch, "Wait of an unnamed event after Set of another unnamed one")
	setEvent(t, e1)
	if _, err := get(t, ch, "Wait"); err != nil {
		t.Errorf("Wait of an unnamed event after its Set: %v", err)
	}
	wantSignalled(t, "the other unnamed event", e2)

	s := createSemaphore(t, "", 2, 2)
	if n := semCount(t, s); n != 2 {
		t.Errorf("an unnamed semaphore of count 2: %d Waits pass", n)
	}
	m := createMutex(t, "", true)
	if _, err := get(t, asyncErr(func() error { return m.Lock(endedCtx()) }), "Lock"); err != nil {
		t.Errorf("nested Lock (a poll) of an unnamed mutex in another goroutine: %v", err)
	}
	unlockMutex(t, m)
	unlockMutex(t, m)
	wantErr(t, "a third Unlock of an unnamed mutex", m.Unlock(), errs.ErrNotOwner)
	closeSync(t, m)
	wantErr(t, "Lock of a closed unnamed mutex", m.Lock(boundedCtx(t)), errs.ErrClosed)
}

// Lifetime: an object lives while any handle is open in any process; then
// the name is free and a new Create starts afresh.

var syncLifetimeTests = []subtest{
	{"Event", testSyncLifetimeEvent},
	{"Semaphore", testSyncLifetimeSemaphore},
	{"MutexKilledOwner", testSyncLifetimeMutexKilled},
	{"MutexClosedOwner", testSyncLifetimeMutexClosed},
	{"DeadHolderFreesNameForEveryType", testSyncLifetimeDeadHolderEveryType},
}

// testSyncLifetimeEvent: an event created set lives on in a peer after
// the creator closes, still set; when the peer closes too, Open fails
// with ErrNotFound and CreateEvent(initialState false) makes a new, reset
// event.
func testSyncLifetimeEvent(t *testing.T) {
	name := syncName(t)
	e := createEvent(t, name, true, true)
	p := startPeer(t)
	id := p.syncMustOpen("eventOpen", name)
	closeSync(t, e)
	if err := p.syncWait(id, -1); err != nil {
		t.Errorf("peer Wait (a poll) after the creator closed: %v; want it still set", err)
	}
	again := openEvent(t, name)
	wantSignalled(t, "Open while only the peer holds the event", again)
	closeSync(t, again)
	p.close(id)
	wantSyncGone(t, name)
	fresh := createEvent(t, name, true, false)
	if fresh.Existed() {
		t.Errorf("CreateEvent(%q) after every handle closed: Existed() = true", name)
	}
	wantUnsignalled(t, "an event created reset after a set one of that name went", fresh)
}

// testSyncLifetimeSemaphore: when the only holder of a semaphore is
// killed, the name is free, and a new CreateSemaphore gets its own counts.
func testSyncLifetimeSemaphore(t *testing.T) {
	name := syncName(t)
	p := startPeer(t)
	p.semCreate(name, 3, 3)
	s := openSemaphore(t, name)
	closeSync(t, s)
	p.kill()
	wantSyncGone(t, name)
	fresh := createSemaphore(t, name, 0, 1)
	if fresh.Existed() {
		t.Errorf("CreateSemaphore(%q) after its only holder was killed: Existed() = true", name)
	}
	wantUnsignalled(t, "a semaphore created with count 0 after one of count 3 of that name went", fresh)
	releaseSem(t, fresh, 1)
	_, err := fresh.Release(1)
	wantErr(t, "Release past the new max 1", err, errs.ErrTooManyPosts)
}

// testSyncLifetimeMutexKilled: a mutex whose owner was its only holder and
// was killed holding it is gone; a new one of that name is free and not
// abandoned.
func testSyncLifetimeMutexKilled(t *testing.T) {
	name := syncName(t)
	p := startPeer(t)
	p.mutexCreate(name, true)
	p.kill()
	wantSyncGone(t, name)
	wantFreshMutex(t, name)
}

// testSyncLifetimeMutexClosed: the same when the owner closed its handle
// holding it.
func testSyncLifetimeMutexClosed(t *testing.T) {
	name := syncName(t)
	m := createMutex(t, name, true)
	lockMutex(t, m)
	closeSync(t, m)
	wantSyncGone(t, name)
	wantFreshMutex(t, name)
}

// testSyncLifetimeDeadHolderEveryType: when the only holder of an object
// of any type dies (killed, or exiting without closing), the name is free
// for every type: each Open fails with ErrNotFound, not ErrWrongType, and
// each Create makes a new object.
func testSyncLifetimeDeadHolderEveryType(t *testing.T) {
	for _, holder := range syncKinds {
		for _, kill := range []bool{true, false} {
			names := make([]string, len(syncKinds))
			for i := range names {
				names[i] = syncName(t)
			}
			p := startPeer(t)
			for _, name := range names {
				switch holder.name {
				case "mutex":
					p.mutexCreate(name, true)
				case "event":
					p.eventCreate(name, true, true)
				case "semaphore":
					p.semCreate(name, 1, 1)
				case "shm":
					p.shmCreate(name, 4096)
				}
			}
			how := "exited"
			if kill {
				how = "was killed"
				p.kill()
			} else {
				p.exit()
			}
			for i, k := range syncKinds {
				what := fmt.Sprintf("%s(%q) after the only holder of a %s of that name %s", k.openCall, names[i], holder.name, how)
				o, err := k.open(names[i])
				wantErr(t, what, err, errs.ErrNotFound)
				if o != nil {
					closeSync(t, o)
				}
				if o, err = k.create(names[i]); err != nil {
					t.Errorf("%s(%q) after the only holder of a %s of that name %s: %v", k.createCall, names[i], holder.name, how, err)
				} else {
					closeSync(t, o)
				}
			}
		}
	}
}

// wantFreshMutex creates the mutex name, which must be free, and fails
// unless it is new, free and not abandoned.
func wantFreshMutex(t *testing.T, name string) {
	t.Helper()
	m := createMutex(t, name, false)
	if m.Existed() {
		t.Errorf("CreateMutex(%q) of a free name: Existed() = true", name)
	}
	lockCtx(t, "Lock (a poll) of a new mutex that replaced an abandoned one", m, endedCtx())
	unlockMutex(t, m)
}

// No busy waiting.

var noBusyWaitTests = []subtest{
	{"BlockedWaiter", testSyncBlockedWaiterSleeps},
}

// testSyncBlockedWaiterSleeps: a process blocked in Lock and in a Wait of
// several objects, for 2 seconds, uses little CPU (under 10% of a core):
// it sleeps in the kernel, it does not spin or poll.
func testSyncBlockedWaiterSleeps(t *testing.T) {
	const span = 2 * time.Second
	mname, ename, sname := syncName(t), syncName(t), syncName(t)
	m := createMutex(t, mname, true)
	e := createEvent(t, ename, false, false)
	createSemaphore(t, sname, 0, 1)
	p := startPeer(t)
	mid := p.syncMustOpen("mutexOpen", mname)
	eid := p.syncMustOpen("eventOpen", ename)
	sid := p.syncMustOpen("semOpen", sname)
	lockCh := p.startWait(mid)
	eventCh := p.startWait(eid)
	semCh := p.startWait(sid)
	time.Sleep(settle)
	before := p.cpuTime(t)
	time.Sleep(span)
	used := p.cpuTime(t) - before
	for what, ch := range map[string]<-chan reply{"Lock": lockCh, "event Wait": eventCh, "semaphore Wait": semCh} {
		wantNoReply(t, ch, "peer "+what)
	}
	if used > span/10 {
		t.Errorf("a peer blocked in Lock and two Waits for %v used %v of CPU; want under %v", span, used, span/10)
	}
	t.Logf("a peer blocked for %v used %v of CPU", span, used)
	unlockMutex(t, m)
	setEvent(t, e)
	if err := p.await(lockCh, "Lock").err(); err != nil {
		t.Errorf("peer Lock after Unlock: %v", err)
	}
	if err := p.await(eventCh, "Wait").err(); err != nil {
		t.Errorf("peer Wait after Set: %v", err)
	}
	if _, err := p.release(sid, 1); err != nil {
		t.Errorf("peer Release: %v", err)
	}
	if err := p.await(semCh, "Wait").err(); err != nil {
		t.Errorf("peer Wait after Release: %v", err)
	}
	p.syncMust("unlock", mid)
}

// Helpers.

// syncKind is a type of kernel object in the namespace that sync objects
// share with file mappings: how to create and open one by name.
type syncKind struct {
	name                 string // the Kind in errors: mutex, event, semaphore, shm
	createCall, openCall string // the calls, for messages
	create, open         func(name string) (io.Closer, error)
}

// syncKinds are the three sync types and the file mapping, in that order.
var syncKinds = []syncKind{
	{"mutex", "CreateMutex", "OpenMutex",
		func(n string) (io.Closer, error) { return closer(syncobj.CreateMutex(n, false, nil)) },
		func(n string) (io.Closer, error) { return closer(syncobj.OpenMutex(n)) }},
	{"event", "CreateEvent", "OpenEvent",
		func(n string) (io.Closer, error) { return closer(syncobj.CreateEvent(n, true, false, nil)) },
		func(n string) (io.Closer, error) { return closer(syncobj.OpenEvent(n)) }},
	{"semaphore", "CreateSemaphore", "OpenSemaphore",
		func(n string) (io.Closer, error) { return closer(syncobj.CreateSemaphore(n, 0, 1, nil)) },
		func(n string) (io.Closer, error) { return closer(syncobj.OpenSemaphore(n)) }},
	{"shm", "shm.Create", "shm.Open",
		func(n string) (io.Closer, error) { return closer(shm.Create(n, 4096, nil)) },
		func(n string) (io.Closer, error) { return closer(shm.Open(n, shm.ReadWrite)) }},
}

// closer returns o as an io.Closer, or a nil one with the error.
func closer[T io.Closer](o T, err error) (io.Closer, error) {
	if err != nil {
		return nil, err
	}
	return o, nil
}

// wantCreateErr fails unless creating name as k fails with target.
func wantCreateErr(t testing.TB, name string, k syncKind, target error) error {
	t.Helper()
	o, err := k.create(name)
	wantErr(t, fmt.Sprintf("%s(%q)", k.createCall, name), err, target)
	if o != nil {
		closeSync(t, o)
	}
	return err
}

// wantOpenErr fails unless opening name as k fails with target.
func wantOpenErr(t testing.TB, name string, k syncKind, target error) error {
	t.Helper()
	o, err := k.open(name)
	wantErr(t, fmt.Sprintf("%s(%q)", k.openCall, name), err, target)
	if o != nil {
		closeSync(t, o)
	}
	return err
}

// wantOpError fails unless err is an *errs.OpError naming op, kind and
// name.
func wantOpError(t testing.TB, what string, err error, op, kind, name string) {
	t.Helper()
	var oe *errs.OpError
	if !errors.As(err, &oe) {
		t.Errorf("%s %v (%T) is not an *errs.OpError", what, err, err)
	} else if oe.Op != op || oe.Kind != kind || oe.Name != name {
		t.Errorf("%s: Op %q, Kind %q, Name %q; want %q, %q, %q", what, oe.Op, oe.Kind, oe.Name, op, kind, name)
	}
}

// syncName returns a name unique to this test and this run, which must be
// free again when the test ends (see sweepSync).
func syncName(t testing.TB) string {
	name := uniqueName(t)
	sweepSync(t, name)
	return name
}

// sweepSync checks, when the test ends, after its peers and its handles
// are gone, that no object of any type is left under name: Win32 promises
// that, and on Unix the check also clears the emulation's file that a peer
// which exited holding the object leaves behind. An object would open as
// its own type; ErrWrongType from the others is left to the Lifetime tests
// (a dead holder's leftover), so that the sweep reports only live objects.
func sweepSync(t testing.TB, name string) {
	t.Cleanup(func() {
		for _, k := range syncKinds {
			o, err := k.open(name)
			switch {
			case err == nil:
				t.Errorf("%s(%q) at the end of the test: the object still exists after the test closed its handles and its peers ended", k.openCall, name)
				closeSync(t, o)
			case !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrWrongType):
				t.Errorf("%s(%q) at the end of the test: %v; want ErrNotFound", k.openCall, name, err)
			}
		}
	})
}

// wantSyncGone fails unless no object of any type has the name.
func wantSyncGone(t testing.TB, name string) {
	t.Helper()
	for _, k := range syncKinds {
		wantOpenErr(t, name, k, errs.ErrNotFound)
	}
}

// keepSync fails the test on err; otherwise t.Cleanup closes o.
func keepSync[T syncobj.Object](t testing.TB, what string, o T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Cleanup(func() {
		// The test may have closed it: a second Close only reports ErrClosed.
		_ = o.Close()
	})
	return o
}

// peerOwnsMutex creates a mutex here and has a peer process lock it,
// through a handle of its own (id).
func peerOwnsMutex(t *testing.T) (name string, m *syncobj.Mutex, p *peer, id int) {
	t.Helper()
	name = syncName(t)
	m = createMutex(t, name, false)
	p = startPeer(t)
	id = p.syncMustOpen("mutexOpen", name)
	p.syncMust("wait", id)
	return name, m, p, id
}

// lockWaits starts m.Lock and checks that it waits.
func lockWaits(t *testing.T, m *syncobj.Mutex) <-chan result[struct{}] {
	t.Helper()
	ch := asyncErr(func() error { return m.Lock(boundedCtx(t)) })
	time.Sleep(settle)
	pending(t, ch, "Lock while the peer owns the mutex")
	return ch
}

func createMutex(t testing.TB, name string, initialOwner bool) *syncobj.Mutex {
	t.Helper()
	m, err := syncobj.CreateMutex(name, initialOwner, nil)
	return keepSync(t, fmt.Sprintf("CreateMutex(%q, %v)", name, initialOwner), m, err)
}

func createEvent(t testing.TB, name string, manualReset, initialState bool) *syncobj.Event {
	t.Helper()
	e, err := syncobj.CreateEvent(name, manualReset, initialState, nil)
	return keepSync(t, fmt.Sprintf("CreateEvent(%q, %v, %v)", name, manualReset, initialState), e, err)
}

func createSemaphore(t testing.TB, name string, initial, max int) *syncobj.Semaphore {
	t.Helper()
	s, err := syncobj.CreateSemaphore(name, initial, max, nil)
	return keepSync(t, fmt.Sprintf("CreateSemaphore(%q, %d, %d)", name, initial, max), s, err)
}

func openMutex(t testing.TB, name string) *syncobj.Mutex {
	t.Helper()
	m, err := syncobj.OpenMutex(name)
	return keepSync(t, fmt.Sprintf("OpenMutex(%q)", name), m, err)
}

func openEvent(t testing.TB, name string) *syncobj.Event {
	t.Helper()
	e, err := syncobj.OpenEvent(name)
	return keepSync(t, fmt.Sprintf("OpenEvent(%q)", name), e, err)
}

func openSemaphore(t testing.TB, name string) *syncobj.Semaphore {
	t.Helper()
	s, err := syncobj.OpenSemaphore(name)
	return keepSync(t, fmt.Sprintf("OpenSemaphore(%q)", name), s, err)
}

func closeSync(t testing.TB, o io.Closer) {
	t.Helper()
	if err := o.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// endedCtx returns a context whose deadline has passed: a wait with it
// polls.
func endedCtx() context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	cancel() // ended already, with DeadlineExceeded: cancel changes nothing
	return ctx
}

// boundedCtx returns a context for a wait that should end by itself: a bug
// makes it fail instead of hanging the test.
func boundedCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// asyncErr runs f in a goroutine, like async.
func asyncErr(f func() error) <-chan result[struct{}] {
	return async(func() (struct{}, error) { return struct{}{}, f() })
}

func lockMutex(t testing.TB, m *syncobj.Mutex) {
	t.Helper()
	lockCtx(t, "Lock", m, boundedCtx(t))
}

// lockCtx locks m, which must succeed without ErrAbandoned.
func lockCtx(t testing.TB, what string, m *syncobj.Mutex, ctx context.Context) {
	t.Helper()
	if err := m.Lock(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func unlockMutex(t testing.TB, m *syncobj.Mutex) {
	t.Helper()
	if err := m.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func setEvent(t testing.TB, e *syncobj.Event) {
	t.Helper()
	if err := e.Set(); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func resetEvent(t testing.TB, e *syncobj.Event) {
	t.Helper()
	if err := e.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

func releaseSem(t testing.TB, s *syncobj.Semaphore, n int) (prev int) {
	t.Helper()
	prev, err := s.Release(n)
	if err != nil {
		t.Fatalf("Release(%d): %v", n, err)
	}
	return prev
}

// wantSignalled fails unless a poll of o succeeds (and takes it).
func wantSignalled(t testing.TB, what string, o syncobj.Object) {
	t.Helper()
	if _, err := syncobj.Wait(endedCtx(), o); err != nil {
		t.Errorf("%s: Wait (a poll): %v; want it signalled", what, err)
	}
}

// wantUnsignalled fails unless a poll of o fails with ErrTimeout.
func wantUnsignalled(t testing.TB, what string, o syncobj.Object) {
	t.Helper()
	_, err := syncobj.Wait(endedCtx(), o)
	wantErr(t, what+": Wait (a poll)", err, errs.ErrTimeout)
}

// wantIndex fails unless Wait of objs returns index want.
func wantIndex(t testing.TB, what string, ctx context.Context, want int, objs ...syncobj.Object) {
	t.Helper()
	if i, err := syncobj.Wait(ctx, objs...); i != want || err != nil {
		t.Errorf("%s = (%d, %v); want (%d, nil)", what, i, err, want)
	}
}

// semCount returns a semaphore's count, which nobody else may be changing:
// it takes every permit with polls, then gives them back.
func semCount(t testing.TB, s *syncobj.Semaphore) int {
	t.Helper()
	n := 0
	for ; ; n++ {
		err := s.Wait(endedCtx())
		if err != nil {
			wantErr(t, "Wait (a poll) of an emptied semaphore", err, errs.ErrTimeout)
			break
		}
		if n > 1000 {
			t.Fatalf("more than 1000 permits in the semaphore")
		}
	}
	if n > 0 {
		releaseSem(t, s, n)
	}
	return n
}

// getWithin is get with a shorter limit, for a call that may hang: the
// test fails at once, and leaves the call and what it holds alone.
func getWithin[T any](t testing.TB, ch <-chan result[T], d time.Duration, what string) (T, error) {
	t.Helper()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		t.Fatalf("%s did not return within %v: it hangs", what, d)
	}
	panic("unreachable")
}

// wantNoReply fails the test if the peer has answered the command already.
func wantNoReply(t testing.TB, ch <-chan reply, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned (%v) early; want it still waiting", what, r.err())
	default:
	}
}

// nextReply waits for the first answer among the commands chs that are
// not done yet, marks it done and returns its index and reply.
func nextReply(t testing.TB, chs []<-chan reply, done []bool, what string) (int, reply) {
	t.Helper()
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		for i, ch := range chs {
			if done[i] {
				continue
			}
			select {
			case r := <-ch:
				done[i] = true
				return i, r
			default:
			}
		}
	}
	t.Fatalf("%s: no waiter returned within %v", what, wait)
	panic("unreachable")
}
