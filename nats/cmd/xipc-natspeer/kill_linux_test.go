package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilled: xipc-natspeer killed with SIGKILL (as when the bench is)
// leaves no responder behind: the responder's stdin closes and it exits.
func TestKilled(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("first line %q, %v", line, err)
	}
	// The responder is the child of xipc-natspeer (Linux lists a task's
	// children in /proc).
	var kids []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(w); err == nil {
				kids = append(kids, pid)
			}
		}
	}
	if len(kids) != 1 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("children %v, want the responder", kids)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// A generous bound on the responder's exit: this checks that it ends,
	// not how fast.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(kids[0]) + "/stat")
		// Gone, or a zombie its new parent has not reaped yet.
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(kids[0], syscall.SIGKILL)
			t.Fatalf("the responder %d still runs after xipc-natspeer was killed", kids[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
