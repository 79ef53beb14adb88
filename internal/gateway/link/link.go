// Package link is the protocol between an xipc client and another
// machine's gateway (see internal/gateway and docs/network.md): the
// versioned handshake that opens a remote pipe over mutual TLS 1.3, the
// chunk framing that relays the pipe's byte stream, the signed UDP
// datagrams that carry remote and broadcast mailslot messages, and where
// clients find their certificates and the gateway.
//
// Every decoder here reads bytes from another machine: it checks
// everything, never panics, and never sizes an allocation from a length it
// has not bounded first.
package link

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
)

// Version is the protocol version this package speaks.
const Version = 1

// ALPN is the TLS application protocol of the gateway.
const ALPN = "xipc-gateway/1"

// DefaultPort is the gateway's TCP port (pipes) and UDP port (mailslots).
const DefaultPort = 7440

var magic = [2]byte{'X', 'G'}

// Operations a Request asks for.
const (
	OpPipe = 1 // open a pipe instance and relay it
)

// MaxName bounds the name in a Request, in bytes (a pipe name is at most
// 256 characters, each at most 4 bytes of UTF-8).
const MaxName = 1024

// Request is the client's first message after the TLS handshake.
type Request struct {
	Op    uint8
	Flags uint8  // wire.Hello flags: wait, read, write
	Name  string // the pipe's key (case-folded name)
}

const requestHead = 7 // magic, version, op, flags, name length (uint16)

// Marshal encodes r.
func (r Request) Marshal() []byte {
	b := []byte{magic[0], magic[1], Version, r.Op, r.Flags}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(r.Name)))
	return append(b, r.Name...)
}

// ErrVersion is matched (with errs.ErrProtocol) by the error of a
// message of another protocol version.
var ErrVersion = errors.New("unsupported gateway protocol version")

// ReadRequest decodes a Request from r. Malformed input gives an error
// matching errs.ErrProtocol; another version also matches ErrVersion.
func ReadRequest(r io.Reader) (Request, error) {
	var h [requestHead]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Request{}, short(err)
	}
	if err := checkHead(h[:]); err != nil {
		return Request{}, err
	}
	q := Request{Op: h[3], Flags: h[4]}
	if q.Op != OpPipe {
		return Request{}, errs.New(errs.ErrProtocol, fmt.Errorf("unknown operation %d", q.Op))
	}
	n := int(binary.LittleEndian.Uint16(h[5:]))
	if n == 0 || n > MaxName {
		return Request{}, errs.New(errs.ErrProtocol, fmt.Errorf("name of %d bytes", n))
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return Request{}, short(err)
	}
	if !utf8.Valid(name) {
		return Request{}, errs.New(errs.ErrProtocol, errors.New("name is not UTF-8"))
	}
	q.Name = string(name)
	return q, nil
}

// Response statuses.
const (
	StatusOK       = 0 // connected to an instance: the stream follows
	StatusBusy     = 1 // every instance is in use
	StatusDenied   = 2 // the pipe refuses remote clients or this access
	StatusNotFound = 3 // no such pipe
	StatusVersion  = 4 // the gateway speaks another version
	StatusError    = 5 // something else failed; Msg says what
	statusMax      = StatusError
)

// MaxMsg bounds a Response's message, in bytes.
const MaxMsg = 1024

// Response is the gateway's answer to a Request.
type Response struct {
	Status uint8
	Flags  uint8 // wire.Reply flags: message pipe, server reads, server writes
	Msg    string
}

// Marshal encodes r, cutting Msg to MaxMsg bytes.
func (r Response) Marshal() []byte {
	m := r.Msg
	if len(m) > MaxMsg {
		m = m[:MaxMsg]
	}
	b := []byte{magic[0], magic[1], Version, r.Status, r.Flags}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(m)))
	return append(b, m...)
}

