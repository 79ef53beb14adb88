//go:build unix

package pipe

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wire"
)

// bufSize is the size of the buffers a connection borrows to read frames
// and to write small messages with one syscall. Connections hold no buffer
// while idle: a reader takes one only when the socket has data and gives it
// back once it has consumed what it read.
const bufSize = 16 << 10

var bufPool = sync.Pool{New: func() any { return new([bufSize]byte) }}

type sysConn struct {
	uc         *net.UnixConn
	rc         syscall.RawConn
	msgW       bool // message pipe: each write is a frame
	msgR       bool // reads keep message boundaries
	canR, canW bool // access granted at open
	pid        int
	remote     *RemotePeer  // server side: a client relayed by the gateway
	l          *sysListener // server side: the instance goes back on close
	released   atomic.Bool

	rmu     sync.Mutex
	rb      *[bufSize]byte // buffered bytes rb[r:w]; nil when empty
	r, w    int
	inMsg   bool // a header was read; remain bytes of its payload are due
	remain  int
	readErr error
	readFn  func(fd uintptr) bool // c.doRead, bound once

	wmu     sync.Mutex
	wbroken error // a message was cut short: the frame stream is unusable
}

func newSysConn(uc *net.UnixConn, msgW, msgR, canR, canW bool) (*sysConn, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &sysConn{uc: uc, rc: rc, msgW: msgW, msgR: msgR, canR: canR, canW: canW}
	c.readFn = c.doRead
	cr, err := peerCred(uc)
	if err != nil {
		return nil, err
	}
	c.pid = cr.pid
	return c, nil
}

func (c *sysConn) messageRead() bool  { return c.msgR }
func (c *sysConn) messageWrite() bool { return c.msgW }
func (c *sysConn) peerPID() int       { return c.pid }

var (
	errNoRead  = errs.New(errs.ErrAccessDenied, errors.New("the pipe was not opened for reading"))
	errNoWrite = errs.New(errs.ErrAccessDenied, errors.New("the pipe was not opened for writing"))
	errCut     = errs.New(errs.ErrBrokenPipe, io.ErrUnexpectedEOF)
)

