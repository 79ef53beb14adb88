package cli

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc"
)

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output listcmd_zsyscall_windows.go listcmd_windows.go

//sys	findWindowEx(parent windows.HWND, childAfter windows.HWND, className *uint16, windowName *uint16) (hwnd windows.HWND, err error) [failretval==0] = user32.FindWindowExW
//sys	getClassName(hwnd windows.HWND, name *uint16, size int32) (n int32, err error) [failretval==0] = user32.GetClassNameW
//sys	getWindowText(hwnd windows.HWND, text *uint16, size int32) (n int32, err error) [failretval==0] = user32.GetWindowTextW

// hwndMessage is HWND_MESSAGE, the parent of message-only windows.
const hwndMessage = windows.HWND(^uintptr(2)) // (HWND)-3

func listLive(kind string) ([]listEntry, error) {
	switch kind {
	case "pipe":
		return listPipes()
	case "msg":
		return listWindows(), nil
	}
	// Windows has no way to enumerate mailslots or named file mappings
	// short of the kernel object directory (NtQueryDirectoryObject).
	return nil, xipc.ErrNotSupported
}

// listPipes lists \\.\pipe\ as a directory (FindFirstFile), as pipelist
// does. The server's PID is not there: GetNamedPipeServerProcessId needs a
// client handle, which would take one of the pipe's instances.
func listPipes() ([]listEntry, error) {
	var fd windows.Win32finddata
	h, err := windows.FindFirstFile(windows.StringToUTF16Ptr(`\\.\pipe\*`), &fd)
	switch {
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return nil, nil
	case errors.Is(err, windows.ERROR_BAD_DEV_TYPE), errors.Is(err, windows.ERROR_INVALID_FUNCTION):
		// Wine 8 cannot list the pipe file system.
		return nil, fmt.Errorf(`%w: this system cannot enumerate \\.\pipe\ (%v)`, xipc.ErrNotSupported, err)
	case err != nil:
		return nil, err
	}
	defer windows.FindClose(h)
	var out []listEntry
	for {
		out = append(out, listEntry{kind: "pipe", name: `\\.\pipe\` + windows.UTF16ToString(fd.FileName[:])})
		if err := windows.FindNextFile(h, &fd); err != nil {
			if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
				return out, nil
			}
			return out, err
		}
	}
}

// listWindows lists the message-only windows of xipc message queues
// (window class xipc.msgq.PID), titled with the queue's name.
func listWindows() []listEntry {
	var out []listEntry
	var after windows.HWND
	buf := make([]uint16, 512)
	for {
		h, err := findWindowEx(hwndMessage, after, nil, nil)
		if err != nil || h == 0 {
			return out
		}
		after = h
		n, err := getClassName(h, &buf[0], int32(len(buf)))
		if err != nil || !strings.HasPrefix(windows.UTF16ToString(buf[:n]), "xipc.msgq.") {
			continue
		}
		n, err = getWindowText(h, &buf[0], int32(len(buf)))
		if err != nil {
			continue
		}
		var pid uint32
		if _, err := windows.GetWindowThreadProcessId(h, &pid); err != nil {
			continue
		}
		out = append(out, listEntry{kind: "msg", name: windows.UTF16ToString(buf[:n]), pids: []int{int(pid)}})
	}
}
