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
	"github.com/xipc/xipc/pipe"
)

// peerEnv names the environment variable that turns the test binary into a
// peer process; its value is the peer's role.
const peerEnv = "XIPC_PEER"

// RunPeerIfAsked makes the process a peer and exits when the environment
// asks for one (the suites start peers that way); otherwise it returns at
// once. Call it at the top of TestMain, before anything else.
func RunPeerIfAsked() {
	role := os.Getenv(peerEnv)
	if role == "" {
		return
	}
	switch role {
	case "pipe":
		os.Exit(runPipePeer(os.Stdin, os.Stdout))
	}
	fmt.Fprintf(os.Stderr, "conformance: unknown peer role %q\n", role)
	os.Exit(2)
}

// request is one command to a peer; the fields used depend on Op.
type request struct {
	Seq     int
	Op      string
	ID      int                `json:",omitempty"` // a listener or connection of the peer
	Name    string             `json:",omitempty"`
	Listen  *pipe.ListenConfig `json:",omitempty"`
	Dial    *pipe.DialConfig   `json:",omitempty"`
	Timeout time.Duration      `json:",omitempty"` // dial: 0 means context.Background()
	Delay   time.Duration      `json:",omitempty"` // reads: pause between reads
	Data    []byte             `json:",omitempty"`
	Count   int                `json:",omitempty"`
	Size    int                `json:",omitempty"`
	Seed    uint64             `json:",omitempty"`
	Vary    bool               `json:",omitempty"` // generated messages have varying sizes
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

// readWhole reads one whole message, however long, with ReadMsg.
func readWhole(c *pipe.Conn, buf []byte) ([]byte, error) {
	var msg []byte
	for {
		n, err := c.ReadMsg(buf)
		msg = append(msg, buf[:n]...)
		if errors.Is(err, errs.ErrMoreData) {
			continue
		}
		if msg == nil {
			msg = []byte{}
		}
		return msg, err
	}
}

// echoPrefix starts every answer of a serving peer.
const echoPrefix = "echo:"

// agent is the peer process: it runs the commands it reads, each in its own
// goroutine, and writes one reply per command.
type agent struct {
	mu    sync.Mutex
	next  int
	lns   map[int]*pipe.Listener
	conns map[int]*pipe.Conn

	outMu sync.Mutex
	out   *json.Encoder
}

func runPipePeer(in io.Reader, out io.Writer) int {
	a := &agent{lns: map[int]*pipe.Listener{}, conns: map[int]*pipe.Conn{}, out: json.NewEncoder(out)}
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

func (a *agent) add(l *pipe.Listener, c *pipe.Conn) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	if l != nil {
		a.lns[a.next] = l
	} else {
		a.conns[a.next] = c
	}
	return a.next
}

func (a *agent) conn(id int) (*pipe.Conn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.conns[id]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("no connection %d", id)
}

func (a *agent) listener(id int) (*pipe.Listener, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.lns[id]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no listener %d", id)
}

func (a *agent) handle(req request) (r reply) {
	r.Pid = os.Getpid()
	var err error
	defer func() { r.setErr(err) }()
	switch req.Op {
	case "hello":
	case "listen":
		var l *pipe.Listener
		if l, err = pipe.Listen(req.Name, req.Listen); err == nil {
			r.ID = a.add(l, nil)
		}
	case "accept":
		var l *pipe.Listener
		var c *pipe.Conn
		if l, err = a.listener(req.ID); err != nil {
			return
		}
		if c, err = l.AcceptPipe(); err == nil {
			r.ID, r.Peer = a.add(nil, c), c.PeerPID()
		}
	case "serve":
		var l *pipe.Listener
		if l, err = a.listener(req.ID); err == nil {
			go serveEcho(l)
		}
	case "closeListener":
		var l *pipe.Listener
		if l, err = a.listener(req.ID); err == nil {
			err = l.Close()
		}
	case "dial":
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if req.Timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		}
		defer cancel()
		var c *pipe.Conn
		if c, err = pipe.Dial(ctx, req.Name, req.Dial); err == nil {
			r.ID, r.Peer = a.add(nil, c), c.PeerPID()
		}
	default:
		var c *pipe.Conn
		if c, err = a.conn(req.ID); err != nil {
			return
		}
		err = a.connOp(c, req, &r)
	}
	return r
}

func (a *agent) connOp(c *pipe.Conn, req request, r *reply) error {
	switch req.Op {
	case "write":
		n, err := c.WriteMsg(req.Data)
		r.N = n
		return err
	case "writeGen":
		// Count generated messages (or writes, on a byte pipe).
		sum := newMsgSum()
		for i := range req.Count {
			m := payload(req.Seed, i, genSize(req.Size, i, req.Vary))
			sum.add(m)
			n, err := c.WriteMsg(m)
			r.N += n
			if err != nil {
				return err
			}
			r.Count++
		}
		r.Sum = sum.String()
		return nil
	case "readMsg":
		buf := make([]byte, req.Size)
		n, err := c.ReadMsg(buf)
		r.N, r.Data = n, buf[:n]
		return err
	case "read":
		buf := make([]byte, req.Size)
		n, err := c.Read(buf)
		r.N, r.Data = n, buf[:n]
		return err
	case "readMsgs":
		// Whole messages until io.EOF or Count of them, pausing Delay
		// every 50 messages; the sum covers the boundaries.
		sum := newMsgSum()
		buf := make([]byte, 64<<10)
		defer func() { r.Sum = sum.String() }()
		for req.Count == 0 || r.Count < req.Count {
			m, err := readWhole(c, buf)
			if err == io.EOF && len(m) == 0 {
				return nil
			}
			if err != nil {
				return err
			}
			sum.add(m)
			r.Count++
			r.N += len(m)
			if r.Count%50 == 0 {
				time.Sleep(req.Delay)
			}
		}
		return nil
	case "readAll":
		// A byte stream until io.EOF, Size bytes per Read, pausing Delay
		// every 50 reads.
		h := sha256.New()
		buf := make([]byte, max(req.Size, 1))
		defer func() { r.Sum = hex.EncodeToString(h.Sum(nil)) }()
		for reads := 0; ; {
			n, err := c.Read(buf)
			h.Write(buf[:n])
			r.N += n
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if reads++; reads%50 == 0 {
				time.Sleep(req.Delay)
			}
		}
	case "closeWrite":
		return c.CloseWrite()
	case "close":
		return c.Close()
	}
	return fmt.Errorf("unknown command %q", req.Op)
}

// serveEcho answers every message of every client with echoPrefix and the
// message, until the listener is closed.
func serveEcho(l *pipe.Listener) {
	for {
		c, err := l.AcceptPipe()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				m, err := readWhole(c, buf)
				if err != nil {
					return
				}
				if _, err := c.WriteMsg(append([]byte(echoPrefix), m...)); err != nil {
					return
				}
			}
		}()
	}
}
