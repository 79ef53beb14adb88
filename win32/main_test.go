package win32_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/xipc/xipc/win32"
)

// TestMain makes the test binary a peer process when a test starts one
// (XIPC_WIN32_PEER set), and otherwise runs the tests with goleak.
func TestMain(m *testing.M) {
	if os.Getenv("XIPC_WIN32_PEER") != "" {
		os.Exit(peerMain())
	}
	goleak.VerifyTestMain(m)
}

// peerMain runs commands read from stdin, one per line, each a Win32 call
// through the facade, and answers each with one line: the results, then
// the error code (0 for success). Handles are printed and read in decimal.
//
//	pid                          → PID
//	createfile NAME r|w|rw       → HANDLE CODE
//	setmsg H                     → CODE       SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)
//	write H TEXT                 → N CODE
//	read H SIZE                  → N "DATA" CODE
//	close H                      → CODE
//	waitpipe NAME MS             → CODE
//	call NAME TEXT SIZE MS       → N "DATA" CODE
//	mutex NAME                   → HANDLE CODE  CreateMutex(initialOwner)
//	wait H MS                    → EVENT CODE
//	mapwrite NAME OFFSET TEXT    → CODE       OpenFileMapping + MapViewOfFile + copy + Unmap + Close
//	slotwrite NAME TEXT          → CODE       CreateFile + WriteFile + CloseHandle
//	sockconnect PORT             → SOCKET CODE  WSAStartup + socket + connect 127.0.0.1:PORT
//	sendsock S TEXT              → N CODE
//	recv S SIZE                  → N "DATA" CODE
//	closesocket S                → CODE
//	findwindow TITLE             → HWND CODE
//	post H MSG W L               → CODE
//	send H MSG W L MS            → RESULT CODE   SendMessageTimeout
//	senddata H TAG TEXT          → RESULT CODE   SendCopyData
//	regmsg NAME                  → ID CODE       RegisterWindowMessage
func peerMain() int {
	in := bufio.NewScanner(os.Stdin)
	code := func(err error) uint32 {
		if err == nil {
			return 0
		}
		return uint32(err.(win32.Errno))
	}
	num := func(s string) uint64 {
		n, _ := strconv.ParseUint(s, 0, 64)
		return n
	}
	for in.Scan() {
		f := splitQuoted(strings.TrimSpace(in.Text()))
		if len(f) == 0 {
			continue
		}
		arg := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		switch f[0] {
		case "pid":
			fmt.Println(os.Getpid())
		case "createfile":
			var access uint32
			if strings.Contains(f[2], "r") {
				access |= win32.GENERIC_READ
			}
			if strings.Contains(f[2], "w") {
				access |= win32.GENERIC_WRITE
			}
			h, err := win32.CreateFile(arg(1), access, win32.FILE_SHARE_READ, nil, win32.OPEN_EXISTING, 0, 0)
			fmt.Println(uint64(h), code(err))
		case "setmsg":
			fmt.Println(code(win32.SetNamedPipeHandleState(win32.HANDLE(num(f[1])), win32.PIPE_READMODE_MESSAGE)))
		case "write":
			n, err := win32.WriteFile(win32.HANDLE(num(f[1])), []byte(arg(2)))
			fmt.Println(n, code(err))
		case "read":
			buf := make([]byte, num(f[2]))
			n, err := win32.ReadFile(win32.HANDLE(num(f[1])), buf)
			fmt.Printf("%d %q %d\n", n, buf[:n], code(err))
		case "close":
			fmt.Println(code(win32.CloseHandle(win32.HANDLE(num(f[1])))))
		case "waitpipe":
			fmt.Println(code(win32.WaitNamedPipe(arg(1), uint32(num(f[2])))))
		case "call":
			buf := make([]byte, num(f[3]))
			n, err := win32.CallNamedPipe(arg(1), []byte(arg(2)), buf, uint32(num(f[4])))
			fmt.Printf("%d %q %d\n", n, buf[:n], code(err))
		case "mutex":
			h, err := win32.CreateMutex(nil, true, arg(1))
			fmt.Println(uint64(h), code(err))
		case "wait":
			ev, err := win32.WaitForSingleObject(win32.HANDLE(num(f[1])), uint32(num(f[2])))
			fmt.Println(ev, code(err))
		case "mapwrite":
			err := func() error {
				h, err := win32.OpenFileMapping(win32.FILE_MAP_WRITE, false, arg(1))
				if err != nil {
					return err
				}
				defer win32.CloseHandle(h)
				v, err := win32.MapViewOfFile(h, win32.FILE_MAP_WRITE, 0, 0, 0)
				if err != nil {
					return err
				}
				copy(v[num(f[2]):], arg(3))
				return win32.UnmapViewOfFile(v)
			}()
			fmt.Println(code(err))
		case "slotwrite":
			err := func() error {
				h, err := win32.CreateFile(arg(1), win32.GENERIC_WRITE, win32.FILE_SHARE_READ, nil, win32.OPEN_EXISTING, 0, 0)
				if err != nil {
					return err
				}
				defer win32.CloseHandle(h)
				_, err = win32.WriteFile(h, []byte(arg(2)))
				return err
			}()
			fmt.Println(code(err))
		case "sockconnect":
			s, err := func() (win32.SOCKET, error) {
				if _, err := win32.WSAStartup(win32.MAKEWORD(2, 2)); err != nil {
					return 0, err
				}
				s, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, win32.IPPROTO_TCP)
				if err != nil {
					return 0, err
				}
				if err := win32.Connect(s, &win32.SockaddrInet4{Port: int(num(f[1])), Addr: [4]byte{127, 0, 0, 1}}); err != nil {
					win32.Closesocket(s)
					return 0, err
				}
				return s, nil
			}()
			fmt.Println(uint64(s), code(err))
		case "sendsock":
			n, err := win32.Send(win32.SOCKET(num(f[1])), []byte(arg(2)), 0)
			fmt.Println(n, code(err))
		case "recv":
			buf := make([]byte, num(f[2]))
			n, err := win32.Recv(win32.SOCKET(num(f[1])), buf, 0)
			if n < 0 {
				n = 0
			}
			fmt.Printf("%d %q %d\n", n, buf[:n], code(err))
		case "findwindow":
			h, err := win32.FindWindow("", arg(1))
			fmt.Println(uint64(h), code(err))
		case "post":
			fmt.Println(code(win32.PostMessage(win32.HWND(num(f[1])), uint32(num(f[2])), uintptr(num(f[3])), uintptr(num(f[4])))))
		case "send":
			r, err := win32.SendMessageTimeout(win32.HWND(num(f[1])), uint32(num(f[2])), uintptr(num(f[3])), uintptr(num(f[4])), win32.SMTO_NORMAL, uint32(num(f[5])))
			fmt.Println(r, code(err))
		case "senddata":
			r, err := win32.SendCopyData(win32.HWND(num(f[1])), uintptr(num(f[2])), []byte(arg(3)))
			fmt.Println(r, code(err))
		case "regmsg":
			id, err := win32.RegisterWindowMessage(arg(1))
			fmt.Println(id, code(err))
		case "closesocket":
			fmt.Println(code(win32.Closesocket(win32.SOCKET(num(f[1])))))
		default:
			fmt.Println("unknown command", f[0])
			return 2
		}
	}
	return 0
}
