package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/msgq"
)

// TestListHelperProcess is not a test: re-executed with XIPC_LIST_PEER set
// (by TestListMsg), it registers a message queue, says "ready" and waits
// to be killed.
func TestListHelperProcess(t *testing.T) {
	name := os.Getenv("XIPC_LIST_PEER")
	if name == "" {
		return
	}
	q, err := msgq.Register(name, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer q.Close()
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

// TestListMsg: a queue shows with its receiver's PID while the receiver
// lives, and not after it was killed with SIGKILL.
func TestListMsg(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("xipc list needs /proc/locks (Linux) or Windows")
	}
	if runtime.GOOS == "linux" {
		t.Setenv("XIPC_ROOT", t.TempDir())
	}
	name := "xipct-list-" + randomHex(6)
	cmd := exec.Command(os.Args[0], "-test.run=^TestListHelperProcess$")
	cmd.Env = append(os.Environ(), "XIPC_LIST_PEER="+name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.Contains(line, "not supported") {
		t.Skipf("message queues do not work here: %s", line)
	}
	if line != "ready\n" {
		t.Fatalf("helper said %q", line)
	}
	code, stdout, stderr := runCLI(context.Background(), "", "list", "msg")
	want := regexp.MustCompile(`(?m)^msg +` + regexp.QuoteMeta(name) + ` +` + strconv.Itoa(cmd.Process.Pid) + `$`)
	if code != 0 || !want.MatchString(stdout) {
		t.Fatalf("list msg: exit %d, stdout %q, stderr %q; want %s", code, stdout, stderr, want)
	}
	cmd.Process.Kill()
	cmd.Wait()
	code, stdout, stderr = runCLI(context.Background(), "", "list", "msg")
	if code != 0 || strings.Contains(stdout, name) {
		t.Fatalf("list msg after SIGKILL: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestListPID: a pipe and shared memory made by this process list with its
// PID.
func TestListPID(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PIDs of pipes and shared memory are listed on Linux only")
	}
	t.Setenv("XIPC_ROOT", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	name := "xipct-" + randomHex(6)
	var errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"shm", "create", name, "4096"}, strings.NewReader(""), &syncBuffer{}, &errb)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errb.String(), "created"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("shm create said %q", errb.String())
		}
	}
	code, stdout, stderr := runCLI(context.Background(), "", "list", "shm")
	want := regexp.MustCompile(`(?m)^shm +Local\\` + name + ` +` + strconv.Itoa(os.Getpid()) + `$`)
	if code != 0 || !want.MatchString(stdout) {
		t.Fatalf("list shm: exit %d, stdout %q, stderr %q; want %s", code, stdout, stderr, want)
	}
}
