package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestShmInProcess holds an object with `xipc shm create` in this process
// while write, read and info use it, then cancels the context (Ctrl-C) and
// checks that the object is gone. The size is a multiple of the page size:
// Windows reports a mapping's size rounded up to whole pages.
func TestShmInProcess(t *testing.T) {
	t.Setenv("XIPC_ROOT", tempDir(t))
	name := "xipct-inproc-" + randomHex(6)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var holdErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"shm", "create", name, "4K", "-v"}, strings.NewReader(""), &syncBuffer{}, &holdErr)
	}()
	// The object exists a moment before create says so.
	waitFor(t, func() bool { return holdErr.String() != "" })
	if got, want := holdErr.String(), `created Local\`+name+" (4096 bytes)\n"; got != want {
		t.Errorf("create stderr %q, want %q", got, want)
	}

	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string // a part of it
	}{
		{[]string{"info", name}, 0, "name:  Local\\" + name + "\nsize:  4096 bytes\nalive: yes, held open by at least one other process\n", ""},
		{[]string{"write", name, "hello, world"}, 0, "", ""},
		{[]string{"read", name}, 0, "hello, world\n", ""},
		{[]string{"write", name, "HELLO", "--raw"}, 0, "", ""},
		{[]string{"read", name}, 0, "HELLO, world\n", ""},
		{[]string{"write", name, "J"}, 0, "", ""},
		{[]string{"read", name}, 0, "J\n", ""},
		{[]string{"read", name, "--offset", "2"}, 0, "LLO, world\n", ""},
		{[]string{"read", name, "--offset", "2", "--len", "3"}, 0, "LLO\n", ""},
		{[]string{"write", name, "--offset", "0xffe", "x"}, 0, "", ""},
		{[]string{"read", name, "--offset", "4094"}, 0, "x\n", ""},
		{[]string{"read", name, "--offset", "4096"}, 0, "\n", ""},
		{[]string{"write", name, "--offset", "4095", "x"}, 1, "", "2 bytes at offset 4095 pass the end of the 4096-byte object"},
		{[]string{"write", name, "--offset", "4095", "--raw", "x"}, 0, "", ""},
		{[]string{"read", name, "--offset", "4072", "--len", "25"}, 1, "", "pass the end"},
		{[]string{"read", name, "--offset", "4097"}, 1, "", "pass the end"},
		{[]string{"read", name, "--hex", "--len", "40"}, 0,
			"00000000  4a 00 4c 4c 4f 2c 20 77  6f 72 6c 64 00 00 00 00  |J.LLO, world....|\n" +
				"00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n" +
				"00000020  00 00 00 00 00 00 00 00                           |........|\n" +
				"00000028\n", ""},
		{[]string{"read", name, "--hex", "--offset", "4080"}, 0,
			"00000ff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 78 78  |..............xx|\n" +
				"00001000\n", ""},
		{[]string{"create", name, "64", "--stop-on-stdin-eof"}, 0, "", `opened existing Local\` + name + " (4096 bytes)\n"},
	} {
		code, stdout, stderr := runCLI(t.Context(), "", append([]string{"shm"}, c.args...)...)
		if code != c.code || stdout != c.stdout || !strings.Contains(stderr, c.stderr) || (c.stderr == "" && stderr != "") {
			t.Errorf("xipc shm %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q",
				c.args, code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("create: exit %d after cancel, stderr:\n%s", code, holdErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("create did not stop after cancel")
	}
	if !strings.HasSuffix(holdErr.String(), `closed Local\`+name+"\n") {
		t.Errorf("create stderr %q, want it to end with closed", holdErr.String())
	}
	for _, args := range [][]string{{"read", name}, {"write", name, "x"}, {"info", name}} {
		code, _, stderr := runCLI(t.Context(), "", append([]string{"shm"}, args...)...)
		if code != 1 || !strings.Contains(stderr, `shm Local\`+name+": open: file does not exist") {
			t.Errorf("xipc shm %q after the last close: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "4096": 4096, "0x1000": 4096, "64K": 64 << 10, "64k": 64 << 10, "3M": 3 << 20, "2G": 2 << 30,
		"0": -1, "-1": -1, "": -1, "K": -1, "1.5K": -1, "12Q": -1, "0x10K": -1, "1T": -1, "9999999999G": -1,
	} {
		got, err := parseSize(in)
		if err != nil {
			got = -1
		}
		if got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestDump(t *testing.T) {
	b := make([]byte, 70)
	copy(b, "0123456789abcdef")
	copy(b[64:], "end\x7f\x80\n")
	var out bytes.Buffer
	if err := dump(&out, b, 0x100); err != nil {
		t.Fatal(err)
	}
	want := "00000100  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
		"00000110  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n" +
		"*\n" +
		"00000140  65 6e 64 7f 80 0a                                 |end...|\n" +
		"00000146\n"
	if out.String() != want {
		t.Errorf("dump:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := dump(&out, nil, 5); err != nil || out.String() != "00000005\n" {
		t.Errorf("dump of nothing: %q, %v", out.String(), err)
	}
}
