//go:build unix

package msgq

// The Unix emulation. A queue is one file in /dev/shm (or ROOT/msgq where
// there is none), mapped MAP_SHARED by the receiver and by every sender:
//
//	header   a page: the receiver's pid, the closed flag, the futex word
//	         rseq that every post and send bumps (the receiver sleeps on
//	         it), the posted ring's indices and count, the send ticket
//	ring     Quota slots of 32 bytes for posted messages (msg, pid, wParam,
//	         lParam), written under the post lock: a pid word with
//	         futex sleep whose dead holder is taken over, so a sender killed
//	         mid-post cannot wedge the queue
//	slots    sendSlots send slots, each a state word (the futex word the
//	         sender sleeps on), the message, its ticket, its result, and an
//	         inline data area of inlineData bytes; a larger payload goes
//	         through a file of its own next to the queue's
//
// Quota: count is the number of posted messages not yet taken by Get,
// including those the receiver has moved out of the ring into its private
// list; a Post that finds count at Quota fails under the lock, so the
// quota is exact. The ring cannot overflow: it holds at most count
// messages.
//
// A send slot's life: free → claimed (by one sender, CAS) → pending
// (published with a ticket; sent messages are taken in ticket order) →
// taken (receiver, CAS) → replied → free (sender). A sender whose context
// ends withdraws with CAS pending → free, so a message not picked up in
// time is never delivered; when the CAS fails the receiver has it, and the
// sender leaves it with CAS taken → abandoned, which the receiver's Reply
// frees. Close marks pending and taken slots failed.
//
// Liveness: the receiver holds an exclusive flock on the file, which the
// kernel drops when it dies. Post probes it (one non-blocking flock), and a
// sender waiting for a result probes it every liveCheck, so a SIGKILLed
// receiver is noticed within that time; nothing polls while idle.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/futex"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/owner"
)

const (
	magic   = 0x7871_6d71 // "xqmq"
	version = 2           // 2: the header holds the file's name (nameOff)

	headerSize   = 4096
	nameOff      = 1024 // in the header: the queue file's base name, 2-byte length first
	postSize     = 32
	ringOff      = headerSize
	ringBytes    = (Quota*postSize + 4095) &^ 4095
	sendSlots    = 32
	slotHdrSize  = 128
	slotsOff     = ringOff + ringBytes
	dataOff      = slotsOff + sendSlots*slotHdrSize
	inlineData   = 64 << 10
	mappingBytes = dataOff + sendSlots*inlineData

	liveCheck = 50 * time.Millisecond // how often a waiting sender looks at the receiver
	idleWait  = time.Hour             // a Get's sleep; only a post, a send or Close ends it earlier
)

// Send slot states.
const (
	sFree = iota
	sClaimed
	sPending
	sTaken
	sReplied
	sAbandoned // the sender gave up after the receiver took the message
	sFailed    // the receiver closed before replying
)

// Send slot flags.
const (
	fData     = 1 << iota // WM_COPYDATA with a payload
	fExternal             // the payload is in a file of its own
	fNotify               // SendNotify: nobody waits for the result
)

type header struct {
	magic     uint32
	version   uint32
	pid       uint32 // the receiver
	closed    uint32
	rseq      uint32 // bumped on every post, send and close; the receiver sleeps on it
	rsleep    uint32 // the receiver's goroutines asleep on rseq
	plock     uint32 // the post lock: holder's pid | lockSleepers
	count     uint32 // posted messages not yet taken
	head      uint64 // ring: next slot to read
	tail      uint64 // ring: next slot to write
	ticket    uint64 // last send ticket handed out
	pending   uint32 // send slots pending (a hint: 0 means none)
	freeSeq   uint32 // bumped when a send slot frees; senders short of one sleep on it
	freeSleep uint32
	gen       uint32 // numbers the claims of send slots (names of payload files)
}

type postSlot struct {
	msg uint32
	pid uint32
	w   uint64
	l   uint64
	_   uint64
}

type sendSlot struct {
	state  uint32
	pid    uint32 // the sender
	msg    uint32
	flags  uint32
	w      uint64
	l      uint64
	ticket uint64
	result uint64
	size   uint64 // payload bytes
	gen    uint32
	sleep  uint32 // the sender is asleep on state
}

