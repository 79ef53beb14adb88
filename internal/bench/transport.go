package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm/ring"
)

// A msgConn carries whole messages both ways: an xipc object or the raw OS
// transport it is measured against. Both the bench (client) side and the
// peer (server) side use it.
type msgConn interface {
	send(p []byte) error
	// recv reads the next message into p and returns its length.
	recv(p []byte) (int, error)
	close() error
}

// The first byte of every message the bench sends tells the peer what to
// do with it (answer).
const (
	opEcho = 'e' // send the message back: a round trip
	opData = 'd' // count it: one-way throughput
	opAck  = 'a' // answer with the count of opData messages since the last ack (8 bytes)
	// opReply asks for an 8-byte answer: a request with a payload and a
	// small result, as msgq's SendData.
	opReply = 'r'
)

// replySize is the size of the answer to opReply and opAck.
const replySize = 8

// frameHeader is the length prefix of the stream baselines (unix, tcp):
// a little-endian uint32, as the project's baselines and a hand-written
// Go transport frame messages.
const frameHeader = 4

// streamConn is a unix or TCP socket with 4-byte length-prefixed
// messages: one write(2) per message (header and payload copied into one
// buffer), and a 64 KiB bufio.Reader on the reading side.
type streamConn struct {
	c    net.Conn
	r    *bufio.Reader
	wbuf []byte
	hdr  [frameHeader]byte
}

func newStreamConn(c net.Conn, max int) *streamConn {
	return &streamConn{c: c, r: bufio.NewReaderSize(c, 64<<10), wbuf: make([]byte, frameHeader+max)}
}

func (s *streamConn) send(p []byte) error {
	if len(p) > len(s.wbuf)-frameHeader {
		return fmt.Errorf("message of %d bytes: larger than the %d-byte buffer", len(p), len(s.wbuf)-frameHeader)
	}
	binary.LittleEndian.PutUint32(s.wbuf, uint32(len(p)))
	copy(s.wbuf[frameHeader:], p)
	_, err := s.c.Write(s.wbuf[:frameHeader+len(p)])
	return err
}

func (s *streamConn) recv(p []byte) (int, error) {
	if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint32(s.hdr[:]))
	if n > len(p) {
		return 0, fmt.Errorf("message of %d bytes: larger than the %d-byte buffer", n, len(p))
	}
	return io.ReadFull(s.r, p[:n])
}

func (s *streamConn) close() error { return s.c.Close() }

// pipeConn is an xipc message-mode pipe connection.
type pipeConn struct{ c *pipe.Conn }

func (p pipeConn) send(b []byte) error        { _, err := p.c.WriteMsg(b); return err }
func (p pipeConn) recv(b []byte) (int, error) { return p.c.ReadMsg(b) }
func (p pipeConn) close() error               { return p.c.Close() }
func dialPipe(ctx context.Context, name string) (msgConn, error) {
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		return nil, err
	}
	return pipeConn{c}, nil
}

// dgramConn is one side of a pair of datagram endpoints: it reads from its
// own (a mailslot or a bound unixgram socket) and writes to the other
// side's.
type dgramConn struct {
	in  io.ReadCloser
	out io.WriteCloser
}

func (d dgramConn) send(p []byte) error        { _, err := d.out.Write(p); return err }
func (d dgramConn) recv(p []byte) (int, error) { return d.in.Read(p) }
func (d dgramConn) close() error               { return errors.Join(d.out.Close(), d.in.Close()) }

// createMailslot creates the mailslot that this side reads; its reads wait
// without limit (Close ends them).
func createMailslot(name string) (io.ReadCloser, error) {
	return mailslot.Create(name, &mailslot.Config{ReadTimeout: mailslot.WaitForever})
}

func openMailslot(name string) (io.WriteCloser, error) { return mailslot.Open(name) }

func listenUnixgram(path string) (io.ReadCloser, error) {
	return net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
}

func dialUnixgram(path string) (io.WriteCloser, error) {
	return net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
}

// ringConn is a pair of shm rings, one each way. A message is copied into
// the ring by the sender and out of it by the receiver, as a socket copies
// into and out of the kernel.
type ringConn struct {
	ctx     context.Context
	out, in *ring.Ring
}

func (r ringConn) send(p []byte) error {
	b, err := r.out.Reserve(r.ctx, len(p))
	if err != nil {
		return err
	}
	copy(b, p)
	return r.out.Commit(len(p))
}

func (r ringConn) recv(p []byte) (int, error) {
	m, err := r.in.Read(r.ctx)
	if err != nil {
		return 0, err
	}
	n := copy(p, m)
	r.in.Release()
	if n < len(m) {
		return n, fmt.Errorf("message of %d bytes: larger than the %d-byte buffer", len(m), len(p))
	}
	return n, nil
}

func (r ringConn) close() error { return errors.Join(r.out.Close(), r.in.Close()) }

// ringSize is the data area of a ring that carries messages of up to max
// bytes: at least 4 MiB, so that a stream of 64 KiB messages seldom waits
// (the ring package's benchmarks found 1 MiB 10-20% slower), and room for
// four of the largest messages.
func ringSize(max int) int {
	n := 4 << 20
	for n < 4*(max+64) {
		n <<= 1
	}
	return n
}

// serveConn is the peer's side of one connection: it answers every
// message until the connection fails or closes.
func serveConn(c msgConn, size int) error {
	buf := make([]byte, max(size, 8))
	var count uint64
	var ack [8]byte
	for {
		n, err := c.recv(buf)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		switch buf[0] {
		case opEcho:
			err = c.send(buf[:n])
		case opReply:
			clear(ack[:])
			err = c.send(ack[:])
		case opData:
			count++
		case opAck:
			binary.LittleEndian.PutUint64(ack[:], count)
			count = 0
			err = c.send(ack[:])
		default:
			err = fmt.Errorf("unknown message type %q", buf[0])
		}
		if err != nil {
			return err
		}
	}
}
