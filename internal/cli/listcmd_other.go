//go:build !linux && !windows

package cli

import "github.com/xipc/xipc"

// listLive needs the kernel's lock table to tell live objects from a
// crashed process's leftovers; only Linux shows it (/proc/locks).
func listLive(string) ([]listEntry, error) {
	return nil, xipc.ErrNotSupported
}
