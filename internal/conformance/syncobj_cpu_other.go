//go:build !unix

package conformance

import (
	"errors"
	"time"

	"github.com/xipc/xipc/internal/errs"
)

// processCPU is measured on Unix only, where the emulation's waits are
// this project's own code; a Win32 wait is the kernel's.
func processCPU() (time.Duration, error) {
	return 0, errs.New(errs.ErrNotSupported, errors.New("measured on Unix only"))
}
