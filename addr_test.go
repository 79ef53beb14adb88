package xipc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xipc/xipc"
)

func TestParseAddr(t *testing.T) {
	ok := []struct{ in, net, name string }{
		{`pipe:app`, "pipe", `\\.\pipe\app`},
		{`PIPE:App`, "pipe", `\\.\pipe\App`},
		{`pipe:\\.\pipe\app`, "pipe", `\\.\pipe\app`},
		{`\\.\pipe\app`, "pipe", `\\.\pipe\app`},
		{`\\.\PIPE\a:b`, "pipe", `\\.\pipe\a:b`},
		{`\\host\pipe\x`, "pipe", `\\host\pipe\x`},
		{`unix:/tmp/x.sock`, "unix", `/tmp/x.sock`},
		{`unix:rel/x.sock`, "unix", `rel/x.sock`},
		{`unix:@abstract`, "unix", `@abstract`},
		{`tcp:localhost:80`, "tcp", `localhost:80`},
		{`tcp:127.0.0.1:0`, "tcp", `127.0.0.1:0`},
		{`tcp::8080`, "tcp", `:8080`},
		{`tcp:[::1]:65535`, "tcp", `[::1]:65535`},
		{`tcp:[fe80::1%eth0]:1`, "tcp", `[fe80::1%eth0]:1`},
		{`tcp:example.com.:0080`, "tcp", `example.com.:80`},
		{`TCP:my_host-1:7`, "tcp", `my_host-1:7`},
	}
	for _, c := range ok {
		a, err := xipc.ParseAddr(c.in)
		if err != nil {
			t.Errorf("ParseAddr(%q): %v", c.in, err)
			continue
		}
		if a.Network() != c.net || a.Name != c.name {
			t.Errorf("ParseAddr(%q) = %s %q, want %s %q", c.in, a.Network(), a.Name, c.net, c.name)
		}
		// The string form reads back as the same address.
		b, err := xipc.ParseAddr(a.String())
		if err != nil || b != a {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v", a.String(), b, err, a)
		}
	}
	bad := []struct {
		in   string
		want error
		msg  string
	}{
		{``, xipc.ErrInvalidName, "empty address"},
		{`app`, xipc.ErrInvalidName, "no network"},
		{`:x`, xipc.ErrInvalidName, "no network"},
		{`C:\dir\x`, xipc.ErrNotSupported, `unknown network "C"`},
		{`udp:localhost:53`, xipc.ErrNotSupported, `unknown network "udp"`},
		{`pipe:`, xipc.ErrInvalidName, ""},
		{`pipe:a\b`, xipc.ErrInvalidName, ""},
		{`pipe:` + strings.Repeat("x", 300), xipc.ErrInvalidName, ""},
		{`\\.\mailslot\x`, xipc.ErrInvalidName, ""},
		{`\\`, xipc.ErrInvalidName, ""},
		{`unix:`, xipc.ErrInvalidName, "empty socket path"},
		{"unix:a\x00b", xipc.ErrInvalidName, "NUL"},
		{`unix:/` + strings.Repeat("x", 200), xipc.ErrInvalidName, "unix socket address holds"},
		{`tcp:localhost`, xipc.ErrInvalidName, "port"},
		{`tcp:localhost:`, xipc.ErrInvalidName, "port"},
		{`tcp:localhost:http`, xipc.ErrInvalidName, "port"},
		{`tcp:localhost:65536`, xipc.ErrInvalidName, "port"},
		{`tcp:localhost:-1`, xipc.ErrInvalidName, "port"},
		{`tcp:::1:80`, xipc.ErrInvalidName, "brackets"},
		{`tcp:[::1:80`, xipc.ErrInvalidName, "missing ]"},
		{`tcp:[1.2.3.4]:80`, xipc.ErrInvalidName, "IPv6"},
		{`tcp:bad host:80`, xipc.ErrInvalidName, "not a host name"},
		{`tcp:a..b:80`, xipc.ErrInvalidName, "not a host name"},
		{`tcp:` + strings.Repeat("a.", 130) + `:80`, xipc.ErrInvalidName, "253"},
	}
	for _, c := range bad {
		_, err := xipc.ParseAddr(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseAddr(%q) = %v, want an error matching %v", c.in, err, c.want)
			continue
		}
		var op *xipc.OpError
		if !errors.As(err, &op) || op.Kind != "address" {
			t.Errorf("ParseAddr(%q) = %#v, want an *OpError of kind address", c.in, err)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseAddr(%q) = %q, want it to say %q", c.in, err, c.msg)
		}
	}
}

// FuzzParseAddr: no input panics; every error matches ErrInvalidName or
// ErrNotSupported; every accepted address reads back as itself.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{`pipe:x`, `\\.\pipe\x`, `unix:/tmp/s`, `tcp:[::1]:80`, `tcp:a.b:1`, `udp:x`, ``, `tcp::0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := xipc.ParseAddr(s)
		if err != nil {
			if !errors.Is(err, xipc.ErrInvalidName) && !errors.Is(err, xipc.ErrNotSupported) {
				t.Fatalf("ParseAddr(%q) = %v: matches neither ErrInvalidName nor ErrNotSupported", s, err)
			}
			return
		}
		switch a.Net {
		case xipc.NetPipe, xipc.NetUnix, xipc.NetTCP:
		default:
			t.Fatalf("ParseAddr(%q): network %q", s, a.Net)
		}
		b, err := xipc.ParseAddr(a.String())
		if err != nil || b != a {
			t.Fatalf("ParseAddr(%q) = %v; its String %q reads back as %v, %v", s, a, a.String(), b, err)
		}
	})
}
