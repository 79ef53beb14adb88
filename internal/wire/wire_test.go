package wire

import (
	"errors"
	"testing"

	"github.com/xipc/xipc/internal/errs"
)

func TestHandshakeRoundTrip(t *testing.T) {
	for _, f := range []uint8{0, HelloWait, HelloRead | HelloWrite, HelloWait | HelloWrite} {
		b := Hello{Flags: f}.Marshal()
		h, err := ParseHello(b[:])
		if err != nil || h.Flags != f {
			t.Errorf("hello %#x: got %+v, %v", f, h, err)
		}
	}
	for _, r := range []Reply{{StatusOK, ReplyMessage | ReplyServerRead}, {StatusBusy, 0}, {StatusDenied, ReplyServerWrite}} {
		b := r.Marshal()
		got, err := ParseReply(b[:])
		if err != nil || got != r {
			t.Errorf("reply %+v: got %+v, %v", r, got, err)
		}
	}
}

func TestHandshakeRejects(t *testing.T) {
	good := Hello{}.Marshal()
	cases := map[string][]byte{
		"short":     good[:7],
		"long":      append(good[:], 0),
		"magic":     {'N', 'O', version, 0, 0, 0, 0, 0},
		"version":   {'X', 'P', 99, 0, 0, 0, 0, 0},
		"flags":     {'X', 'P', version, 0x80, 0, 0, 0, 0},
		"empty":     nil,
		"replybits": {'X', 'P', version, 0, 0x80, 0, 0, 0},
	}
	for name, b := range cases {
		_, herr := ParseHello(b)
		_, rerr := ParseReply(b)
		if name != "replybits" && !errors.Is(herr, errs.ErrProtocol) {
			t.Errorf("%s: ParseHello = %v, want ErrProtocol", name, herr)
		}
		if name != "flags" && !errors.Is(rerr, errs.ErrProtocol) {
			t.Errorf("%s: ParseReply = %v, want ErrProtocol", name, rerr)
		}
	}
}

func TestHeader(t *testing.T) {
	b := make([]byte, HeaderSize)
	for _, n := range []int{0, 1, 65536, MaxMessage} {
		PutHeader(b, n)
		if got := Header(b); got != n {
			t.Errorf("header %d: got %d", n, got)
		}
	}
}

// FuzzHandshake: decoders of bytes from another process never panic and
// accept only what the encoders produce.
func FuzzHandshake(f *testing.F) {
	h := Hello{Flags: HelloWait}.Marshal()
	r := Reply{Status: StatusBusy, Flags: ReplyMessage}.Marshal()
	f.Add(h[:])
	f.Add(r[:])
	f.Add([]byte("XP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := ParseHello(b); err == nil {
			if m := h.Marshal(); string(m[:]) != string(b) {
				t.Fatalf("hello %x decoded to %+v, which encodes to %x", b, h, m)
			}
		} else if !errors.Is(err, errs.ErrProtocol) {
			t.Fatalf("hello error %v is not ErrProtocol", err)
		}
		if r, err := ParseReply(b); err == nil {
			if m := r.Marshal(); string(m[:]) != string(b) {
				t.Fatalf("reply %x decoded to %+v, which encodes to %x", b, r, m)
			}
		} else if !errors.Is(err, errs.ErrProtocol) {
			t.Fatalf("reply error %v is not ErrProtocol", err)
		}
	})
}
