//go:build unix

package names

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/xipc/xipc/internal/errs"
)

// DefaultRoot is the machine-wide directory that holds the Linux emulation's
// objects, one subdirectory per kind of object. XIPC_ROOT overrides it.
const DefaultRoot = "/tmp/.xipc"

// Root returns the namespace root: $XIPC_ROOT if set, else DefaultRoot.
func Root() string {
	if r := os.Getenv("XIPC_ROOT"); r != "" {
		return filepath.Clean(r)
	}
	return DefaultRoot
}

var dirs sync.Map // path -> struct{}: directories already checked

// Dir returns Root()/kind, creating both with mode 1777 (world-writable and
// sticky, like /tmp) when missing. A directory that is a symlink, not a
// directory, or owned by a user other than root and the caller is refused:
// anyone can create /tmp/.xipc, so its owner must be trusted.
func Dir(kind string) (string, error) {
	root := Root()
	dir := filepath.Join(root, kind)
	if _, ok := dirs.Load(dir); ok {
		return dir, nil
	}
	for _, d := range []string{root, dir} {
		if err := ensureDir(d); err != nil {
			return "", err
		}
	}
	dirs.Store(dir, struct{}{})
	return dir, nil
}

func ensureDir(d string) error {
	err := os.Mkdir(d, 0o700)
	switch {
	case err == nil:
		// Chmod, not Mkdir's mode: the umask would strip the bits.
		if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
			return errs.New(errs.ErrAccessDenied, err)
		}
	case errors.Is(err, os.ErrExist):
	default:
		return errs.FromSys(err)
	}
	fi, err := os.Lstat(d)
	if err != nil {
		return errs.FromSys(err)
	}
	if fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir() {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a directory (a symlink or file was planted there): remove it or set XIPC_ROOT", d))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := uint32(os.Getuid())
	if st.Uid != 0 && st.Uid != uid {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is owned by uid %d, neither root nor you: remove it or set XIPC_ROOT", d, st.Uid))
	}
	if st.Uid != uid && fi.Mode()&os.ModeSticky == 0 && fi.Mode().Perm()&0o002 != 0 {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is world-writable without the sticky bit: chmod +t it or set XIPC_ROOT", d))
	}
	return nil
}
