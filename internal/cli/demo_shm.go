package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/shm"
)

// demoShm shows named shared memory between this process and `xipc shm`
// processes: one side writes, the other reads the same memory; creating a
// name that exists opens the object (ERROR_ALREADY_EXISTS); views must
// start at multiples of 64 KiB; and the Win32 lifetime: the object lives
// while any process holds it, and is gone after the last one closes it.
func demoShm(ctx context.Context, d *demo) error {
	name := d.name("shm")
	const size = 2 * shm.Granularity
	d.step("this process creates the object and writes into it")
	m, err := shm.Create(name, size, nil)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = m.Close() // an error path: the error that got us here says more
		}
	}()
	d.client("Create(%q, %d) → %s, %d bytes, Existed() = %v", name, size, m.Name(), m.Size(), m.Existed())
	hello := fmt.Sprintf("hello from pid %d", os.Getpid())
	copy(m.Bytes(), hello)
	d.client("copy %q into Bytes() at offset 0 (the rest is zero-filled)", hello)

	d.step("other processes open it: one reads, one writes")
	if err := demoRunOK(ctx, d, 0, "shm", "read", name); err != nil {
		return err
	}
	if err := demoRunOK(ctx, d, 0, "shm", "write", name, "--offset", "64", "hello back"); err != nil {
		return err
	}
	d.client("Bytes()[64:] up to the first zero byte → %q", cString(m.Bytes()[64:]))
	d.note("the same memory in every process: no copy through the kernel, and no synchronisation either")

	d.step("creating a name that exists opens the existing object")
	holder, err := d.startServer(ctx, "shm", "create", name, "4096", "--verbose", "--stop-on-stdin-eof")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			holder.kill()
		}
	}()
	if err := holder.expect("opened existing"); err != nil {
		return err
	}
	d.note("its Create found the name taken (ERROR_ALREADY_EXISTS) and opened the object, with the")
	d.note("existing size rather than the 4096 bytes it asked for; it holds the object until stopped")

	d.step("views start at multiples of the allocation granularity, 64 KiB")
	_, err = m.View(4096, 0, shm.ReadOnly)
	if !errors.Is(err, xipc.ErrMappedAlignment) {
		return fmt.Errorf("a view at offset 4096 got %v, want ErrMappedAlignment", err)
	}
	d.client("View(4096, 0, ReadOnly) → error %s", errString(err))
	v, err := m.View(shm.Granularity, 0, shm.ReadOnly)
	if err != nil {
		return err
	}
	d.client("View(%d, 0, ReadOnly) → a view of the last %d bytes", shm.Granularity, len(v.Bytes()))
	if err := v.Close(); err != nil {
		return err
	}

	d.step("lifetime: the object lives while any process holds it")
	closed = true
	if err := m.Close(); err != nil {
		return err
	}
	d.client("Close: this process holds it no more, the create process still does")
	if err := demoRunOK(ctx, d, 0, "shm", "read", name); err != nil {
		return err
	}
	d.client("closing the create process's standard input: it closes its handle and exits")
	stopped = true
	if err := holder.stop(); err != nil {
		return fmt.Errorf("xipc shm create: %w", err)
	}
	_, err = shm.Open(name, shm.ReadOnly)
	if !errors.Is(err, xipc.ErrNotFound) {
		return fmt.Errorf("open after the last close got %v, want ErrNotFound", err)
	}
	d.client("Open → error %s", errString(err))
	d.note("the last handle closed: the object and its contents are gone")
	m, err = shm.Create(name, size, nil)
	if err != nil {
		return err
	}
	fresh := cString(m.Bytes())
	existed := m.Existed()
	if err := m.Close(); err != nil {
		return err
	}
	d.client("Create again → Existed() = %v, text at offset 0 %q: a new, zero-filled object; Close", existed, fresh)
	return nil
}

// cString returns b up to its first zero byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
