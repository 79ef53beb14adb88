package ring

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
)

var errNoProcess = errors.New("no such process")

// procStat returns the state and the start time (in clock ticks since
// boot) of process pid, from /proc/PID/stat.
func procStat(pid uint32) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, errNoProcess
	}
	if err != nil {
		return 0, 0, err
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses,
	// so the fields start after the last ')'. Start time is field 22, the
	// 20th after COMM.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("unreadable /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return 0, 0, errors.New("unreadable /proc stat")
	}
	start, err = strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil || len(f[0]) != 1 {
		return 0, 0, errors.New("unreadable /proc stat")
	}
	return f[0][0], start, nil
}
