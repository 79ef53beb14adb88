//go:build unix

package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
)

// setup makes certificates, a private namespace, and a gateway on the
// loopback interface; it returns the HOST part of remote names and the
// certificate directory.
func setup(t *testing.T) (host, dir string) {
	t.Helper()
	dir = t.TempDir()
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: dir, Hosts: []string{"alpha=127.0.0.1"}, Clients: []string{"bob"}}); err != nil {
		t.Fatalf("WriteCerts: %v", err)
	}
	t.Setenv("XIPC_ROOT", t.TempDir())
	t.Setenv(link.EnvTLSDir, filepath.Join(dir, "bob"))
	creds, err := link.Load(filepath.Join(dir, "alpha"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	g, err := gateway.Start(gateway.Config{Creds: creds, Listen: "127.0.0.1:0", Logf: t.Logf})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return g.Addr().String(), dir
}

func TestPipeThroughGateway(t *testing.T) {
	host, _ := setup(t)
	l, err := pipe.Listen("remote-echo", &pipe.ListenConfig{Message: true, RemoteClients: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type acc struct {
		c   *pipe.Conn
		err error
	}
	ch := make(chan acc, 1)
	go func() { c, err := l.AcceptPipe(); ch <- acc{c, err} }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pipe.Dial(ctx, `\\`+host+`\pipe\REMOTE-echo`, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	a := <-ch
	if a.err != nil {
		t.Fatalf("Accept: %v", a.err)
	}
	srv := a.c
	defer srv.Close()
	peer, ok := srv.RemotePeer()
	if !ok || !strings.Contains(peer.Subject, "CN=bob") || srv.PeerPID() != 0 {
		t.Errorf("RemotePeer = %+v, %v; PeerPID %d; want CN=bob, true, 0", peer, ok, srv.PeerPID())
	}
	if _, ok := c.RemotePeer(); ok || c.PeerPID() != 0 {
		t.Errorf("client side: RemotePeer ok, or PeerPID %d != 0", c.PeerPID())
	}
	for _, m := range []string{"hello", "", "a longer message of some bytes"} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 8)
	for _, want := range []string{"hello", ""} {
		n, err := srv.ReadMsg(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("ReadMsg = %q, %v; want %q", buf[:n], err, want)
		}
	}
	n, err := srv.ReadMsg(buf)
	if !errors.Is(err, errs.ErrMoreData) || n != 8 {
		t.Fatalf("ReadMsg of 30 bytes into 8 = %d, %v; want 8, ErrMoreData", n, err)
	}
	rest := make([]byte, 64)
	n, err = srv.ReadMsg(rest)
	if err != nil || string(buf)+string(rest[:n]) != "a longer message of some bytes" {
		t.Fatalf("rest = %q, %v", rest[:n], err)
	}
	// Server to client, then the server closes: the client reads the
	// message, then io.EOF, and its writes fail with ErrBrokenPipe.
	srv.Write([]byte("bye"))
	srv.Close()
	n, err = c.ReadMsg(rest)
	if err != nil || string(rest[:n]) != "bye" {
		t.Fatalf("client ReadMsg = %q, %v", rest[:n], err)
	}
	if _, err := c.ReadMsg(rest); err == nil || err.Error() != "EOF" {
		t.Fatalf("client ReadMsg after server close: %v; want io.EOF", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := c.Write([]byte("x"))
		if err != nil {
			if !errors.Is(err, errs.ErrBrokenPipe) {
				t.Fatalf("Write after close: %v; want ErrBrokenPipe", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a closed remote pipe still succeed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRefusals(t *testing.T) {
	host, dir := setup(t)
	l, err := pipe.Listen("local-only", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	_, err = pipe.Dial(ctx, `\\`+host+`\pipe\local-only`, nil)
	if !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("Dial of a pipe without RemoteClients: %v; want ErrAccessDenied", err)
	}
	_, err = pipe.Dial(ctx, `\\`+host+`\pipe\missing`, nil)
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Dial of a missing remote pipe: %v; want ErrNotFound", err)
	}
	// A client of another CA is refused.
	other := t.TempDir()
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: other, Clients: []string{"mallory"}}); err != nil {
		t.Fatal(err)
	}
	mc, err := link.Load(filepath.Join(other, "mallory"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := mc.ClientConfig()
	good, _ := link.Load(filepath.Join(dir, "bob"))
	cfg.RootCAs = good.CAs // trusts the gateway; the gateway does not trust it
	rl, _ := pipe.Listen("remote-ok", &pipe.ListenConfig{RemoteClients: true})
	defer rl.Close()
	_, err = pipe.Dial(ctx, `\\`+host+`\pipe\remote-ok`, &pipe.DialConfig{TLS: cfg})
	if !errors.Is(err, errs.ErrNetwork) || !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("Dial with a certificate of another CA: %v; want ErrNetwork and ErrAccessDenied", err)
	}
	// No client certificate at all.
	cfg = cfg.Clone()
	cfg.Certificates = nil
	_, err = pipe.Dial(ctx, `\\`+host+`\pipe\remote-ok`, &pipe.DialConfig{TLS: cfg})
	if !errors.Is(err, errs.ErrNetwork) || !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("Dial without a client certificate: %v; want ErrNetwork and ErrAccessDenied", err)
	}
	// A gateway that is not there.
	_, err = pipe.Dial(ctx, `\\127.0.0.1:1\pipe\x`, nil)
	if !errors.Is(err, errs.ErrNetwork) {
		t.Errorf("Dial with no gateway: %v; want ErrNetwork", err)
	}
}

func TestMailslotThroughGateway(t *testing.T) {
	host, _ := setup(t)
	s, err := mailslot.Create("remote-slot", &mailslot.Config{RemoteWriters: true, ReadTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := mailslot.Open(`\\` + host + `\mailslot\Remote-Slot`)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer w.Close()
	if _, err := w.Write(make([]byte, 425)); !errors.Is(err, errs.ErrMessageTooLarge) {
		t.Errorf("Write of 425 bytes: %v; want ErrMessageTooLarge", err)
	}
	msg := bytes.Repeat([]byte("m"), 424)
	if _, err := w.Write(msg); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := s.ReadMsg()
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("ReadMsg = %d bytes, %v; want the 424 written", len(got), err)
	}

	// A datagram sent twice (a replay) is delivered once.
	creds, err := link.Load(os.Getenv(link.EnvTLSDir))
	if err != nil {
		t.Fatal(err)
	}
	b, err := creds.Seal(0, "remote-slot", []byte("once"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	uc, err := net.Dial("udp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.Write(b)
	uc.Write(b)
	if got, err := s.ReadMsg(); err != nil || string(got) != "once" {
		t.Fatalf("ReadMsg = %q, %v; want once", got, err)
	}
	s.SetReadTimeout(500 * time.Millisecond)
	if got, err := s.ReadMsg(); !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("after a replayed datagram: ReadMsg = %q, %v; want ErrTimeout", got, err)
	}
}
