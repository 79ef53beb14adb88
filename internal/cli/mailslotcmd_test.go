package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestMailslotInProcess runs `xipc mailslot serve` and its writers in this
// process, so that goleak sees any goroutine they leave behind, and checks
// that cancelling the context (Ctrl-C) closes the slot with status 0.
func TestMailslotInProcess(t *testing.T) {
	t.Setenv("XIPC_ROOT", tempDir(t))
	name := "xipct-inproc-" + randomHex(6)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var srvOut, srvErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"mailslot", "serve", name, "--max-size", "100", "-v"}, strings.NewReader(""), &srvOut, &srvErr)
	}()
	waitFor(t, func() bool {
		code, _, _ := runCLI(t.Context(), "", "mailslot", "info", name)
		return code == 0
	})

	code, stdout, stderr := runCLI(t.Context(), "", "mailslot", "send", name, "one", "two words", "")
	if code != 0 || stdout != "" || stderr != "" {
		t.Errorf("send: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t.Context(), "", "mailslot", "send", name, strings.Repeat("x", 101))
	if code != 1 || !strings.Contains(stderr, "message too large") || !strings.Contains(stderr, name) {
		t.Errorf("send of 101 bytes to a 100-byte slot: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t.Context(), "", "mailslot", "serve", name)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("a second serve of the name: exit %d, stderr %q", code, stderr)
	}
	waitFor(t, func() bool { return strings.Count(srvOut.String(), "\n") == 3 })

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve: exit %d after cancel, stderr:\n%s", code, srvErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop after cancel; stderr:\n%s", srvErr.String())
	}
	if got, want := srvOut.String(), "one\ntwo words\n\n"; got != want {
		t.Errorf("serve printed %q, want %q", got, want)
	}
	for _, want := range []string{`listening on \\.\mailslot\` + name + "\n", "max message size 100 bytes", "message 9 bytes; ", "removed"} {
		if !strings.Contains(srvErr.String(), want) {
			t.Errorf("serve stderr lacks %q:\n%s", want, srvErr.String())
		}
	}
	code, _, stderr = runCLI(t.Context(), "", "mailslot", "info", name)
	if code != 1 || !strings.Contains(stderr, "file does not exist") || !strings.Contains(stderr, name) {
		t.Errorf("info after shutdown: exit %d, stderr %q", code, stderr)
	}
}

// TestMailslotServeTimeout checks that serve --timeout ends serve, with
// status 0, once no message has come for that long, and not before.
func TestMailslotServeTimeout(t *testing.T) {
	t.Setenv("XIPC_ROOT", tempDir(t))
	name := "xipct-timeout-" + randomHex(6)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	code, stdout, stderr := runCLI(t.Context(), "", "mailslot", "serve", name, "--timeout", timeout.String())
	if elapsed := time.Since(start); elapsed < timeout {
		t.Errorf("serve --timeout %v returned after %v", timeout, elapsed)
	}
	if code != 0 || stdout != "" || !strings.HasSuffix(stderr, "no message for 300ms, closing \\\\.\\mailslot\\"+name+"\n") {
		t.Errorf("serve --timeout: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestMailslotServeStdinEOF checks the hidden flag the demo stops servers
// with.
func TestMailslotServeStdinEOF(t *testing.T) {
	t.Setenv("XIPC_ROOT", tempDir(t))
	name := "xipct-eof-" + randomHex(6)
	code, _, stderr := runCLI(t.Context(), "", "mailslot", "serve", name, "--stop-on-stdin-eof", "-v")
	if code != 0 || !strings.Contains(stderr, "standard input closed") {
		t.Errorf("serve with stdin at EOF: exit %d, stderr %q", code, stderr)
	}
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
