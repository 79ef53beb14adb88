//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBenchInterrupt sends SIGINT (Ctrl-C) to a running `xipc bench` once
// its first repeats are measured, and checks that it stops at once, prints
// the partial results, exits 1 saying so, and leaves none of its peer
// processes behind.
func TestBenchInterrupt(t *testing.T) {
	xipc, err := exec.LookPath("xipc") // testscript.Main put the command in PATH
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xipc, "bench", "pipe", "--duration", "60s", "--repeat", "30")
	cmd.Env = append(os.Environ(), "XIPC_ROOT="+tempDir(t), "GORACE=atexit_sleep_ms=10")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // if the test fails before it exits

	// Each repeat measures for 2s: wait for the first repeat of the three
	// transports (pipe, unix, tcp), whose peers are then all running.
	lines := bufio.NewScanner(stderr)
	var seen []string
	for len(seen) < 3 && lines.Scan() {
		seen = append(seen, lines.Text())
	}
	if len(seen) < 3 {
		t.Fatalf("bench said only %q before exiting", seen)
	}
	peers := childrenOf(t, cmd.Process.Pid)
	if len(peers) != 3 {
		t.Errorf("bench runs %d peer processes, want 3 (pipe, unix, tcp): %v", len(peers), peers)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("bench took %v to stop after SIGINT", d)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitFailure {
		t.Errorf("bench exited with %v, want status %d", err, ExitFailure)
	}
	if !strings.Contains(rest.String(), "xipc: bench: interrupted; the results printed are partial") {
		t.Errorf("stderr after SIGINT:\n%s", rest.String())
	}
	out := stdout.String()
	for _, want := range []string{`\npipe-rtt-64 +pipe `, `\n +unix `, `\n +tcp `, "interrupted: the results above are partial"} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, pid := range peers {
		if alive(pid) {
			t.Errorf("peer process %d still runs after bench exited", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// childrenOf lists the child processes of pid: those of each of its
// threads.
func childrenOf(t *testing.T, pid int) []int {
	files, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if err != nil || len(files) == 0 {
		t.Fatalf("no /proc/%d/task/*/children: %v", pid, err)
	}
	var pids []int
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue // the thread has exited
		}
		for _, f := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, n)
		}
	}
	return pids
}

// alive says whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
