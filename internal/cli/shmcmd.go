package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
)

func newShmCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "shm",
		Short: "Named shared memory: create, write, read, info",
		Long: `Named shared memory (CreateFileMapping / OpenFileMapping / MapViewOfFile).
NAME is Local\NAME, a bare NAME (the same), or Global\NAME; case-sensitive.

As in Win32 the object lives only while some process holds it open: "xipc
shm create" holds it until interrupted, and write, read and info, which open
it for a moment, work only meanwhile. After the last holder closes it the
name is free and its contents are gone.`,
	})
	cmd.AddCommand(newShmCreateCmd(e), newShmWriteCmd(e), newShmReadCmd(e), newShmInfoCmd(e))
	return cmd
}

func newShmCreateCmd(e *env) *cobra.Command {
	var allUsers, verbose, stopOnStdinEOF bool
	cmd := &cobra.Command{
		Use:   "create NAME SIZE",
		Short: "Create shared memory and hold it until interrupted",
		Long: `Create creates the shared memory object NAME of SIZE bytes, zero-filled
(CreateFileMapping backed by memory), prints "created Local\NAME (SIZE
bytes)" on stderr, and holds it open until Ctrl-C or SIGTERM; then it closes
its handle and exits 0. The object goes away when no process holds it any
more.

If the object exists already, create opens it instead, with its existing
size, and prints "opened existing Local\NAME (SIZE bytes)"
(ERROR_ALREADY_EXISTS).

SIZE is a number of bytes, or one with the suffix K, M or G (KiB, MiB, GiB).
On Windows the object's size is SIZE rounded up to whole pages (4 KiB): that
is the size that Windows reports, and that create prints.`,
		Example: `  xipc shm create board 64K &
  xipc shm write board hello && xipc shm read board`,
		Args: exactArgs("NAME", "SIZE"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			size, err := parseSize(args[1])
			if err != nil {
				return usagef("%s: SIZE %q: %v", cmd.CommandPath(), args[1], err)
			}
			return createShm(cmd.Context(), e, args[0], size, allUsers, verbose, stopOnStdinEOF)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&allUsers, "all-users", false, "let every user open it (default: only the creating user)")
	f.BoolVarP(&verbose, "verbose", "v", false, "say on stderr when the handle is closed")
	// See serveOptions.stopOnStdinEOF.
	f.BoolVar(&stopOnStdinEOF, "stop-on-stdin-eof", false, "close when standard input ends")
	if err := f.MarkHidden("stop-on-stdin-eof"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// parseSize reads a positive size in bytes: a number (decimal, or 0x hex)
// with an optional K, M or G suffix (powers of 1024).
func parseSize(s string) (int64, error) {
	shift := 0
	if s != "" {
		if i := strings.IndexByte("KMG", s[len(s)-1]&^0x20); i >= 0 && !strings.HasPrefix(s, "0x") {
			shift = 10 * (i + 1)
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 0, 64)
	switch {
	case err != nil:
		return 0, errors.New("not a number of bytes")
	case n <= 0:
		return 0, errors.New("must be positive")
	case n > (1<<62)>>shift:
		return 0, errors.New("too large")
	}
	return n << shift, nil
}

func createShm(ctx context.Context, e *env, name string, size int64, allUsers, verbose, stopOnStdinEOF bool) error {
	m, err := shm.Create(name, size, &shm.Options{Security: shm.Security{AllUsers: allUsers}})
	if err != nil {
		return err
	}
	verb := "created"
	if m.Existed() {
		verb = "opened existing"
	}
	fmt.Fprintf(e.stderr, "%s %s (%d bytes)\n", verb, m.Name(), m.Size())
	if stopOnStdinEOF {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			_, _ = io.Copy(io.Discard, e.stdin) // read errors end it too: stdin is gone
			cancel()
		}()
	}
	<-ctx.Done()
	if err := m.Close(); err != nil {
		return err
	}
	if verbose {
		fmt.Fprintf(e.stderr, "closed %s\n", m.Name())
	}
	return nil
}

func newShmWriteCmd(e *env) *cobra.Command {
	var offset int64
	var raw bool
	cmd := &cobra.Command{
		Use:   "write NAME TEXT",
		Short: "Write text into shared memory",
		Long: `Write opens the shared memory object NAME (OpenFileMapping) and copies TEXT
into it at --offset, followed by a zero byte, as strcpy does, so that "xipc
shm read" at the same offset prints TEXT; --raw writes the bytes of TEXT
alone. It fails when they do not fit, and when no process holds the object
(see "xipc shm create").`,
		Example: `  xipc shm write board hello
  xipc shm write board --offset 100 "second line"`,
		Args: exactArgs("NAME", "TEXT"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if offset < 0 {
				return usagef("%s: --offset must not be negative", cmd.CommandPath())
			}
			data := []byte(args[1])
			if !raw {
				data = append(data, 0)
			}
			return writeShm(args[0], offset, data)
		}),
	}
	cmd.Flags().Int64Var(&offset, "offset", 0, "where to write, in bytes from the start")
	cmd.Flags().BoolVar(&raw, "raw", false, "write only the bytes of TEXT, without a zero byte after them")
	return cmd
}

func writeShm(name string, offset int64, data []byte) error {
	m, err := shm.Open(name, shm.ReadWrite)
	if err != nil {
		return err
	}
	defer m.Close()
	if offset > m.Size() || int64(len(data)) > m.Size()-offset {
		return errs.Op("write", "shm", m.Name(), errs.New(errs.ErrInvalidParameter,
			fmt.Errorf("%d bytes at offset %d pass the end of the %d-byte object", len(data), offset, m.Size())))
	}
	copy(m.Bytes()[offset:], data)
	return m.Close()
}

func newShmReadCmd(e *env) *cobra.Command {
	var offset, n int64
	var hexDump bool
	cmd := &cobra.Command{
		Use:   "read NAME",
		Short: "Print what shared memory holds",
		Long: `Read opens the shared memory object NAME read-only (OpenFileMapping with
FILE_MAP_READ) and prints --len bytes from --offset (default: to the end):
as text up to the first zero byte, followed by a newline, or, with --hex, all
of them as a hex dump in which a "*" line stands for repeats of the line
above. It fails when no process holds the object (see "xipc shm create").`,
		Example: `  xipc shm read board
  xipc shm read board --offset 0x1000 --len 64 --hex`,
		Args: exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if offset < 0 {
				return usagef("%s: --offset must not be negative", cmd.CommandPath())
			}
			if n < 0 {
				return usagef("%s: --len must not be negative", cmd.CommandPath())
			}
			return readShm(e, args[0], offset, n, cmd.Flags().Changed("len"), hexDump)
		}),
	}
	cmd.Flags().Int64Var(&offset, "offset", 0, "where to start, in bytes from the start")
	cmd.Flags().Int64Var(&n, "len", 0, "how many bytes at most (default: to the end)")
	cmd.Flags().BoolVar(&hexDump, "hex", false, "print a hex dump of every byte")
	return cmd
}

