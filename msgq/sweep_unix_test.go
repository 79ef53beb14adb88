//go:build unix

package msgq

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

const sweepChildEnv = "XIPC_MSGQ_SWEEP_CHILD"

// The child registers the queue named in the environment, says so, and
// waits to be killed.
func init() {
	if name := os.Getenv(sweepChildEnv); name != "" {
		if _, err := Register(name, nil); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("ready")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
}

// TestSweep: a queue whose process was killed leaves its file; the next
// Register of any name removes it, and Find of it finds nothing (and
// removes it too).
func TestSweep(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	dead := func() string {
		name := fmt.Sprintf("sweep-%d-%d", os.Getpid(), time.Now().UnixNano())
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), sweepChildEnv+"="+name)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %q %v", line, err)
		}
		cmd.Process.Kill()
		cmd.Wait()
		path, err := queuePath(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the killed receiver's file %s: %v; want it left behind", path, err)
		}
		return name
	}

	a := dead()
	q, err := Register(fmt.Sprintf("sweeper-%d", os.Getpid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	pa, _ := queuePath(a)
	if _, err := os.Stat(pa); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a Register, the dead queue's file: %v; want it removed", err)
	}

	b := dead()
	if _, err := Find(b); err == nil {
		t.Fatalf("Find of a queue whose process was killed succeeded")
	}
	pb, _ := queuePath(b)
	if _, err := os.Stat(pb); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a Find, the dead queue's file: %v; want it removed", err)
	}
}
