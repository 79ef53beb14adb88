//go:build unix

package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitLine waits for re to match what a background command printed.
func waitLine(t *testing.T, b *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
	}
	t.Fatalf("no line matching %s in %q", re, b.String())
	return nil
}

// TestGatewayEndToEnd: certs, a gateway on a port the system picks, a pipe
// served with --remote and echoing, and pipe call of \\ADDR\pipe\NAME:
// all through the xipc command, in process. The server logs the caller's
// certificate subject.
func TestGatewayEndToEnd(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	pki := t.TempDir()
	if code, _, stderr := runCLI(context.Background(), "", "gateway", "certs", "--out", pki, "--hosts", "gw=127.0.0.1", "--clients", "carol"); code != 0 {
		t.Fatalf("certs: exit %d: %s", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gwOut, gwErr, srvOut, srvErr syncBuffer
	gwDone := make(chan int, 1)
	go func() {
		gwDone <- run(ctx, []string{"gateway", "serve", "--listen", "127.0.0.1:0", "--datagram", "-", "--tls-dir", filepath.Join(pki, "gw"), "-v"},
			strings.NewReader(""), &gwOut, &gwErr)
	}()
	addr := waitLine(t, &gwErr, regexp.MustCompile(`gateway listening on (127\.0\.0\.1:\d+)`))[1]
	srvDone := make(chan int, 1)
	go func() {
		srvDone <- run(ctx, []string{"pipe", "serve", "remote-echo", "--message", "--echo", "--remote", "-v"},
			strings.NewReader(""), &srvOut, &srvErr)
	}()
	waitLine(t, &srvErr, regexp.MustCompile(`listening on`))

	t.Setenv("XIPC_TLS_DIR", filepath.Join(pki, "carol"))
	code, stdout, stderr := runCLI(context.Background(), "", "pipe", "call", `\\`+addr+`\pipe\remote-echo`, "hello")
	if code != 0 || stdout != "hello\n" {
		t.Errorf("pipe call through the gateway: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	waitLine(t, &srvErr, regexp.MustCompile(`connected \(remote: CN=carol,O=xipc from 127\.0\.0\.1:\d+\)`))

	// A pipe served without --remote refuses.
	code, _, stderr = runCLI(context.Background(), "", "pipe", "call", `\\`+addr+`\pipe\nope`, "hello")
	if code != ExitFailure || !strings.Contains(stderr, "file does not exist") {
		t.Errorf("call of a missing remote pipe: exit %d, %q", code, stderr)
	}
	cancel()
	if c := <-srvDone; c != 0 {
		t.Errorf("pipe serve exited %d: %s", c, srvErr.String())
	}
	if c := <-gwDone; c != 0 {
		t.Errorf("gateway serve exited %d: %s", c, gwErr.String())
	}
}
