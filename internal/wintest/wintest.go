//go:build windows

// Package wintest is the plumbing of the Windows interop tests, which run
// xipc against programs that use the raw Win32 API (PKG/testdata/*.c). Only
// tests use it.
//
// The C programs are built with MinGW-w64:
//
//	x86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/NAME.exe PKG/testdata/NAME.c
//
// scripts/test.sh does that and sets XIPC_INTEROP_BIN. Without it, a test
// binary running under Wine builds them itself: Wine can start a Linux
// program (here /bin/sh running the cross-compiler), though it cannot wait
// for it, so the build leaves its exit status in a file that the test polls.
// Anywhere else the tests fail and say how to build the programs.
package wintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// InteropBin returns the directory holding the C programs (NAME.exe for
// each NAME in programs, built from testdata/NAME.c of the package under
// test) built for Windows: $XIPC_INTEROP_BIN, or, under Wine, a directory
// where it builds them, removed when the test ends. It fails the test when
// neither works: these tests must not be skipped quietly. pkg names the
// package's directory in the repository ("pipe") for the message that says
// how to build the programs.
func InteropBin(t testing.TB, pkg string, programs ...string) string {
	t.Helper()
	how := "build them with\n"
	for _, p := range programs {
		how += fmt.Sprintf("\tx86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/%s.exe %s/testdata/%s.c\n", p, pkg, p)
	}
	how += "and set XIPC_INTEROP_BIN (scripts/test.sh does both)"
	if dir := os.Getenv("XIPC_INTEROP_BIN"); dir != "" {
		if UnderWine() && strings.HasPrefix(dir, "/") {
			dir = `Z:` + filepath.FromSlash(dir) // Wine's Z: is the Unix root
		}
		for _, p := range programs {
			if _, err := os.Stat(filepath.Join(dir, p+".exe")); err != nil {
				t.Fatalf("XIPC_INTEROP_BIN=%s lacks %s.exe (%v); %s", os.Getenv("XIPC_INTEROP_BIN"), p, err, how)
			}
		}
		return dir
	}
	if !UnderWine() {
		t.Fatalf("the interop tests need their C programs: %s", how)
	}
	dir, err := buildUnderWine(t, programs)
	if err != nil {
		t.Fatalf("building the C programs from within Wine: %v; %s", err, how)
	}
	return dir
}

// UnderWine reports whether the process runs under Wine, whose ntdll
// exports wine_get_version.
func UnderWine() bool {
	return underWine()
}

var underWine = sync.OnceValue(func() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
})

const (
	wineShell = `Z:\bin\sh`
	wineGCC   = "/usr/bin/x86_64-w64-mingw32-gcc"
)

// buildUnderWine compiles the C programs with the Linux cross-compiler,
// started through Wine, into a new directory under /tmp (Z:\tmp), removed
// when the test ends.
func buildUnderWine(t testing.TB, programs []string) (string, error) {
	if _, err := os.Stat(wineShell); err != nil {
		return "", fmt.Errorf("no Unix shell at %s: %w", wineShell, err)
	}
	if _, err := os.Stat(`Z:` + filepath.FromSlash(wineGCC)); err != nil {
		return "", fmt.Errorf("no %s: %w", wineGCC, err)
	}
	dir, err := os.MkdirTemp(`Z:\tmp`, "xipc-interop-")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { RemoveTree(t, dir) })
	var script strings.Builder
	fmt.Fprintf(&script, "cd '%s' && {", unixPath(dir))
	for _, p := range programs {
		src, err := os.ReadFile(filepath.Join("testdata", p+".c"))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, p+".c"), src, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&script, " %s -O2 -o %s.exe %s.c &&", wineGCC, p, p)
	}
	script.WriteString(" true; } >build.log 2>&1; echo $? >status.tmp; mv status.tmp status")
	// Wine runs the shell as a Unix process; the handle it returns cannot
	// be waited on, so the exit status comes through the status file.
	proc, err := os.StartProcess(wineShell, []string{"sh", "-c", script.String()},
		&os.ProcAttr{Files: []*os.File{nil, nil, nil}})
	if err != nil {
		return "", fmt.Errorf("starting %s: %w", wineShell, err)
	}
	proc.Release() //nolint:errcheck // the handle was never a real one
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err == nil {
			if s := strings.TrimSpace(string(status)); s != "0" {
				log, _ := os.ReadFile(filepath.Join(dir, "build.log"))
				return "", fmt.Errorf("the compiler failed (status %s):\n%s", s, log)
			}
			return dir, nil
		}
		select {
		case <-ctx.Done():
			return "", errors.New("no build status after 3 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// unixPath turns a path on Wine's Z: drive into the Unix path it stands for.
func unixPath(p string) string {
	return filepath.ToSlash(p[len(`Z:`):])
}

// RemoveTree removes dir file by file, logging what it cannot remove:
// os.RemoveAll fails under Wine 8 ("unlinkat: Invalid function") while
// os.Remove works.
func RemoveTree(t testing.TB, dir string) {
	var paths []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Remove(paths[i]); err != nil {
			t.Logf("removing %s: %v", paths[i], err)
		}
	}
}

// DACL returns the access-allowed entries of h's DACL by SID.
func DACL(t testing.TB, h windows.Handle) map[string]windows.ACCESS_MASK {
	t.Helper()
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatalf("GetSecurityInfo: %v", err)
	}
	acl, _, err := sd.DACL()
	if err != nil {
		t.Fatalf("the DACL of %s: %v", sd, err)
	}
	aces := make(map[string]windows.ACCESS_MASK)
	for i := range uint32(acl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(acl, i, &ace); err != nil {
			t.Fatalf("GetAce(%d): %v", i, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			t.Errorf("DACL %s: entry %d is of type %d", sd, i, ace.Header.AceType)
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		aces[sid.String()] |= ace.Mask
	}
	return aces
}
