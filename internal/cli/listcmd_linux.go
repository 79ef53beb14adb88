package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
)

// A live object in the Linux emulation holds a lock that the kernel drops
// when its process dies: an flock on NAME%lock (pipes, mailslots) or on the
// queue file (msgq), an open-file-description lock on the object's file in
// /dev/shm (shared memory). /proc/locks shows them without disturbing
// them; a file without one was left by a crashed process.

// fileID is a file's device and inode, as /proc/locks names it.
type fileID struct {
	major, minor uint32
	ino          uint64
}

func idOf(path string) (fileID, bool) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return fileID{}, false
	}
	return fileID{unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino}, true
}

// lock is one line of /proc/locks: its type (FLOCK, OFDLCK, POSIX) and
// the PID that took it (-1 for OFD locks).
type lock struct {
	typ string
	pid int
}

// procLocks reads the kernel's table of held locks.
func procLocks() (map[fileID][]lock, error) {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil, err
	}
	locks := map[fileID][]lock{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 12345 00:1f:1234 0 EOF
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] == "->" { // "->": a waiter, not a holder
			continue
		}
		dev := strings.Split(f[5], ":")
		if len(dev) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(dev[0], 16, 32)
		min, err2 := strconv.ParseUint(dev[1], 16, 32)
		ino, err3 := strconv.ParseUint(dev[2], 10, 64)
		pid, err4 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		id := fileID{uint32(maj), uint32(min), ino}
		locks[id] = append(locks[id], lock{typ: f[1], pid: pid})
	}
	return locks, sc.Err()
}

// flockOwner returns the PID holding an flock on path, if any.
func flockOwner(locks map[fileID][]lock, path string) (int, bool) {
	id, ok := idOf(path)
	if !ok {
		return 0, false
	}
	for _, l := range locks[id] {
		if l.typ == "FLOCK" && l.pid > 0 {
			return l.pid, true
		}
	}
	return 0, false
}

func listLive(kind string) ([]listEntry, error) {
	locks, err := procLocks()
	if err != nil {
		return nil, fmt.Errorf("cannot read the kernel's lock table: %w", err)
	}
	switch kind {
	case "pipe", "mailslot":
		return listClaims(locks, kind)
	case "shm":
		return listShm(locks)
	}
	return listQueues(locks)
}

// listClaims lists the pipes or mailslots whose NAME%lock a live server
// holds; the file's first line is the object's full name.
func listClaims(locks map[fileID][]lock, kind string) ([]listEntry, error) {
	files, err := filepath.Glob(filepath.Join(names.Root(), kind, "*"+ns.LockSuffix))
	if err != nil {
		return nil, err
	}
	var out []listEntry
	for _, f := range files {
		pid, ok := flockOwner(locks, f)
		if !ok {
			continue // stale: its server died
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue // removed meanwhile
		}
		name, _, _ := strings.Cut(string(b), "\n")
		if name == "" {
			continue // being created
		}
		out = append(out, listEntry{kind: kind, name: name, pids: []int{pid}})
	}
	return out, nil
}

// shmDir and shmPrefix follow internal/kobj: the files of kernel objects
// are /dev/shm/PREFIX{l<UID>,g}.NAME, PREFIX "xipc." or, under XIPC_ROOT,
// "xipc-HASH.".
func shmDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return filepath.Join(names.Root(), "kobj")
}

func shmPrefix() string {
	if os.Getenv("XIPC_ROOT") != "" {
		sum := sha256.Sum256([]byte(names.Root()))
		return "xipc-" + hex.EncodeToString(sum[:4]) + "."
	}
	return "xipc."
}

var (
	kobjFile  = regexp.MustCompile(`^(l\d+|g)\.(.+)$`)
	queueFile = regexp.MustCompile(`^m\d+\.(.+)$`)
	// A queue's payload files and the temporary name it is made under
	// (QUEUE+d<slot>.<gen>, QUEUE+n<random>: msgq escapes '+' in names).
	queueExtra = regexp.MustCompile(`\+(d\d+\.\d+|n[0-9a-f]{16})$`)
)

// unescape undoes the %XX escapes of the file names.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// listShm lists the file mappings some process holds, with the holders.
func listShm(locks map[fileID][]lock) ([]listEntry, error) {
	dir, prefix := shmDir(), shmPrefix()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []listEntry
	var ids []fileID
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		m := kobjFile.FindStringSubmatch(rest)
		if !ok || m == nil || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		typ := make([]byte, 32)
		n, err := unix.Getxattr(path, "user.xipc.type", typ)
		if err != nil || string(typ[:n]) != "mapping" {
			continue
		}
		id, ok := idOf(path)
		if !ok || len(locks[id]) == 0 {
			continue // nobody holds it: a crashed process's leftover
		}
		name := `Local\` + unescape(m[2])
		if m[1] == "g" {
			name = `Global\` + unescape(m[2])
		}
		out = append(out, listEntry{kind: "shm", name: name})
		ids = append(ids, id)
	}
	if len(out) > 0 {
		holders := openers()
		for i := range out {
			out[i].pids = holders[ids[i]]
		}
	}
	return out, nil
}

// openers maps each file that a process has open to those processes
// (the ones /proc lets the caller see).
func openers() map[fileID][]int {
	m := map[fileID][]int{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue // gone, or not ours to see
		}
		seen := map[fileID]bool{}
		for _, fd := range fds {
			id, ok := idOf(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if ok && !seen[id] {
				seen[id] = true
				m[id] = append(m[id], pid)
			}
		}
	}
	for _, pids := range m {
		sort.Ints(pids)
	}
	return m
}

// listQueues lists the message queues whose receiver is alive.
func listQueues(locks map[fileID][]lock) ([]listEntry, error) {
	dir, prefix := shmDir(), shmPrefix()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []listEntry
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		m := queueFile.FindStringSubmatch(rest)
		if !ok || m == nil || queueExtra.MatchString(rest) {
			continue
		}
		pid, ok := flockOwner(locks, filepath.Join(dir, e.Name()))
		if !ok {
			continue // its receiver died
		}
		out = append(out, listEntry{kind: "msg", name: unescape(m[1]), pids: []int{pid}})
	}
	return out, nil
}