// ReadResponse decodes a Response from r; malformed input gives
// errs.ErrProtocol.
func ReadResponse(r io.Reader) (Response, error) {
	var h [requestHead]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Response{}, short(err)
	}
	if err := checkHead(h[:]); err != nil {
		return Response{}, err
	}
	p := Response{Status: h[3], Flags: h[4]}
	if p.Status > statusMax || p.Flags&^7 != 0 {
		return Response{}, errs.New(errs.ErrProtocol, fmt.Errorf("bad response %x", h[3:5]))
	}
	n := int(binary.LittleEndian.Uint16(h[5:]))
	if n > MaxMsg {
		return Response{}, errs.New(errs.ErrProtocol, fmt.Errorf("message of %d bytes", n))
	}
	m := make([]byte, n)
	if _, err := io.ReadFull(r, m); err != nil {
		return Response{}, short(err)
	}
	p.Msg = string(m)
	return p, nil
}

func checkHead(h []byte) error {
	if h[0] != magic[0] || h[1] != magic[1] {
		return errs.New(errs.ErrProtocol, fmt.Errorf("not an xipc gateway (magic %q)", h[:2]))
	}
	if h[2] != Version {
		return errs.New(errs.ErrProtocol, fmt.Errorf("%w %d, this side speaks %d", ErrVersion, h[2], Version))
	}
	return nil
}

// short turns an end of input inside a message into ErrProtocol.
func short(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errs.New(errs.ErrProtocol, io.ErrUnexpectedEOF)
	}
	return err
}

// The relayed stream: chunks of a little-endian uint32 header and its
// payload. A header with endBit set ends the stream; its low bits say how
// (EndClosed: the other side closed its end normally). Data chunks carry
// 1..MaxChunk bytes.
const (
	MaxChunk  = 64 << 10
	endBit    = 1 << 31
	EndClosed = 0
)

// ErrNoEnd is returned by RecvStream when the stream stopped without an
// end chunk: the connection was lost.
var ErrNoEnd = errors.New("the connection ended without an end-of-stream chunk")

// SendStream copies src to dst as data chunks until src ends, then writes
// an end chunk. It returns src's error (nil for io.EOF) or dst's.
func SendStream(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 4+MaxChunk/2)
	for {
		n, err := src.Read(buf[4:])
		if n > 0 {
			binary.LittleEndian.PutUint32(buf, uint32(n))
			if _, werr := dst.Write(buf[:4+n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			var end [4]byte
			binary.LittleEndian.PutUint32(end[:], endBit|EndClosed)
			if _, werr := dst.Write(end[:]); werr != nil && err == io.EOF {
				return werr
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// RecvStream copies the data chunks from src to dst until an end chunk,
// for which it returns nil. A stream cut short gives an error matching
// ErrNoEnd; a malformed one errs.ErrProtocol; a failed write dst's error
// (wrapped in *WriteError).
func RecvStream(dst io.Writer, src io.Reader) error {
	buf := make([]byte, MaxChunk)
	for {
		var h [4]byte
		if _, err := io.ReadFull(src, h[:]); err != nil {
			return fmt.Errorf("%w: %v", ErrNoEnd, err)
		}
		v := binary.LittleEndian.Uint32(h[:])
		if v&endBit != 0 {
			if v != endBit|EndClosed {
				return errs.New(errs.ErrProtocol, fmt.Errorf("unknown end code %d", v&^endBit))
			}
			return nil
		}
		if v == 0 || v > MaxChunk {
			return errs.New(errs.ErrProtocol, fmt.Errorf("chunk of %d bytes", v))
		}
		if _, err := io.ReadFull(src, buf[:v]); err != nil {
			return fmt.Errorf("%w: %v", ErrNoEnd, err)
		}
		if _, err := dst.Write(buf[:v]); err != nil {
			return &WriteError{err}
		}
	}
}

// WriteError is RecvStream's error when writing to its destination failed.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "relay write: " + e.Err.Error() }

// Unwrap returns the write's error.
func (e *WriteError) Unwrap() error { return e.Err }
