// Package conformance holds the behavioural suites that every backend of a
// mechanism must pass: the same tests run on Linux against the emulation and
// on Windows (or Wine) against Win32, like golang.org/x/net/nettest.TestConn.
//
// A suite drives peer processes: re-executions of the test binary that obey
// commands sent on their standard input. A package using a suite calls
// RunPeerIfAsked first thing in its TestMain.
package conformance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
)

// peerEnv names the environment variable that turns the test binary into a
// peer process; its value is the peer's role. There is one role, the agent,
// which knows the commands of every suite.
const (
	peerEnv   = "XIPC_PEER"
	agentRole = "agent"
)

// RunPeerIfAsked makes the process a peer and exits when the environment
// asks for one (the suites start peers that way); otherwise it returns at
// once. Call it at the top of TestMain, before anything else.
func RunPeerIfAsked() {
	role := os.Getenv(peerEnv)
	if role == "" {
		return
	}
	if role == agentRole {
		os.Exit(runAgent(os.Stdin, os.Stdout))
	}
	fmt.Fprintf(os.Stderr, "conformance: unknown peer role %q\n", role)
	os.Exit(2)
}

// request is one command to a peer; the fields used depend on Op.
type request struct {
	Seq      int
	Op       string
	ID       int                `json:",omitempty"` // an object of the peer: listener, connection, slot, writer
	Name     string             `json:",omitempty"`
	Listen   *pipe.ListenConfig `json:",omitempty"`
	Dial     *pipe.DialConfig   `json:",omitempty"`
	Mailslot *mailslot.Config   `json:",omitempty"`
	Timeout  time.Duration      `json:",omitempty"` // dial: 0 means context.Background(); slot writes: the write deadline from now, 0 none
	Delay    time.Duration      `json:",omitempty"` // reads: pause between reads
	Data     []byte             `json:",omitempty"`
	Count    int                `json:",omitempty"`
	Size     int                `json:",omitempty"`
	Seed     uint64             `json:",omitempty"`
	Vary     bool               `json:",omitempty"` // generated messages have varying sizes
}

// reply answers the request with the same Seq.
type reply struct {
	Seq   int
	ID    int      `json:",omitempty"`
	N     int      `json:",omitempty"` // bytes
	Count int      `json:",omitempty"` // messages, clients
	Data  []byte   `json:",omitempty"`
	Sum   string   `json:",omitempty"`
	Pid   int      `json:",omitempty"` // the peer's own process ID
	Peer  int      `json:",omitempty"` // PeerPID of a connection
	Err   string   `json:",omitempty"`
	EOF   bool     `json:",omitempty"` // Err is io.EOF itself, not wrapped
	Is    []string `json:",omitempty"` // the known errors Err matches
}

// knownErrors are the errors a peer reports by name, so that the test can
// use errors.Is on errors that happened in another process.
var knownErrors = []struct {
	name string
	err  error
}{
	{"ErrNotFound", errs.ErrNotFound},
	{"ErrExists", errs.ErrExists},
	{"ErrAccessDenied", errs.ErrAccessDenied},
	{"ErrClosed", errs.ErrClosed},
	{"ErrTimeout", errs.ErrTimeout},
	{"ErrBusy", errs.ErrBusy},
	{"ErrMoreData", errs.ErrMoreData},
	{"ErrBrokenPipe", errs.ErrBrokenPipe},
	{"ErrNotConnected", errs.ErrNotConnected},
	{"ErrInvalidName", errs.ErrInvalidName},
	{"ErrInvalidParameter", errs.ErrInvalidParameter},
	{"ErrInsufficientBuffer", errs.ErrInsufficientBuffer},
	{"ErrMessageTooLarge", errs.ErrMessageTooLarge},
	{"ErrNotSupported", errs.ErrNotSupported},
	{"ErrProtocol", errs.ErrProtocol},
	{"io.EOF", io.EOF},
	{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
	{"context.Canceled", context.Canceled},
}

func errName(target error) string {
	for _, k := range knownErrors {
		if k.err == target {
			return k.name
		}
	}
	return fmt.Sprint(target)
}

func (r *reply) setErr(err error) {
	if err == nil {
		return
	}
	r.Err = err.Error()
	r.EOF = err == io.EOF
	for _, k := range knownErrors {
		if errors.Is(err, k.err) {
			r.Is = append(r.Is, k.name)
		}
	}
}

// err rebuilds the peer's error: nil, io.EOF itself, or an error that
// matches (errors.Is) the known errors the original matched.
func (r reply) err() error {
	if r.Err == "" {
		return nil
	}
	if r.EOF {
		return io.EOF
	}
	e := &peerError{msg: r.Err}
	for _, name := range r.Is {
		for _, k := range knownErrors {
			if k.name == name {
				e.is = append(e.is, k.err)
			}
		}
	}
	return e
}

// peerError is an error that happened in a peer process.
type peerError struct {
	msg string
	is  []error
}

func (e *peerError) Error() string { return "in peer: " + e.msg }

func (e *peerError) Is(target error) bool {
	for _, x := range e.is {
		if x == target {
			return true
		}
	}
	return false
}

// payload returns message i of the stream seed: size bytes that differ from
// one message and one stream to the next, so that a lost, repeated,
// reordered or truncated message shows.
func payload(seed uint64, i, size int) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	var w [8]byte
	for j := 0; j < size; j += 8 {
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[j:], w[:])
	}
	return b
}