// mapping is one process's view of a queue's file.
type mapping struct {
	f    *os.File
	path string
	mem  []byte
	h    *header
}

func (m *mapping) post(i uint64) *postSlot {
	return (*postSlot)(unsafe.Pointer(&m.mem[ringOff+int(i%Quota)*postSize]))
}

func (m *mapping) slot(i int) *sendSlot {
	return (*sendSlot)(unsafe.Pointer(&m.mem[slotsOff+i*slotHdrSize]))
}

func (m *mapping) data(i int) []byte {
	return m.mem[dataOff+i*inlineData : dataOff+(i+1)*inlineData]
}

func (m *mapping) unmap() {
	if m.mem != nil {
		unix.Munmap(m.mem)
		m.mem, m.h = nil, nil
	}
}

// payloadPath names the file of an external payload of slot i.
func (m *mapping) payloadPath(i int, gen uint32) string {
	return fmt.Sprintf("%s+d%d.%d", m.path, i, gen)
}

// setName records base, the name of the queue's file, in the header.
func (m *mapping) setName(base string) {
	binary.LittleEndian.PutUint16(m.mem[nameOff:], uint16(len(base)))
	copy(m.mem[nameOff+2:headerSize], base)
}

// named reports whether the header holds base: the file was registered
// under this name, and is not another queue's file linked here.
func (m *mapping) named(base string) bool {
	n := int(binary.LittleEndian.Uint16(m.mem[nameOff:]))
	return nameOff+2+n <= headerSize && string(m.mem[nameOff+2:nameOff+2+n]) == base
}

var pid = os.Getpid()

type unixBackend struct{}

var localBackend backend = unixBackend{}

// shmDir is where the queue files go: /dev/shm when the system has it.
func shmDir() (string, error) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm", nil
	}
	return names.Dir("msgq")
}

// filePrefix is what every file of this package starts with, distinct per
// namespace root (XIPC_ROOT) as kobj's are.
func filePrefix() string {
	if os.Getenv("XIPC_ROOT") != "" {
		sum := sha256.Sum256([]byte(names.Root()))
		return "xipc-" + hex.EncodeToString(sum[:4]) + "."
	}
	return "xipc."
}

// queuePath returns the file of the queue name: one per user (window
// titles are per desktop in Windows), case folded.
func queuePath(name string) (string, error) {
	dir, err := shmDir()
	if err != nil {
		return "", err
	}
	key := strings.ToLower(name)
	var b strings.Builder
	b.WriteString(queuePrefix())
	for i := 0; i < len(key); i++ {
		c := key[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	file := b.String()
	if len(file) > 200 {
		sum := sha256.Sum256([]byte(key))
		file = queuePrefix() + "~" + hex.EncodeToString(sum[:16])
	}
	return filepath.Join(dir, file), nil
}

// otherUsersQueues returns the files of the queues of other users that
// have the name of own (this user's file for it). Each user has a
// namespace of queues (as each Windows session has its windows); Find
// looks in the others' when its own has no live queue of that name.
func otherUsersQueues(own string) []string {
	dir, base := filepath.Dir(own), filepath.Base(own)
	key := strings.TrimPrefix(base, queuePrefix())
	pre := filePrefix() + "m"
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	ents, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil
	}
	var found []string
	for _, name := range ents {
		rest, ok := strings.CutPrefix(name, pre)
		if !ok {
			continue
		}
		uid, k, ok := strings.Cut(rest, ".")
		if !ok || k != key || uid == "" || strings.Trim(uid, "0123456789") != "" || name == base {
			continue
		}
		found = append(found, filepath.Join(dir, name))
	}
	return found
}

// queuePrefix starts the file names of this user's queues.
func queuePrefix() string { return fmt.Sprintf("%sm%d.", filePrefix(), os.Geteuid()) }

func mapFile(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != mappingBytes {
		return nil, errs.New(errs.ErrNotFound, errors.New("not a message queue of this version"))
	}
	return unix.Mmap(int(f.Fd()), 0, mappingBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// receiverAlive reports whether the receiver of the queue file f still
// holds its lock.
func receiverAlive(f *os.File) bool {
	switch err := flock(f, unix.LOCK_SH|unix.LOCK_NB); err {
	case nil:
		flock(f, unix.LOCK_UN)
		return false
	case unix.EWOULDBLOCK:
		return true
	default:
		return true // cannot tell: assume alive
	}
}

var errGone = errs.New(errs.ErrNotFound, errors.New("the window is gone"))

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// register creates the queue file under a temporary name, initialised and
// locked, and links it into place: a sender never sees a half-made queue,
// and of two registrations one wins. A file at the name whose lock is free
// was left by a dead receiver and is removed first.
func (unixBackend) register(name string, opts *Options) (receiver, error) {
	path, err := queuePath(name)
	if err != nil {
		return nil, err
	}
	sweep(filepath.Dir(path))
	tmp := path + "+n" + randomSuffix()
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, errs.FromSys(err)
	}
	q := &unixReceiver{m: mapping{f: f, path: path}}
	fail := func(err error) (receiver, error) {
		os.Remove(tmp)
		q.m.unmap()
		f.Close()
		return nil, err
	}
	if err := f.Truncate(mappingBytes); err != nil {
		return fail(err)
	}
	if err := ns.Protect(tmp, opts.Security.AllUsers, opts.Security.Group); err != nil {
		return fail(err)
	}
	if q.m.mem, err = mapFile(f); err != nil {
		return fail(err)
	}
	q.m.h = (*header)(unsafe.Pointer(&q.m.mem[0]))
	h := q.m.h
	h.pid, h.version = uint32(pid), version
	q.m.setName(filepath.Base(path))
	atomic.StoreUint32(&h.magic, magic)
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail(err)
	}
	for tries := 0; ; tries++ {
		err := os.Link(tmp, path)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return fail(errs.FromSys(err))
		}
		switch stale, err := removeStale(path); {
		case err != nil:
			return fail(err)
		case !stale && tries < 3:
			// A sender may be probing a dead queue's lock this instant.
			time.Sleep(time.Millisecond)
		case !stale:
			return fail(errs.New(errs.ErrExists, errors.New("a live queue has that name")))
		}
	}
	os.Remove(tmp)
	return q, nil
}

