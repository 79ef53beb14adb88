package examples_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair is one example: a server (or writer, receiver) and its client,
// each run as its own process.
type pair struct {
	dir            string // under examples/: "pipe", "pipe/idiomatic", ...
	server, client string // the programs' directories under dir
	arg            func(name string, port int) string
	// serverOut and clientOut are the lines each prints, in order.
	serverOut, clientOut []string
	// stop: how the server ends once the client is done: "exit" (by
	// itself), "stdin" (on Enter) or "kill" (it serves forever).
	stop string
}

func named(name string, _ int) string { return name }
func port(_ string, port int) string  { return strconv.Itoa(port) }
func tcp(_ string, port int) string   { return "tcp:127.0.0.1:" + strconv.Itoa(port) }

var pairs = []pair{
	{"pipe", "server", "client", named,
		[]string{`Waiting for a client on \\.\pipe\NAME...`, "Client connected", "Received: Hello from client", "Sent: Hello from server"},
		[]string{"Sent: Hello from client", "Received: Hello from server"}, "exit"},
	{"pipe/idiomatic", "server", "client", named,
		[]string{`Waiting for a client on \\.\pipe\NAME...`, "Client connected", "Received: Hello from client", "Sent: Hello from server"},
		[]string{"Sent: Hello from client", "Received: Hello from server"}, "exit"},
	{"shm", "writer", "reader", named,
		[]string{`Wrote "Hello from shared memory" to Local\NAME`, "Press Enter to exit..."},
		[]string{"Read: Hello from shared memory"}, "stdin"},
	{"shm/idiomatic", "writer", "reader", named,
		[]string{`Wrote "Hello from shared memory" to Local\NAME`, "Press Enter to exit..."},
		[]string{"Read: Hello from shared memory"}, "stdin"},
	{"msg", "receiver", "sender", named,
		[]string{"Waiting for messages in window NAME...", "Received WM_USER+1: wParam=42 lParam=100"},
		[]string{"Sent WM_USER+1 (wParam=42, lParam=100), result 142"}, "exit"},
	{"msg/idiomatic", "receiver", "sender", named,
		[]string{"Waiting for messages in window NAME...", "Received WM_USER+1: wParam=42 lParam=100"},
		[]string{"Sent WM_USER+1 (wParam=42, lParam=100), result 142"}, "exit"},
	{"mailslot", "server", "client", named,
		[]string{`Waiting for messages on \\.\mailslot\NAME...`, "Received: Hello from mailslot client"},
		[]string{"Sent: Hello from mailslot client"}, "kill"},
	{"mailslot/idiomatic", "server", "client", named,
		[]string{`Waiting for messages on \\.\mailslot\NAME...`, "Received: Hello from mailslot client"},
		[]string{"Sent: Hello from mailslot client"}, "kill"},
	{"socket", "server", "client", port,
		[]string{"Waiting for a connection on port PORT...", "Client connected", "Received: Hello from client", "Sent: Hello from server"},
		[]string{"Sent: Hello from client", "Received: Hello from server"}, "exit"},
	{"socket/idiomatic", "server", "client", tcp,
		[]string{"Waiting for a connection on tcp:127.0.0.1:PORT...", "Client connected", "Received: Hello from client", "Sent: Hello from server"},
		[]string{"Sent: Hello from client", "Received: Hello from server"}, "exit"},
}

// build builds the example programs into a temporary directory, or
// returns $XIPC_EXAMPLES_BIN, where scripts/test.sh puts them built for
// Windows (a test under Wine has no go command).
func build(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("XIPC_EXAMPLES_BIN"); dir != "" {
		if runtime.GOOS == "windows" && strings.HasPrefix(dir, "/") {
			dir = `Z:` + filepath.FromSlash(dir) // Wine's Z: is the Unix root
		}
		return dir
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the examples test builds the programs with the go command, which is not here (under Wine, say); the win32 tests cover the facade on Windows")
	}
	bin := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(pairs))
	sem := make(chan struct{}, 2) // two cores
	for _, p := range pairs {
		for _, prog := range []string{p.server, p.client} {
			wg.Add(1)
			go func(src, out string) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if b, err := exec.Command("go", "build", "-o", out, "./"+src).CombinedOutput(); err != nil {
					errs <- fmt.Errorf("go build ./%s: %v\n%s", src, err, b)
				}
			}(filepath.Join(p.dir, prog), exe(bin, p.dir, prog))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return bin
}

// exe is the file of program prog of example dir: examples/pipe/idiomatic/server
// is BIN/pipe-idiomatic-server (.exe on Windows).
func exe(bin, dir, prog string) string {
	name := strings.ReplaceAll(dir, "/", "-") + "-" + prog
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(bin, name)
}

func TestExamples(t *testing.T) {
	bin := build(t)
	for _, p := range pairs {
		t.Run(strings.ReplaceAll(p.dir, "/", "-"), func(t *testing.T) {
			name, port := uniq(), freePort(t)
			arg := p.arg(name, port)
			subst := strings.NewReplacer("NAME", name, "PORT", strconv.Itoa(port))
			if runtime.GOOS != "windows" { // (Wine cannot remove the directory afterwards)
				t.Setenv("XIPC_ROOT", t.TempDir())
			}

			srv := exec.Command(exe(bin, p.dir, p.server), arg)
			stdin, err := srv.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := srv.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			srv.Stderr = srv.Stdout
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				srv.Process.Kill()
				srv.Wait()
			}()
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			next := func() string {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("%s exited early", p.server)
					}
					return l
				case <-time.After(30 * time.Second):
					t.Fatalf("%s said nothing for 30s", p.server)
				}
				return ""
			}
			// Up to the line ending in "...": then the client may start.
			i := 0
			for ; i < len(p.serverOut); i++ {
				want := subst.Replace(p.serverOut[i])
				if got := next(); got != want {
					t.Fatalf("%s line %d: %q, want %q", p.server, i+1, got, want)
				}
				if strings.HasSuffix(want, "...") {
					i++
					break
				}
			}

			cout, err := exec.Command(exe(bin, p.dir, p.client), arg).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", p.client, err, cout)
			}
			if got, want := strings.Split(strings.TrimSuffix(string(cout), "\n"), "\n"), p.clientOut; strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s printed %q, want %q", p.client, got, want)
			}
			for ; i < len(p.serverOut); i++ {
				want := subst.Replace(p.serverOut[i])
				if got := next(); got != want {
					t.Fatalf("%s line %d: %q, want %q", p.server, i+1, got, want)
				}
			}
			switch p.stop {
			case "stdin":
				io.WriteString(stdin, "\n")
			case "kill":
				srv.Process.Kill()
			}
			for l := range lines {
				if p.stop != "kill" {
					t.Errorf("%s: unexpected line %q", p.server, l)
				}
			}
			err = srv.Wait()
			if p.stop != "kill" && err != nil {
				t.Errorf("%s: %v", p.server, err)
			}
		})
	}
}

func uniq() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails
	return "xipc-example-" + hex.EncodeToString(b[:])
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
