//go:build unix

package shm_test

// Interop with C on Unix: the emulation promises that a C program maps the
// same memory with shm_open of the path internal/kobj documents. The C
// program (testdata/shm_open_unix.c) is compiled here with the machine's C
// compiler.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/shm"
)

// TestInteropShmOpen: Go creates and writes; a C program shm_opens the
// documented path, reads what Go wrote (to the last byte) and writes back;
// Go reads that. Once Go's last handle closes, the C program finds nothing.
func TestInteropShmOpen(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir()) // a private namespace, as the conformance suite has
	prog := buildC(t, "testdata/shm_open_unix.c")
	for _, prefix := range []string{`Local\`, `Global\`} {
		t.Run(strings.TrimSuffix(prefix, `\`), func(t *testing.T) {
			const size, off = 3*shm.Granularity + 1000, 2*shm.Granularity + 17
			name := prefix + testName(t)
			k, err := names.ParseKernel(name)
			if err != nil {
				t.Fatal(err)
			}
			path, err := kobj.Path(k)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != "/dev/shm" {
				t.Skipf("objects live in %s here, where shm_open cannot reach them (no /dev/shm)", filepath.Dir(path))
			}
			shmName := "/" + filepath.Base(path)

			m, err := shm.Create(name, size, nil)
			if err != nil {
				t.Fatalf("Create(%q, %d): %v", name, size, err)
			}
			t.Cleanup(func() { _ = m.Close() }) // closed below; twice is a no-op
			copy(m.Bytes(), "hello from Go")
			m.Bytes()[size-1] = 0x7e

			out, err := runC(t, prog, shmName, strconv.Itoa(size), strconv.Itoa(off), "hello from C")
			if err != nil {
				t.Fatalf("%s %s: %v", filepath.Base(prog), shmName, err)
			}
			if want := "read hello from Go\nlast 7e\n"; out != want {
				t.Errorf("the C program printed %q; want %q", out, want)
			}
			if got := string(m.Bytes()[off : off+len("hello from C")]); got != "hello from C" {
				t.Errorf("Go reads %q where the C program wrote %q", got, "hello from C")
			}

			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := shm.Open(name, shm.ReadOnly); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Open after the last Close: %v; want ErrNotFound", err)
			}
			if out, err := runC(t, prog, shmName, strconv.Itoa(size), "0", "x"); err == nil {
				t.Errorf("the C program opened %s after Go's last handle closed; printed %q", shmName, out)
			}
		})
	}
}

// buildC compiles a C program for this machine into a temporary directory
// and returns its path. It skips the test when no C compiler is found.
func buildC(t *testing.T, src string) string {
	t.Helper()
	var cc string
	candidates := []string{"cc", "gcc", "clang"}
	if env := os.Getenv("CC"); env != "" {
		candidates = append([]string{env}, candidates...)
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		t.Skipf("no C compiler to build %s (looked for %s)", src, strings.Join(candidates, ", "))
	}
	exe := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// -lrt: shm_open lived in librt before glibc 2.34 (an empty stub since).
	out, err := exec.CommandContext(ctx, cc, "-O2", "-Wall", "-o", exe, src, "-lrt").CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, src, err, out)
	}
	return exe
}

// runC runs a program and returns its standard output; a failure's error
// holds its standard error.
func runC(t *testing.T, prog string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// testName returns a kernel-object name unique to this test and this run.
func testName(t *testing.T) string {
	var b strings.Builder
	for _, r := range t.Name() {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("xipc-%s-%08x", b.String(), rand.Uint32())
}