// sweep removes what dead processes of this user left in dir: queue files
// whose receiver is gone (a process that exits without Close leaves its
// file, where Windows destroys its window), payload files whose queue is
// gone, and half-made queues older than a minute. Side files are named
// QUEUE+d<slot>.<gen> and QUEUE+n<random>: '+' is escaped in queue names,
// so no queue's file looks like one. Best effort: Register and Find also
// replace or ignore a stale file of their own name. A file of another user
// (planted under this user's prefix, or a payload a sender of another user
// left) is never removed, not even by root.
func sweep(dir string) {
	prefix := queuePrefix()
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	ents, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return
	}
	for _, name := range ents {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || !mine(fi) {
			continue
		}
		queue, side, isSide := strings.Cut(name, "+")
		switch {
		case isSide && strings.HasPrefix(side, "d"):
			if _, err := os.Lstat(filepath.Join(dir, queue)); errors.Is(err, os.ErrNotExist) {
				os.Remove(path)
			}
		case isSide && strings.HasPrefix(side, "n"):
			if time.Since(fi.ModTime()) > time.Minute {
				removeStale(path) //nolint:errcheck // best effort
			}
		case !isSide:
			if fi.Size() == mappingBytes {
				removeStale(path) //nolint:errcheck // best effort
			}
		}
	}
}

// mine reports whether the file fi is this user's.
func mine(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// openQueueFile opens the file at path without following a symlink or
// blocking on a FIFO, and returns it with its fstat (so no path can be
// swapped under the checks that follow). A symlink or a file that is not a
// regular one is ErrAccessDenied naming path.
func openQueueFile(path string, flag int) (*os.File, *unix.Stat_t, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a symlink", path))
		}
		return nil, nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a regular file", path))
	}
	return f, &st, nil
}

// removeStale removes the queue file at path if no receiver holds it. A
// file of another user is neither locked nor removed, not even by root
// (its owner might still hold it): ErrAccessDenied naming it.
func removeStale(path string) (bool, error) {
	f, st, err := openQueueFile(path, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, errs.FromSys(err)
	}
	defer f.Close()
	if int(st.Uid) != os.Geteuid() {
		return false, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s belongs to %s: its owner must remove it", path, owner.UserName(int(st.Uid))))
	}
	if flock(f, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false, nil
	}
	var b unix.Stat_t
	if unix.Stat(path, &b) == nil && st.Ino == b.Ino && st.Dev == b.Dev {
		os.Remove(path)
	}
	return true, nil
}