func readShm(e *env, name string, offset, n int64, lenSet, hexDump bool) error {
	m, err := shm.Open(name, shm.ReadOnly)
	if err != nil {
		return err
	}
	defer m.Close()
	if !lenSet {
		n = m.Size() - offset
	}
	if offset > m.Size() || n > m.Size()-offset {
		return errs.Op("read", "shm", m.Name(), errs.New(errs.ErrInvalidParameter,
			fmt.Errorf("%d bytes at offset %d pass the end of the %d-byte object", n, offset, m.Size())))
	}
	// Copy before printing: another process may be writing.
	b := bytes.Clone(m.Bytes()[offset : offset+n])
	if err := m.Close(); err != nil {
		return err
	}
	if hexDump {
		return dump(e.stdout, b, offset)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}

// dump writes b as `hexdump -C` does, with offsets from base: 16 bytes a
// line, and one "*" line for any run of lines equal to the one before.
func dump(w io.Writer, b []byte, base int64) error {
	var out bytes.Buffer
	var prev []byte
	starred := false
	for i := 0; i < len(b); i += 16 {
		line := b[i:min(i+16, len(b))]
		if prev != nil && len(line) == 16 && bytes.Equal(line, prev) {
			if !starred {
				out.WriteString("*\n")
				starred = true
			}
			continue
		}
		prev, starred = line, false
		fmt.Fprintf(&out, "%08x ", base+int64(i))
		for j := range 16 {
			if j == 8 {
				out.WriteByte(' ')
			}
			if j < len(line) {
				fmt.Fprintf(&out, " %02x", line[j])
			} else {
				out.WriteString("   ")
			}
		}
		out.WriteString("  |")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			out.WriteByte(c)
		}
		out.WriteString("|\n")
	}
	fmt.Fprintf(&out, "%08x\n", base+int64(len(b)))
	_, err := w.Write(out.Bytes())
	return err
}

func newShmInfoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "info NAME",
		Short: "Tell whether shared memory exists, and its size",
		Long: `Info opens the shared memory object NAME read-only for a moment and prints its
name and size. An object exists only while some process holds it, so an
object that info finds is alive; it exits 1 when there is none.`,
		Example: `  xipc shm info board`,
		Args:    exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			m, err := shm.Open(args[0], shm.ReadOnly)
			if err != nil {
				return err
			}
			name, size := m.Name(), m.Size()
			if err := m.Close(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "name:  %s\nsize:  %d bytes\nalive: yes, held open by at least one other process\n", name, size)
			return err
		}),
	}
}
