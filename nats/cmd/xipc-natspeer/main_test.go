package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const asMainEnv = "XIPC_NATSPEER_TEST_MAIN" // the test binary runs as xipc-natspeer

// TestMain makes this binary xipc-natspeer (and its responder, which it
// starts as os.Executable) when a test asks, and otherwise runs the tests
// and checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) != "" || os.Getenv(responderEnv) != "" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestProtocol runs xipc-natspeer briefly, every op, and checks the shape
// of its answers (never their speed): counts and times present, a sample
// of round-trip times for the round-trip ops, none for post, errors for
// bad requests, and a clean exit when stdin closes.
func TestProtocol(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("first line %q, %v; stderr %s", line, err, stderr.String())
	}
	ask := func(req string) result {
		t.Helper()
		if _, err := fmt.Fprintln(stdin, req); err != nil {
			t.Fatal(err)
		}
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v; stderr %s", req, err, stderr.String())
		}
		var res result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("%s: answer %q: %v", req, line, err)
		}
		return res
	}
	d := (150 * time.Millisecond).Nanoseconds()
	for _, req := range []string{
		fmt.Sprintf(`{"op":"rtt","size":64,"duration_ns":%d}`, d),
		fmt.Sprintf(`{"op":"rtt","reply":true,"size":65536,"duration_ns":%d}`, d),
		fmt.Sprintf(`{"op":"send","size":64,"duration_ns":%d}`, d),
		fmt.Sprintf(`{"op":"senddata","size":64,"duration_ns":%d}`, d),
		fmt.Sprintf(`{"op":"senddata","size":1048576,"duration_ns":%d}`, d),
	} {
		res := ask(req)
		if res.Error != "" || res.Ops < 1 || res.ElapsedNS < d || res.LatSumNS <= 0 || res.LatSumNS > res.ElapsedNS ||
			int64(len(res.LatNS)) != min(res.Ops, maxSamples) {
			t.Errorf("%s: ops %d elapsed %d lat_sum %d, %d lat_ns, error %q", req, res.Ops, res.ElapsedNS, res.LatSumNS, len(res.LatNS), res.Error)
		}
		for _, l := range res.LatNS {
			if l <= 0 {
				t.Errorf("%s: a round trip of %v ns", req, l)
				break
			}
		}
	}
	// Two post repeats: each counts its own posts, all delivered.
	for range 2 {
		req := fmt.Sprintf(`{"op":"post","size":64,"duration_ns":%d}`, d)
		res := ask(req)
		if res.Error != "" || res.Ops < 1 || res.ElapsedNS < d || res.LatSumNS != 0 || res.LatNS != nil {
			t.Errorf("%s: %+v", req, res)
		}
	}
	for _, bad := range []struct{ req, want string }{
		{`{"op":"nosuch","size":64,"duration_ns":1000}`, "unknown op"},
		{`{"op":"send","size":0,"duration_ns":1000}`, "bad request"},
		{`{"op":"senddata","size":67108865,"duration_ns":1000}`, "bad request"},
		{`{"op":"post","size":64,"duration_ns":-1}`, "bad request"},
		{`not json`, "invalid character"},
	} {
		if res := ask(bad.req); !strings.Contains(res.Error, bad.want) || res.Ops != 0 {
			t.Errorf("%s: %+v, want an error with %q", bad.req, res, bad.want)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v; stderr %s", err, stderr.String())
	}
}