// find tries this user's file of the queue, then other users' of that
// name: the first live one whose owner trust trusts is the queue. When
// none is, the first refusal (an untrusted owner, a mode that shuts the
// caller out) is the error, else ErrNotFound.
func (unixBackend) find(name string, trust owner.Trust) (sender, error) {
	path, err := queuePath(name)
	if err != nil {
		return nil, err
	}
	var refused error
	for _, p := range append([]string{path}, otherUsersQueues(path)...) {
		s, err := findAt(p, trust)
		if err == nil {
			return s, nil
		}
		if refused == nil && !errors.Is(err, errs.ErrNotFound) {
			refused = err
		}
	}
	if refused != nil {
		return nil, refused
	}
	return nil, errs.New(errs.ErrNotFound, errors.New("no live window of that name"))
}

// findAt opens the queue file at path as a sender. The owner check is on
// the open file (fstat), so the path cannot be swapped after it. A hard
// link cannot fool it: a link has the owner of its file, and a link of a
// trusted user's queue under another name fails the header's name check.
func findAt(path string, trust owner.Trust) (sender, error) {
	f, st, err := openQueueFile(path, os.O_RDWR)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errs.New(errs.ErrNotFound, errors.New("no window of that name"))
		}
		return nil, errs.FromSys(err)
	}
	if err := trust.CheckUID(int(st.Uid), "the queue's file "+path); err != nil {
		f.Close()
		return nil, err
	}
	if !receiverAlive(f) {
		f.Close()
		if int(st.Uid) == os.Geteuid() {
			removeStale(path) //nolint:errcheck // best effort: a dead receiver's leftover goes
		}
		return nil, errs.New(errs.ErrNotFound, errors.New("no live window of that name"))
	}
	mem, err := mapFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &unixSender{m: mapping{f: f, path: path, mem: mem, h: (*header)(unsafe.Pointer(&mem[0]))}}
	if atomic.LoadUint32(&s.m.h.magic) != magic || s.m.h.version != version {
		s.m.unmap()
		f.Close()
		return nil, errs.New(errs.ErrNotFound, errors.New("not a message queue of this version"))
	}
	if !s.m.named(filepath.Base(path)) {
		s.m.unmap()
		f.Close()
		return nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a link to the file of another queue", path))
	}
	return s, nil
}

// The post lock: the holder's pid, with lockSleepers set while someone
// may sleep on it. A holder that died holding it is noticed and the lock
// taken over (as syncobj's internal lock).
const lockSleepers = 1 << 31

func lockPost(h *header) {
	me := uint32(pid)
	w := &h.plock
	for spins := 0; spins < 50; spins++ {
		if atomic.CompareAndSwapUint32(w, 0, me) {
			return
		}
		runtime.Gosched()
	}
	words, seqs := []*uint32{w}, []uint32{0}
	for naps := 1; ; naps++ {
		v := atomic.LoadUint32(w)
		switch {
		case v == 0:
			if atomic.CompareAndSwapUint32(w, 0, me|lockSleepers) {
				return
			}
			continue
		case v&lockSleepers == 0:
			if !atomic.CompareAndSwapUint32(w, v, v|lockSleepers) {
				continue
			}
			v |= lockSleepers
		}
		if naps%8 == 0 && unix.Kill(int(v&^lockSleepers), 0) == unix.ESRCH {
			if atomic.CompareAndSwapUint32(w, v, me|lockSleepers) {
				return
			}
			continue
		}
		seqs[0] = v
		futex.WaitAny(words, seqs, &neverCancel, 10*time.Millisecond)
	}
}

var neverCancel uint32

func unlockPost(h *header) {
	if atomic.SwapUint32(&h.plock, 0)&lockSleepers != 0 {
		futex.Wake(&h.plock)
	}
}

// wakeReceiver tells the receiver that something arrived.
func wakeReceiver(h *header) {
	atomic.AddUint32(&h.rseq, 1)
	if atomic.LoadUint32(&h.rsleep) != 0 {
		futex.Wake(&h.rseq)
	}
}

// The sender.

