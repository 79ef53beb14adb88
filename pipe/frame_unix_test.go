//go:build unix

package pipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
)

// socketPair returns a message-mode sysConn and the raw socket feeding it.
func socketPair(t testing.TB) (*sysConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0) // no SOCK_CLOEXEC on macOS; the fds are closed below
	if err != nil {
		t.Fatal(err)
	}
	conv := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	a, b := conv(fds[0]), conv(fds[1])
	c, err := newSysConn(a, true, true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.close(); b.Close() })
	return c, b
}

// reference decodes a frame stream the obvious way: whole messages, then
// whether a cut-off frame trails them.
func reference(data []byte) (msgs [][]byte, truncated bool) {
	for len(data) > 0 {
		if len(data) < 4 {
			return msgs, true
		}
		n := binary.LittleEndian.Uint32(data)
		if uint64(len(data)-4) < uint64(n) {
			return msgs, true
		}
		msgs = append(msgs, data[4:4+n])
		data = data[4+n:]
	}
	return msgs, false
}

// FuzzFrameDecoder feeds arbitrary bytes, as a hostile or broken peer would
// send them, to the message reader through a real socket. The reader must
// return exactly the whole messages, reassemble ErrMoreData pieces, report
// a cut-off frame as ErrBrokenPipe, never allocate from a peer's length
// field, and never hang or panic.
func FuzzFrameDecoder(f *testing.F) {
	frame := func(msgs ...string) []byte {
		var b []byte
		for _, m := range msgs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
			b = append(b, m...)
		}
		return b
	}
	f.Add(frame("hello", "", "world"), uint16(3))
	f.Add(frame("x"), uint16(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'a'}, uint16(16)) // 4 GiB length, then silence
	f.Add([]byte{1, 0}, uint16(1))                         // partial header
	f.Add(append(frame("abc"), 9, 0, 0, 0, 'x'), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, bufSize uint16) {
		if len(data) > 1<<16 {
			return
		}
		c, raw := socketPair(t)
		go func() {
			raw.Write(data)
			raw.CloseWrite()
		}()
		c.setDeadline(time.Now().Add(10*time.Second), true, false)
		want, truncated := reference(data)
		buf := make([]byte, int(bufSize)%4096+1)
		for i := 0; ; i++ {
			var got []byte
			var err error
			for {
				var n int
				n, err = c.readMsg(buf)
				got = append(got, buf[:n]...)
				if err != errs.ErrMoreData {
					break
				}
			}
			if i < len(want) {
				if err != nil || !bytes.Equal(got, want[i]) {
					t.Fatalf("message %d: got %q, %v; want %q", i, got, err, want[i])
				}
				continue
			}
			switch {
			case truncated && !errors.Is(err, errs.ErrBrokenPipe):
				t.Fatalf("cut-off frame: got %v, want ErrBrokenPipe", err)
			case !truncated && err != io.EOF:
				t.Fatalf("after the last message: got %q, %v; want io.EOF", got, err)
			}
			if n, err := c.readMsg(buf); n != 0 || err != io.EOF {
				t.Fatalf("read after the end: got %d, %v; want io.EOF", n, err)
			}
			return
		}
	})
}

// TestByteReadModeJoinsMessages: a message pipe read in byte read mode
// returns payloads run together, headers stripped, without waiting for
// messages that have not arrived.
func TestByteReadModeJoinsMessages(t *testing.T) {
	c, raw := socketPair(t)
	c.msgR = false
	var b []byte
	for _, m := range []string{"ab", "", "cd", "efg"} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
		b = append(b, m...)
	}
	if _, err := raw.Write(b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let all of it arrive
	p := make([]byte, 5)
	n, err := c.read(p)
	if err != nil || string(p[:n]) != "abcde" {
		t.Fatalf("got %q, %v; want abcde", p[:n], err)
	}
	n, err = c.read(p)
	if err != nil || string(p[:n]) != "fg" {
		t.Fatalf("got %q, %v; want fg", p[:n], err)
	}
}
