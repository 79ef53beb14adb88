//go:build !windows

package xipc

import "github.com/xipc/xipc/internal/errs"

// sockError wraps a socket error with the sentinel its errno means.
func sockError(err error) error { return errs.FromSys(err) }