type unixSender struct {
	m      mapping
	mu     sync.Mutex
	closed bool
	users  int // calls in progress, which still use the mapping
}

func (s *unixSender) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.ErrClosed
	}
	s.users++
	return nil
}

func (s *unixSender) leave() {
	s.mu.Lock()
	s.users--
	if s.closed && s.users == 0 {
		s.m.unmap()
		s.m.f.Close()
	}
	s.mu.Unlock()
}

func (s *unixSender) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.ErrClosed
	}
	s.closed = true
	if s.users == 0 {
		s.m.unmap()
		return s.m.f.Close()
	}
	return nil
}

// gone reports whether the receiver has closed the queue or died.
func (s *unixSender) gone() bool {
	return atomic.LoadUint32(&s.m.h.closed) != 0 || !receiverAlive(s.m.f)
}

func (s *unixSender) post(msg uint32, w, l uintptr) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	h := s.m.h
	if s.gone() {
		return errGone
	}
	lockPost(h)
	if atomic.LoadUint32(&h.count) >= Quota {
		unlockPost(h)
		return errs.New(errs.ErrQuota, fmt.Errorf("the queue holds %d messages", Quota))
	}
	p := s.m.post(h.tail)
	p.msg, p.pid, p.w, p.l = msg, uint32(pid), uint64(w), uint64(l)
	atomic.StoreUint64(&h.tail, h.tail+1)
	atomic.AddUint32(&h.count, 1)
	unlockPost(h)
	wakeReceiver(h)
	return nil
}

func (s *unixSender) send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	var cancel uint32
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			atomic.StoreUint32(&cancel, 1)
			futex.WakePrivate(&cancel)
		})
		defer stop()
	}
	i, err := s.claim(ctx, &cancel, notify)
	if err != nil {
		return 0, err
	}
	h, sl := s.m.h, s.m.slot(i)
	sl.pid, sl.msg, sl.w, sl.l, sl.result = uint32(pid), msg, uint64(w), uint64(l), 0
	sl.flags, sl.size, sl.gen = 0, 0, atomic.AddUint32(&h.gen, 1)
	if notify {
		sl.flags |= fNotify
	}
	external := ""
	if data != nil {
		sl.flags |= fData
		sl.size = uint64(len(data))
		if len(data) <= inlineData {
			copy(s.m.data(i), data)
		} else {
			sl.flags |= fExternal
			external = s.m.payloadPath(i, sl.gen)
			if err := writePayload(external, s.m.f, data); err != nil {
				s.free(i)
				return 0, err
			}
		}
	}
	sl.ticket = atomic.AddUint64(&h.ticket, 1)
	atomic.AddUint32(&h.pending, 1)
	atomic.StoreUint32(&sl.state, sPending)
	wakeReceiver(h)
	if notify {
		return 0, nil
	}
	return s.await(ctx, i, &cancel, external)
}

// await waits for the result of the message in slot i.
func (s *unixSender) await(ctx context.Context, i int, cancel *uint32, external string) (uintptr, error) {
	h, sl := s.m.h, s.m.slot(i)
	words, seqs := []*uint32{&sl.state}, []uint32{0}
	checked := time.Now()
	for {
		st := atomic.LoadUint32(&sl.state)
		switch st {
		case sReplied:
			r := uintptr(sl.result)
			s.free(i)
			return r, nil
		case sFailed:
			s.free(i)
			removePayload(external)
			return 0, errs.New(errs.ErrNotFound, errors.New("the window was destroyed before it answered"))
		}
		if atomic.LoadUint32(cancel) != 0 || ctx.Err() != nil {
			if atomic.CompareAndSwapUint32(&sl.state, sPending, sFree) {
				// Withdrawn: the receiver never sees it.
				atomic.AddUint32(&h.pending, ^uint32(0))
				removePayload(external)
				s.freed()
				return 0, errs.Timeout(ctx, errors.New("the window did not take the message in time"))
			}
			if atomic.CompareAndSwapUint32(&sl.state, sTaken, sAbandoned) {
				// The receiver's Reply frees the slot.
				return 0, errs.Timeout(ctx, errors.New("the window did not answer in time"))
			}
			continue // replied or failed meanwhile
		}
		if time.Since(checked) >= liveCheck {
			checked = time.Now()
			if !receiverAlive(s.m.f) {
				// A dead receiver touches nothing any more.
				if !atomic.CompareAndSwapUint32(&sl.state, st, sFree) {
					continue
				}
				if st == sPending {
					atomic.AddUint32(&h.pending, ^uint32(0))
				}
				removePayload(external)
				s.freed()
				return 0, errs.New(errs.ErrNotFound, errors.New("the window's process died before it answered"))
			}
		}
		atomic.StoreUint32(&sl.sleep, 1)
		seqs[0] = st
		if atomic.LoadUint32(&sl.state) == st {
			futex.WaitAny(words, seqs, cancel, liveCheck)
		}
		atomic.StoreUint32(&sl.sleep, 0)
	}
}

