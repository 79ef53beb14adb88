package link

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
)

func TestRequestResponse(t *testing.T) {
	q := Request{Op: OpPipe, Flags: 7, Name: "some-pipe"}
	got, err := ReadRequest(bytes.NewReader(q.Marshal()))
	if err != nil || got != q {
		t.Fatalf("request round trip: %+v, %v", got, err)
	}
	p := Response{Status: StatusBusy, Flags: 1, Msg: "busy"}
	gp, err := ReadResponse(bytes.NewReader(p.Marshal()))
	if err != nil || gp != p {
		t.Fatalf("response round trip: %+v, %v", gp, err)
	}
	v2 := q.Marshal()
	v2[2] = 2
	if _, err := ReadRequest(bytes.NewReader(v2)); !errors.Is(err, ErrVersion) || !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("version 2: %v; want ErrVersion and ErrProtocol", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     []byte("NOPE\x00\x00\x00"),
		"op":        {'X', 'G', Version, 9, 0, 1, 0, 'a'},
		"noname":    {'X', 'G', Version, OpPipe, 0, 0, 0},
		"long name": {'X', 'G', Version, OpPipe, 0, 0xff, 0xff},
		"truncated": {'X', 'G', Version, OpPipe, 0, 5, 0, 'a'},
		"utf8":      {'X', 'G', Version, OpPipe, 0, 1, 0, 0xff},
	} {
		if _, err := ReadRequest(bytes.NewReader(b)); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("request %s: %v; want ErrProtocol", name, err)
		}
	}
	for name, b := range map[string][]byte{
		"status":  {'X', 'G', Version, 99, 0, 0, 0},
		"flags":   {'X', 'G', Version, 0, 0x80, 0, 0},
		"longmsg": {'X', 'G', Version, 0, 0, 0xff, 0xff},
	} {
		if _, err := ReadResponse(bytes.NewReader(b)); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("response %s: %v; want ErrProtocol", name, err)
		}
	}
}

func TestStream(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 20000)
	var framed bytes.Buffer
	if err := SendStream(&framed, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RecvStream(&out, bytes.NewReader(framed.Bytes())); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("stream round trip: %d bytes, %v", out.Len(), err)
	}
	// Cut before the end chunk: the connection was lost.
	cut := framed.Bytes()[:framed.Len()-4]
	if err := RecvStream(io.Discard, bytes.NewReader(cut)); !errors.Is(err, ErrNoEnd) {
		t.Errorf("stream without end: %v; want ErrNoEnd", err)
	}
	for name, b := range map[string][]byte{
		"zero chunk": {0, 0, 0, 0},
		"huge chunk": {0xff, 0xff, 0xff, 0x7f},
		"end code":   {1, 0, 0, 0x80},
	} {
		if err := RecvStream(io.Discard, bytes.NewReader(b)); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("%s: %v; want ErrProtocol", name, err)
		}
	}
}

func testCreds(t testing.TB) *Creds {
	t.Helper()
	// A throwaway CA and client, written the way `xipc gateway certs` does,
	// without importing the gateway (it imports this package).
	dir := tempDir(t)
	writeTestCreds(t, dir)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tempDir is t.TempDir, removed file by file: os.RemoveAll, which
// t.TempDir's cleanup uses, fails under Wine 8 ("unlinkat: Invalid
// function") while os.Remove works.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "xipc-link")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, p)
			}
			return nil
		})
		for i := len(paths) - 1; i >= 0; i-- {
			if err := os.Remove(paths[i]); err != nil {
				t.Errorf("removing %s: %v", paths[i], err)
			}
		}
	})
	return dir
}

func TestDatagram(t *testing.T) {
	c := testCreds(t)
	now := time.Now()
	b, err := c.Seal(DgBroadcast, "slot", []byte("hi"), now)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Open(b, now)
	if err != nil || d.Name != "slot" || string(d.Data) != "hi" || d.Flags != DgBroadcast || !strings.Contains(d.Subject, "CN=") {
		t.Fatalf("Open = %+v, %v", d, err)
	}
	if _, err := c.Seal(0, "slot", make([]byte, MaxDatagram+1), now); !errors.Is(err, errs.ErrMessageTooLarge) {
		t.Errorf("Seal of 425 bytes: %v; want ErrMessageTooLarge", err)
	}
	if _, err := c.Open(b, now.Add(MaxSkew+time.Minute)); !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("stale datagram: %v; want ErrAccessDenied", err)
	}
	tampered := bytes.Clone(b)
	tampered[len("XM")+2+8+2] ^= 1 // a byte of the name
	if _, err := c.Open(tampered, now); !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("tampered datagram: %v; want ErrAccessDenied", err)
	}
	other := testCreds(t)
	if _, err := other.Open(b, now); !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("datagram of another CA: %v; want ErrAccessDenied", err)
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add(Request{Op: OpPipe, Flags: 6, Name: "x"}.Marshal())
	f.Add([]byte("XG\x01\x01\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ReadRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := ReadRequest(bytes.NewReader(q.Marshal()))
		if err != nil || again != q {
			t.Fatalf("re-encoding %+v: %+v, %v", q, again, err)
		}
	})
}

func FuzzReadResponse(f *testing.F) {
	f.Add(Response{Status: StatusOK, Flags: 1}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadResponse(bytes.NewReader(b))
		if err == nil && len(p.Msg) > MaxMsg {
			t.Fatalf("message of %d bytes", len(p.Msg))
		}
	})
}

func FuzzRecvStream(f *testing.F) {
	var framed bytes.Buffer
	SendStream(&framed, strings.NewReader("hello"))
	f.Add(framed.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		RecvStream(&out, bytes.NewReader(b))
		if out.Len() > len(b) {
			t.Fatalf("%d bytes out of %d in", out.Len(), len(b))
		}
	})
}

func FuzzParseDatagram(f *testing.F) {
	c := testCreds(f)
	b, _ := c.Seal(0, "slot", []byte("data"), time.Now())
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _, _, _, err := ParseDatagram(b)
		if err == nil && (len(d.Data) > MaxDatagram || len(d.Name) > MaxName) {
			t.Fatalf("over the limits: %d, %d", len(d.Data), len(d.Name))
		}
		c.Open(b, time.Now()) // must not panic
	})
}
