package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSockTCP runs sock listen on a port the system picks, in process, and
// sock dial against it; the listener says which port on its first line.
func TestSockTCP(t *testing.T) {
	for _, echo := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		args := []string{"sock", "listen", "tcp:127.0.0.1:0"}
		if echo {
			args = append(args, "--echo")
		}
		var out, errb syncBuffer
		done := make(chan int)
		go func() { done <- run(ctx, args, strings.NewReader(""), &out, &errb) }()
		re := regexp.MustCompile(`^listening on (tcp:127\.0\.0\.1:\d+)\n`)
		var addr string
		for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); {
			if m := re.FindStringSubmatch(errb.String()); m != nil {
				addr = m[1]
			}
			time.Sleep(10 * time.Millisecond)
		}
		if addr == "" {
			cancel()
			<-done
			t.Fatalf("listener said %q", errb.String())
		}
		code, stdout, stderr := runCLI(context.Background(), "", "sock", "dial", addr, "hello", "two words")
		if code != 0 || stderr != "" {
			t.Errorf("dial: exit %d, stderr %q", code, stderr)
		}
		want := "hello\ntwo words\n"
		if !echo {
			// The listener printed them; the dialler got nothing back.
			if stdout != "" {
				t.Errorf("dial printed %q, want nothing", stdout)
			}
			stdout = ""
			for deadline := time.Now().Add(10 * time.Second); out.String() != want && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			stdout = out.String()
		}
		if stdout != want {
			t.Errorf("echo %v: got %q, want %q", echo, stdout, want)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("listen exited %d: %s", code, errb.String())
		}
	}
}

// TestSockDialRefused: nobody listening on the port: exit 1, naming the dial.
func TestSockDialRefused(t *testing.T) {
	code, _, stderr := runCLI(context.Background(), "", "sock", "dial", "tcp:127.0.0.1:1", "x", "--timeout", "2s")
	if code != ExitFailure || !strings.Contains(stderr, "dial") {
		t.Errorf("dial to a closed port: exit %d, %q", code, stderr)
	}
}
