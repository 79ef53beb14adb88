//go:build unix && !linux

package ring

import "errors"

var errNoProcess = errors.New("no such process")

// procStat has no /proc to read here: processAlive relies on kill alone.
func procStat(uint32) (state byte, start uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}
