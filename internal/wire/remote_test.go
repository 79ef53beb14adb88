package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/xipc/xipc/internal/errs"
)

func readFrom(r io.Reader) func([]byte) error {
	return func(p []byte) error { _, err := io.ReadFull(r, p); return err }
}

func TestRemoteRoundTrip(t *testing.T) {
	for _, r := range []Remote{{}, {"CN=bob,O=xipc", "10.0.0.2:5555"}, {strings.Repeat("s", MaxRemoteField), "a"}} {
		got, err := ReadRemote(readFrom(bytes.NewReader(r.Marshal())))
		if err != nil || got != r {
			t.Errorf("round trip of %+v: %+v, %v", r, got, err)
		}
	}
	long := Remote{Subject: strings.Repeat("x", MaxRemoteField+10)}
	got, err := ReadRemote(readFrom(bytes.NewReader(long.Marshal())))
	if err != nil || len(got.Subject) != MaxRemoteField {
		t.Errorf("an over-long subject is cut to %d: got %d bytes, %v", MaxRemoteField, len(got.Subject), err)
	}
	bad := []byte{0xff, 0xff}
	if _, err := ReadRemote(readFrom(bytes.NewReader(bad))); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("length 65535: %v; want ErrProtocol", err)
	}
	if _, err := ReadRemote(readFrom(bytes.NewReader([]byte{3, 0, 'a'}))); err == nil {
		t.Errorf("truncated block: nil error")
	}
}

func FuzzReadRemote(f *testing.F) {
	f.Add(Remote{"CN=a", "b"}.Marshal())
	f.Add([]byte{0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRemote(readFrom(bytes.NewReader(b)))
		if err == nil && (len(r.Subject) > MaxRemoteField || len(r.Addr) > MaxRemoteField) {
			t.Fatalf("field over the limit: %d, %d", len(r.Subject), len(r.Addr))
		}
	})
}