// claim takes a free send slot, waiting while all are in use.
func (s *unixSender) claim(ctx context.Context, cancel *uint32, notify bool) (int, error) {
	h := s.m.h
	words, seqs := []*uint32{&h.freeSeq}, []uint32{0}
	for {
		if s.gone() {
			return 0, errGone
		}
		seq := atomic.LoadUint32(&h.freeSeq)
		for i := range sendSlots {
			sl := s.m.slot(i)
			if atomic.LoadUint32(&sl.state) == sFree && atomic.CompareAndSwapUint32(&sl.state, sFree, sClaimed) {
				return i, nil
			}
		}
		if s.reclaim() {
			continue
		}
		if notify {
			return 0, errs.New(errs.ErrQuota, fmt.Errorf("all %d send slots of the queue are in use", sendSlots))
		}
		if atomic.LoadUint32(cancel) != 0 || ctx.Err() != nil {
			return 0, errs.Timeout(ctx, errors.New("all send slots of the window stayed busy"))
		}
		atomic.AddUint32(&h.freeSleep, 1)
		seqs[0] = seq
		futex.WaitAny(words, seqs, cancel, liveCheck)
		atomic.AddUint32(&h.freeSleep, ^uint32(0))
	}
}

// reclaim frees the slots that dead senders left claimed, replied or
// failed; it reports whether it freed any.
func (s *unixSender) reclaim() bool {
	freed := false
	for i := range sendSlots {
		sl := s.m.slot(i)
		st := atomic.LoadUint32(&sl.state)
		if st != sClaimed && st != sReplied && st != sFailed {
			continue
		}
		if p := atomic.LoadUint32(&sl.pid); p != 0 && unix.Kill(int(p), 0) == unix.ESRCH {
			if atomic.CompareAndSwapUint32(&sl.state, st, sFree) {
				freed = true
			}
		}
	}
	return freed
}

func (s *unixSender) free(i int) {
	atomic.StoreUint32(&s.m.slot(i).state, sFree)
	s.freed()
}

func (s *unixSender) freed() { slotFreed(s.m.h) }

func slotFreed(h *header) {
	atomic.AddUint32(&h.freeSeq, 1)
	if atomic.LoadUint32(&h.freeSleep) != 0 {
		futex.Wake(&h.freeSeq)
	}
}

// writePayload writes a large payload to a file of its own, readable by
// whoever may open the queue's file.
func writePayload(path string, queue *os.File, data []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return errs.FromSys(err)
	}
	if fi, err := queue.Stat(); err == nil {
		f.Chmod(fi.Mode().Perm())
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			// Best effort: the queue's group may not be ours to give.
			_ = f.Chown(-1, int(st.Gid))
		}
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return errs.FromSys(err)
	}
	return nil
}

func removePayload(path string) {
	if path != "" {
		os.Remove(path)
	}
}

// The receiver.

type unixReceiver struct {
	m mapping

	mu    sync.Mutex // guards what follows, and the reply of taken messages against close
	local []postSlot // posted messages moved out of the ring, oldest first
	shut  bool
	waits int               // gets in progress, which still use the mapping
	bufs  [sendSlots][]byte // the payloads of sent messages being handled, by slot
}

