// Package wire holds the byte formats shared by xipc's Unix emulations:
// the length prefix that carries message boundaries over a stream socket,
// and the small handshake that a pipe client and server exchange when they
// connect (instances, busy, access).
//
// Every decoder here takes bytes from another process, which may be buggy or
// hostile: decoders check everything, never panic, and never size an
// allocation from a peer's length field.
package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/xipc/xipc/internal/errs"
)

// HeaderSize is the size of a message header: a little-endian uint32 length.
const HeaderSize = 4

// MaxMessage is the largest message a header can describe.
const MaxMessage = 1<<32 - 1

// PutHeader writes the header of an n-byte message into b[:HeaderSize].
func PutHeader(b []byte, n int) { binary.LittleEndian.PutUint32(b, uint32(n)) }

// Header returns the message length in b[:HeaderSize].
func Header(b []byte) int { return int(binary.LittleEndian.Uint32(b)) }

// Handshake sizes. A client sends a Hello right after connect; the server
// answers with a Reply.
const (
	HelloSize = 8
	ReplySize = 8
	version   = 1
)

var magic = [2]byte{'X', 'P'}

// Hello flags.
const (
	HelloWait  = 1 << 0 // wait for a free instance instead of failing busy
	HelloRead  = 1 << 1 // the client wants read access
	HelloWrite = 1 << 2 // the client wants write access
	// HelloRemote says that a gateway relays a client from another
	// machine: a Remote block follows the Hello (see PutRemote).
	HelloRemote     = 1 << 3
	helloKnownFlags = HelloWait | HelloRead | HelloWrite | HelloRemote
)

// MaxRemoteField bounds each string of a Remote block.
const MaxRemoteField = 1024

// Remote describes the client a gateway relays: the subject of its
// certificate and its network address.
type Remote struct {
	Subject string
	Addr    string
}

// Marshal encodes r as two length-prefixed strings (little-endian
// uint16 lengths), each cut to MaxRemoteField bytes.
func (r Remote) Marshal() []byte {
	b := make([]byte, 0, 4+len(r.Subject)+len(r.Addr))
	for _, s := range []string{r.Subject, r.Addr} {
		if len(s) > MaxRemoteField {
			s = s[:MaxRemoteField]
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// ReadRemote decodes a Remote block from read, which reads exactly
// len(p) bytes or fails (io.ReadFull); malformed input gives
// errs.ErrProtocol.
func ReadRemote(read func(p []byte) error) (Remote, error) {
	var f [2]string
	for i := range f {
		var n [2]byte
		if err := read(n[:]); err != nil {
			return Remote{}, err
		}
		l := int(binary.LittleEndian.Uint16(n[:]))
		if l > MaxRemoteField {
			return Remote{}, errs.New(errs.ErrProtocol, fmt.Errorf("remote field of %d bytes, more than %d", l, MaxRemoteField))
		}
		b := make([]byte, l)
		if err := read(b); err != nil {
			return Remote{}, err
		}
		f[i] = string(b)
	}
	return Remote{Subject: f[0], Addr: f[1]}, nil
}

// Hello is the client's first frame.
type Hello struct{ Flags uint8 }

// Marshal encodes h.
func (h Hello) Marshal() [HelloSize]byte {
	return [HelloSize]byte{magic[0], magic[1], version, h.Flags}
}

// ParseHello decodes a Hello; malformed input gives errs.ErrProtocol.
func ParseHello(b []byte) (Hello, error) {
	if err := check(b, HelloSize); err != nil {
		return Hello{}, err
	}
	if b[3]&^helloKnownFlags != 0 || !zero(b[4:]) {
		return Hello{}, errs.New(errs.ErrProtocol, fmt.Errorf("unknown hello flags %x", b[3:]))
	}
	return Hello{Flags: b[3]}, nil
}

// Reply status values.
const (
	StatusOK     = 0 // connected to an instance
	StatusBusy   = 1 // every instance is in use
	StatusDenied = 2 // access refused (direction or security)
	statusMax    = StatusDenied
)

// Reply flags: what kind of pipe the client reached.
const (
	ReplyMessage     = 1 << 0 // message-type pipe
	ReplyServerRead  = 1 << 1 // the server reads (duplex or inbound)
	ReplyServerWrite = 1 << 2 // the server writes (duplex or outbound)
	replyKnownFlags  = ReplyMessage | ReplyServerRead | ReplyServerWrite
)

// Reply is the server's answer to a Hello.
type Reply struct {
	Status uint8
	Flags  uint8
}

// Marshal encodes r.
func (r Reply) Marshal() [ReplySize]byte {
	return [ReplySize]byte{magic[0], magic[1], version, r.Status, r.Flags}
}

// ParseReply decodes a Reply; malformed input gives errs.ErrProtocol.
func ParseReply(b []byte) (Reply, error) {
	if err := check(b, ReplySize); err != nil {
		return Reply{}, err
	}
	r := Reply{Status: b[3], Flags: b[4]}
	if r.Status > statusMax || r.Flags&^replyKnownFlags != 0 || !zero(b[5:]) {
		return Reply{}, errs.New(errs.ErrProtocol, fmt.Errorf("bad reply %x", b[3:]))
	}
	return r, nil
}

func check(b []byte, size int) error {
	if len(b) != size {
		return errs.New(errs.ErrProtocol, fmt.Errorf("handshake frame of %d bytes, want %d", len(b), size))
	}
	if b[0] != magic[0] || b[1] != magic[1] {
		return errs.New(errs.ErrProtocol, fmt.Errorf("not an xipc pipe (magic %q)", b[:2]))
	}
	if b[2] != version {
		return errs.New(errs.ErrProtocol, fmt.Errorf("handshake version %d, want %d", b[2], version))
	}
	return nil
}

// zero reports whether the reserved bytes b are all zero: a peer that sets
// them speaks a protocol this version does not know.
func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