// genSize is the size of message i of a generated stream.
func genSize(size, i int, vary bool) int {
	if !vary {
		return size
	}
	return (i * 7919) % (size + 1) // all sizes 0..size, zero included
}

// msgSum hashes a sequence of messages, boundaries included.
type msgSum struct{ h hash.Hash }

func newMsgSum() msgSum { return msgSum{sha256.New()} }

func (s msgSum) add(m []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(m)))
	s.h.Write(n[:])
	s.h.Write(m)
}

func (s msgSum) String() string { return hex.EncodeToString(s.h.Sum(nil)) }

// byteSum hashes a byte stream.
func byteSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// agent is the peer process: it runs the commands it reads, each in its own
// goroutine, and writes one reply per command. The objects it opens (pipe
// listeners and connections, mailslots and their writers) have IDs.
type agent struct {
	mu   sync.Mutex
	next int
	objs map[int]any

	outMu sync.Mutex
	out   *json.Encoder
}

// agentOp runs one command, filling in the reply.
type agentOp func(a *agent, req request, r *reply) error

// agentOps are the commands of every suite, by name.
var agentOps = joinOps(commonOps, pipeOps, mailslotOps)

func joinOps(sets ...map[string]agentOp) map[string]agentOp {
	all := map[string]agentOp{}
	for _, set := range sets {
		for name, op := range set {
			if _, dup := all[name]; dup {
				panic("conformance: two peer commands named " + name)
			}
			all[name] = op
		}
	}
	return all
}

var commonOps = map[string]agentOp{
	"hello": func(*agent, request, *reply) error { return nil },
	// close closes any object.
	"close": func(a *agent, req request, _ *reply) error {
		c, err := object[io.Closer](a, req.ID)
		if err != nil {
			return err
		}
		return c.Close()
	},
}

func runAgent(in io.Reader, out io.Writer) int {
	a := &agent{objs: map[int]any{}, out: json.NewEncoder(out)}
	dec := json.NewDecoder(bufio.NewReader(in))
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if err == io.EOF {
				// The test is done with us; exiting closes everything, as a
				// process that ends without cleaning up does.
				return 0
			}
			fmt.Fprintln(os.Stderr, "peer: reading a command:", err)
			return 2
		}
		go a.run(req)
	}
}

func (a *agent) run(req request) {
	r := a.handle(req)
	r.Seq = req.Seq
	a.outMu.Lock()
	defer a.outMu.Unlock()
	if err := a.out.Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "peer: writing a reply:", err)
		os.Exit(2)
	}
}

func (a *agent) handle(req request) (r reply) {
	r.Pid = os.Getpid()
	op, ok := agentOps[req.Op]
	if !ok {
		r.setErr(fmt.Errorf("unknown command %q", req.Op))
		return r
	}
	r.setErr(op(a, req, &r))
	return r
}

// add keeps an object the peer opened and returns its ID.
func (a *agent) add(obj any) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	a.objs[a.next] = obj
	return a.next
}

// object returns the peer's object id, which must be a T.
func object[T any](a *agent, id int) (T, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	obj, ok := a.objs[id].(T)
	if !ok {
		return obj, fmt.Errorf("no %T with ID %d (have %T)", (*T)(nil), id, a.objs[id])
	}
	return obj, nil
}

// on makes a command on an object of type T out of f.
func on[T any](f func(obj T, req request, r *reply) error) agentOp {
	return func(a *agent, req request, r *reply) error {
		obj, err := object[T](a, req.ID)
		if err != nil {
			return err
		}
		return f(obj, req, r)
	}
}