func (q *unixReceiver) close() error {
	q.mu.Lock()
	if q.shut {
		q.mu.Unlock()
		return errs.ErrClosed
	}
	q.shut = true
	h := q.m.h
	atomic.StoreUint32(&h.closed, 1)
	// Fail every send that waits for this queue: those not taken yet, and
	// those taken but not answered.
	for i := range sendSlots {
		sl := q.m.slot(i)
		for {
			st := atomic.LoadUint32(&sl.state)
			if st != sPending && st != sTaken {
				break
			}
			if st == sPending && sl.flags&fExternal != 0 {
				removePayload(q.m.payloadPath(i, sl.gen))
			}
			if atomic.CompareAndSwapUint32(&sl.state, st, sFailed) {
				futex.Wake(&sl.state)
				break
			}
		}
	}
	wakeReceiver(h) // the gets of this process see shut
	slotFreed(h)
	// The name goes before the lock, so no new sender finds a dead queue.
	os.Remove(q.m.path)
	err := q.m.f.Close()
	if q.waits == 0 {
		q.m.unmap()
	}
	q.mu.Unlock()
	return err
}

func (q *unixReceiver) get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error) {
	var cancel uint32
	if wait && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			atomic.StoreUint32(&cancel, 1)
			futex.WakePrivate(&cancel)
		})
		defer stop()
	}
	q.mu.Lock()
	if q.shut {
		q.mu.Unlock()
		return nil, errs.ErrClosed
	}
	q.waits++
	h := q.m.h
	defer func() {
		q.mu.Lock()
		q.waits--
		if q.shut && q.waits == 0 {
			q.m.unmap()
		}
		q.mu.Unlock()
	}()
	words := []*uint32{&h.rseq}
	seqs := []uint32{0}
	for {
		seq := atomic.LoadUint32(&h.rseq)
		m, err := q.take(min, max, remove)
		q.mu.Unlock()
		if m != nil || err != nil || !wait {
			return m, err
		}
		if atomic.LoadUint32(&cancel) != 0 || ctx.Err() != nil {
			return nil, errs.Timeout(ctx, nil)
		}
		atomic.AddUint32(&h.rsleep, 1)
		seqs[0] = seq
		// The context's end sets cancel; Close bumps rseq.
		err = futex.WaitAny(words, seqs, &cancel, idleWait)
		atomic.AddUint32(&h.rsleep, ^uint32(0))
		if err != nil {
			return nil, err
		}
		q.mu.Lock()
		if q.shut {
			q.mu.Unlock()
			return nil, errs.ErrClosed
		}
	}
}

// take returns the next message, or nil; q.mu is held.
func (q *unixReceiver) take(min, max uint32, remove bool) (*Message, error) {
	h := q.m.h
	for atomic.LoadUint32(&h.pending) != 0 {
		best, bt := -1, uint64(0)
		for i := range sendSlots {
			sl := q.m.slot(i)
			if atomic.LoadUint32(&sl.state) == sPending {
				if t := atomic.LoadUint64(&sl.ticket); best < 0 || t < bt {
					best, bt = i, t
				}
			}
		}
		if best < 0 {
			break
		}
		sl := q.m.slot(best)
		if !atomic.CompareAndSwapUint32(&sl.state, sPending, sTaken) {
			continue // withdrawn meanwhile
		}
		atomic.AddUint32(&h.pending, ^uint32(0))
		return q.sent(best)
	}
	// Posted messages: move the ring's into the private list, then take
	// the first that passes the filter.
	if atomic.LoadUint64(&h.tail) != h.head {
		lockPost(h)
		for t := h.tail; h.head != t; h.head++ {
			q.local = append(q.local, *q.m.post(h.head))
		}
		unlockPost(h)
	}
	for i, p := range q.local {
		if (min != 0 || max != 0) && (p.msg < min || p.msg > max) {
			continue
		}
		if remove {
			if i == 0 {
				q.local = q.local[1:] // the usual case, O(1); append reallocates as it must
			} else {
				q.local = append(q.local[:i], q.local[i+1:]...)
			}
			atomic.AddUint32(&h.count, ^uint32(0))
		}
		return &Message{Msg: p.msg, WParam: uintptr(p.w), LParam: uintptr(p.l), PID: int(p.pid)}, nil
	}
	return nil, nil
}