// doRead is the RawConn callback: it reads what the socket has into the
// buffer, borrowing one only when there is data.
func (c *sysConn) doRead(fd uintptr) bool {
	fresh := c.rb == nil
	if fresh {
		c.rb = bufPool.Get().(*[bufSize]byte)
	}
	for {
		n, err := unix.Read(int(fd), c.rb[c.w:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if fresh {
				c.putBuf()
			}
			return false
		case err != nil:
			c.readErr = err
		case n == 0:
			c.readErr = io.EOF
		default:
			c.w += n
		}
		return true
	}
}

func (c *sysConn) putBuf() {
	bufPool.Put(c.rb)
	c.rb, c.r, c.w = nil, 0, 0
}

// releaseBuf gives the buffer back when everything in it was consumed.
func (c *sysConn) releaseBuf() {
	if c.rb != nil && c.r == c.w {
		c.putBuf()
	}
}

// fill reads at least one more byte into the buffer.
func (c *sysConn) fill() error {
	if c.rb != nil && c.r > 0 {
		c.w = copy(c.rb[:], c.rb[c.r:c.w])
		c.r = 0
	}
	c.readErr = nil
	if err := c.rc.Read(c.readFn); err != nil {
		return errs.UnwrapNet(err)
	}
	return c.readErr
}

// cut turns an end of stream inside a frame into ErrBrokenPipe.
func cut(err error) error {
	if err == io.EOF {
		return errCut
	}
	return err
}

// dropCut forgets a frame the peer cut short, once it has been reported,
// so that the next read sees the end of the stream.
func (c *sysConn) dropCut(err error) error {
	if err == errCut {
		c.inMsg, c.remain, c.r = false, 0, c.w
	}
	return err
}

func (c *sysConn) readMsg(p []byte) (int, error) {
	if !c.canR {
		return 0, errNoRead
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	defer c.releaseBuf()
	return c.readMsgLocked(p)
}

// readMsgLocked reads the current message, or the next one, into p: exactly
// min(len(p), what is left of it) bytes. It returns errs.ErrMoreData while
// part of the message remains.
func (c *sysConn) readMsgLocked(p []byte) (int, error) {
	if !c.inMsg {
		for c.w-c.r < wire.HeaderSize {
			if err := c.fill(); err != nil {
				if err == io.EOF && c.w == c.r {
					return 0, io.EOF // the peer closed between messages
				}
				return 0, c.dropCut(cut(err))
			}
		}
		c.remain = wire.Header(c.rb[c.r:])
		c.r += wire.HeaderSize
		c.inMsg = true
	}
	want := min(len(p), c.remain)
	n := 0
	var err error
	for n < want && err == nil {
		switch {
		case c.r < c.w:
			k := copy(p[n:want], c.rb[c.r:c.w])
			c.r += k
			n += k
		case want-n >= bufSize/2:
			// Large payloads go straight into p, with no copy.
			var k int
			k, err = c.uc.Read(p[n:want])
			n += k
			err = cut(errs.UnwrapNet(err))
		default:
			err = cut(c.fill())
		}
	}
	c.remain -= n
	if err != nil {
		return n, c.dropCut(err)
	}
	if c.remain > 0 {
		return n, errs.ErrMoreData
	}
	c.inMsg = false
	return n, nil
}

func (c *sysConn) read(p []byte) (int, error) {
	if !c.canR {
		return 0, errNoRead
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if !c.msgW {
		n, err := c.uc.Read(p)
		return n, errs.UnwrapNet(err)
	}
	defer c.releaseBuf()
	// A message pipe read in byte mode: the payloads run together. Go on
	// into the next message only while its bytes are already here.
	n := 0
	for n < len(p) {
		if n > 0 && (c.inMsg && c.r == c.w || !c.inMsg && c.w-c.r < wire.HeaderSize) {
			break
		}
		k, err := c.readMsgLocked(p[n:])
		n += k
		if err != nil && err != errs.ErrMoreData {
			if n > 0 && err == io.EOF {
				err = nil
			}
			return n, err
		}
	}
	return n, nil
}

func (c *sysConn) write(p []byte) (int, error) {
	if !c.canW {
		return 0, errNoWrite
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbroken != nil {
		return 0, c.wbroken
	}
	if !c.msgW {
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.uc.Write(p)
		return n, errs.UnwrapNet(err)
	}
	if len(p) > wire.MaxMessage {
		return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes", len(p)))
	}
	var n int
	var err error
	if len(p) <= bufSize-wire.HeaderSize {
		// Header and payload in one write(2), through a borrowed buffer.
		b := bufPool.Get().(*[bufSize]byte)
		wire.PutHeader(b[:], len(p))
		copy(b[wire.HeaderSize:], p)
		n, err = c.uc.Write(b[:wire.HeaderSize+len(p)])
		bufPool.Put(b)
	} else {
		var hdr [wire.HeaderSize]byte
		wire.PutHeader(hdr[:], len(p))
		bufs := net.Buffers{hdr[:], p}
		var n64 int64
		n64, err = bufs.WriteTo(c.uc) // writev(2)
		n = int(n64)
	}
	if err == nil {
		return len(p), nil
	}
	err = errs.UnwrapNet(err)
	if n > 0 {
		// Part of a frame went out: the peer would take the next message
		// for the rest of this one. Stop writing and let it see the cut.
		c.wbroken = errs.New(errs.ErrBrokenPipe, fmt.Errorf("a message write was cut short (%w); no more messages can follow", err))
		c.uc.CloseWrite()
		n -= wire.HeaderSize
	}
	return max(n, 0), err
}

func (c *sysConn) setDeadline(t time.Time, read, write bool) error {
	var err error
	switch {
	case read && write:
		err = c.uc.SetDeadline(t)
	case read:
		err = c.uc.SetReadDeadline(t)
	default:
		err = c.uc.SetWriteDeadline(t)
	}
	return errs.UnwrapNet(err)
}

func (c *sysConn) close() error {
	err := c.uc.Close()
	if c.l != nil && c.released.CompareAndSwap(false, true) {
		c.l.release()
	}
	return errs.UnwrapNet(err)
}
