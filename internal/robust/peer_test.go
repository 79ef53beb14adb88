package robust

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/shm/ring"
	"github.com/xipc/xipc/syncobj"
)

// peerEnv names the variable that makes the test binary a peer; its value
// is the peer's role.
const peerEnv = "XIPC_ROBUST_PEER"

// runPeer runs the peer role and returns its exit code.
func runPeer(role string) int {
	switch role {
	case "objects":
		return objectsPeer(os.Stdin, os.Stdout)
	}
	if f := peerRoles[role]; f != nil {
		return f()
	}
	fmt.Fprintf(os.Stderr, "robust: unknown peer role %q\n", role)
	return 2
}

// peerRoles holds the roles that the tests of other files add.
var peerRoles = map[string]func() int{}

// kinds are the kinds of object the objects peer and the tests know, with
// the name each uses: kernel objects need Global\ to be shared between
// users (Local\ is per user on Unix).
var kinds = []string{"pipe", "mailslot", "shm", "mutex", "event", "semaphore", "ring"}

func objName(kind, base string) string {
	switch kind {
	case "pipe", "mailslot":
		return base
	}
	return `Global\` + base
}

// secOf parses a security spec: "owner", "all", or "group:GROUP".
func secOf(spec string) (all bool, group string) {
	if g, ok := strings.CutPrefix(spec, "group:"); ok {
		return false, g
	}
	return spec == "all", ""
}

// ownerOf parses an owner spec: "-" (the default), "any", or a user.
func ownerOf(spec string) (any bool, user string) {
	switch spec {
	case "-", "":
		return false, ""
	case "any":
		return true, ""
	}
	return false, spec
}

// create makes the object and returns it open.
func create(kind, name, sec, own string) (io.Closer, bool, error) {
	all, group := secOf(sec)
	any, user := ownerOf(own)
	switch kind {
	case "pipe":
		l, err := pipe.Listen(name, &pipe.ListenConfig{FirstInstance: true, Security: pipe.Security{AllUsers: all, Group: group}})
		return l, false, err
	case "mailslot":
		s, err := mailslot.Create(name, &mailslot.Config{Security: mailslot.Security{AllUsers: all, Group: group}})
		return s, false, err
	case "shm":
		m, err := shm.Create(name, 4096, &shm.Options{Security: shm.Security{AllUsers: all, Group: group}, Owner: shm.Owner{User: user, AnyUser: any}})
		if err != nil {
			return nil, false, err
		}
		return m, m.Existed(), nil
	case "ring":
		r, err := ring.Create(name, ring.Producer, ring.MinSize, &ring.Options{Security: shm.Security{AllUsers: all, Group: group}, Owner: shm.Owner{User: user, AnyUser: any}})
		return r, false, err
	}
	opts := &syncobj.Options{Security: syncobj.Security{AllUsers: all, Group: group}, Owner: syncobj.Owner{User: user, AnyUser: any}}
	var h interface {
		io.Closer
		Existed() bool
	}
	var err error
	switch kind {
	case "mutex":
		h, err = syncobj.CreateMutex(name, false, opts)
	case "event":
		h, err = syncobj.CreateEvent(name, true, false, opts)
	case "semaphore":
		h, err = syncobj.CreateSemaphore(name, 0, 10, opts)
	default:
		return nil, false, fmt.Errorf("unknown kind %q", kind)
	}
	if err != nil {
		return nil, false, err
	}
	return h, h.Existed(), nil
}

// open opens the existing object as a client would, uses it once, and
// closes it.
func open(kind, name, own string) error {
	any, user := ownerOf(own)
	var c io.Closer
	var err error
	switch kind {
	case "pipe":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var pc *pipe.Conn
		if pc, err = pipe.Dial(ctx, name, &pipe.DialConfig{Owner: pipe.Owner{User: user, AnyUser: any}}); err == nil {
			c = pc
		}
	case "mailslot":
		var w *mailslot.Writer
		if w, err = mailslot.Open(name, mailslot.Owner{User: user, AnyUser: any}); err == nil {
			_, err = w.Write([]byte("hello"))
			c = w
		}
	case "shm":
		c, err = closer(shm.Open(name, shm.ReadWrite, shm.Owner{User: user, AnyUser: any}))
	case "ring":
		c, err = closer(ring.Open(name, ring.Consumer, &ring.Options{Owner: shm.Owner{User: user, AnyUser: any}}))
		if errors.Is(err, errs.ErrBrokenPipe) {
			// A ring carries one stream: after the first opener closed,
			// the role is used up, which Open finds only once it has
			// passed the owner and permission checks.
			err = nil
		}
	case "mutex":
		c, err = closer(syncobj.OpenMutex(name, syncobj.Owner{User: user, AnyUser: any}))
	case "event":
		c, err = closer(syncobj.OpenEvent(name, syncobj.Owner{User: user, AnyUser: any}))
	case "semaphore":
		c, err = closer(syncobj.OpenSemaphore(name, syncobj.Owner{User: user, AnyUser: any}))
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	if c != nil {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func poke(path, off, data string) error {
	o, err := strconv.ParseInt(off, 0, 64)
	if err != nil {
		return err
	}
	var b []byte
	if data == "PID" {
		b = binary.LittleEndian.AppendUint32(nil, uint32(os.Getpid()))
	} else if b, err = hex.DecodeString(data); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(b, o)
	return err
}

// closer returns c as an io.Closer, nil (not a typed nil) on error.
func closer[C io.Closer](c C, err error) (io.Closer, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// outcome names the result of an operation as the peer reports it.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errs.ErrAccessDenied) && errors.Is(err, errs.ErrNotFound):
		return "ambiguous: " + err.Error()
	case errors.Is(err, errs.ErrAccessDenied):
		return "denied"
	case errors.Is(err, errs.ErrExists):
		return "exists"
	case errors.Is(err, errs.ErrNotFound):
		return "notfound"
	}
	return "error: " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// objectsPeer obeys lines from in, answering each with one line:
//
//	create KIND NAME SEC OWNER   keeps the object open; "ok", "joined" or an outcome
//	open KIND NAME OWNER         opens, uses and closes it; an outcome
//	poke PATH OFFSET HEX         writes bytes (HEX, or "PID": this process's
//	                             pid as a little-endian uint32) into the
//	                             file at PATH, as a hostile peer with write
//	                             access to a mapping would
//	exit                         closes everything and exits
func objectsPeer(in io.Reader, out io.Writer) int {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var res string
		switch {
		case len(f) == 5 && f[0] == "create":
			c, joined, err := create(f[1], f[2], f[3], f[4])
			res = outcome(err)
			if err == nil {
				held = append(held, c)
				if joined {
					res = "joined"
				}
			}
		case len(f) == 4 && f[0] == "open":
			res = outcome(open(f[1], f[2], f[3]))
		case len(f) == 4 && f[0] == "poke":
			res = outcome(poke(f[1], f[2], f[3]))
		case len(f) == 1 && f[0] == "exit":
			return 0
		default:
			res = fmt.Sprintf("error: bad command %q", sc.Text())
		}
		fmt.Fprintln(out, res)
	}
	return 0
}

// peer is a running objects peer.
type peer struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	once  sync.Once
}

// startPeer starts bin (the test binary, or a copy of it) in role with the
// extra environment env; setup may change the command (credentials).
func startPeer(t testing.TB, bin, role string, env []string, setup func(*exec.Cmd)) *peer {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), peerEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	if setup != nil {
		setup(cmd)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, cmd: cmd, in: in, lines: make(chan string, 1024)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// do sends a command line and returns the peer's answer.
func (p *peer) do(line string) string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.in, line); err != nil {
		p.t.Fatalf("peer: %s: %v", line, err)
	}
	return p.next(line)
}

// next returns the next line the peer prints.
func (p *peer) next(what string) string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("peer: %s: the peer exited", what)
		}
		return l
	case <-time.After(30 * time.Second):
		p.t.Fatalf("peer: %s: no answer in 30 s", what)
	}
	return ""
}

// stop ends the peer (closing its input) and waits for it.
func (p *peer) stop() {
	p.once.Do(func() {
		p.in.Close()
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
		for range p.lines {
		}
	})
}

// kill ends the peer with SIGKILL (TerminateProcess on Windows).
func (p *peer) kill() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.in.Close()
		for range p.lines {
		}
	})
}