// sent builds the Message of the send in slot i, which the receiver has
// just taken; q.mu is held.
func (q *unixReceiver) sent(i int) (*Message, error) {
	sl := q.m.slot(i)
	m := &Message{Msg: sl.msg, WParam: uintptr(sl.w), LParam: uintptr(sl.l), PID: int(sl.pid), Sent: true}
	var derr error
	if sl.flags&fData != 0 {
		if sl.flags&fExternal != 0 {
			m.Data, derr = readPayload(q.m.payloadPath(i, sl.gen), sl.size)
		} else {
			// Into the slot's buffer, reused by its next message: Data is
			// valid until Reply (as Win32's lParam during the window
			// procedure), without an allocation per message.
			b := q.bufs[i]
			if cap(b) < int(sl.size) {
				b = make([]byte, inlineData)
				q.bufs[i] = b
			}
			m.Data = b[:sl.size:sl.size]
			copy(m.Data, q.m.data(i))
		}
	}
	if sl.flags&fNotify != 0 {
		atomic.StoreUint32(&sl.state, sFree)
		slotFreed(q.m.h)
		m.Sent = false
		return m, derr
	}
	if derr != nil {
		// The sender learns it as a failed send; Get goes on.
		q.answer(i, 0)
		return nil, nil
	}
	m.reply = func(r uintptr) error { return q.reply(i, r) }
	return m, nil
}

// readPayload reads and removes the payload file at path, which must be a
// regular file of size bytes (a sender states the size in shared memory:
// the file's own bounds what is allocated).
func readPayload(path string, size uint64) ([]byte, error) {
	f, st, err := openQueueFile(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	defer f.Close()
	if st.Size < 0 || uint64(st.Size) != size {
		return nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("%s holds %d bytes, not %d", path, st.Size, size))
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (q *unixReceiver) reply(i int, r uintptr) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut {
		return errs.ErrClosed
	}
	return q.answer(i, r)
}

// answer stores the result of slot i and wakes its sender; q.mu is held.
func (q *unixReceiver) answer(i int, r uintptr) error {
	sl := q.m.slot(i)
	atomic.StoreUint64(&sl.result, uint64(r))
	if atomic.CompareAndSwapUint32(&sl.state, sTaken, sReplied) {
		if atomic.LoadUint32(&sl.sleep) != 0 {
			futex.Wake(&sl.state)
		}
		return nil
	}
	// Abandoned: the sender gave up; the slot is free again.
	atomic.StoreUint32(&sl.state, sFree)
	slotFreed(q.m.h)
	return errs.New(errs.ErrNotFound, errors.New("the sender stopped waiting for the answer"))
}

// registerMessage looks name up in the machine's table of registered
// messages, a file of length-prefixed names under an exclusive flock; the
// number of a name is 0xC000 plus its index.
var msgCache sync.Map // lower-case name → uint32

func registerMessage(name string) uint32 {
	key := strings.ToLower(name)
	if id, ok := msgCache.Load(key); ok {
		return id.(uint32)
	}
	dir, err := shmDir()
	if err != nil {
		return 0
	}
	path := filepath.Join(dir, filePrefix()+"msgtab")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o666)
	if err != nil {
		return 0
	}
	defer f.Close()
	if flock(f, unix.LOCK_EX) != nil {
		return 0
	}
	defer flock(f, unix.LOCK_UN)
	// Every user of the machine registers in one table, as in Windows.
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm() != 0o666 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
			f.Chmod(0o666)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return 0
	}
	idx := 0
	for off := 0; off+2 <= len(b); idx++ {
		n := int(binary.LittleEndian.Uint16(b[off:]))
		if off+2+n > len(b) {
			break // torn by a writer that died: the rest is lost
		}
		if string(b[off+2:off+2+n]) == key {
			id := uint32(FirstRegistered + idx)
			msgCache.Store(key, id)
			return id
		}
		off += 2 + n
	}
	if FirstRegistered+idx > LastRegistered {
		return 0
	}
	rec := make([]byte, 2+len(key))
	binary.LittleEndian.PutUint16(rec, uint16(len(key)))
	copy(rec[2:], key)
	off := 0
	for o := 0; o+2 <= len(b); {
		n := int(binary.LittleEndian.Uint16(b[o:]))
		if o+2+n > len(b) {
			break
		}
		o += 2 + n
		off = o
	}
	if _, err := f.WriteAt(rec, int64(off)); err != nil {
		return 0
	}
	if err := f.Truncate(int64(off + len(rec))); err != nil {
		return 0
	}
	id := uint32(FirstRegistered + idx)
	msgCache.Store(key, id)
	return id
}
