package errs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"testing"
	"time"
)

// sentinels lists every sentinel error of the package, by name.
var sentinels = []struct {
	name string
	err  error
}{
	{"ErrNotFound", ErrNotFound},
	{"ErrExists", ErrExists},
	{"ErrAccessDenied", ErrAccessDenied},
	{"ErrClosed", ErrClosed},
	{"ErrTimeout", ErrTimeout},
	{"ErrBusy", ErrBusy},
	{"ErrMoreData", ErrMoreData},
	{"ErrBrokenPipe", ErrBrokenPipe},
	{"ErrNotConnected", ErrNotConnected},
	{"ErrInvalidName", ErrInvalidName},
	{"ErrInvalidParameter", ErrInvalidParameter},
	{"ErrInsufficientBuffer", ErrInsufficientBuffer},
	{"ErrMessageTooLarge", ErrMessageTooLarge},
	{"ErrQuota", ErrQuota},
	{"ErrAbandoned", ErrAbandoned},
	{"ErrNotOwner", ErrNotOwner},
	{"ErrTooManyPosts", ErrTooManyPosts},
	{"ErrWrongType", ErrWrongType},
	{"ErrNotSupported", ErrNotSupported},
	{"ErrProtocol", ErrProtocol},
	{"ErrNetwork", ErrNetwork},
}

func TestStandardTwins(t *testing.T) {
	twins := []struct {
		name      string
		got, want error
	}{
		{"ErrNotFound", ErrNotFound, fs.ErrNotExist},
		{"ErrExists", ErrExists, fs.ErrExist},
		{"ErrAccessDenied", ErrAccessDenied, fs.ErrPermission},
		{"ErrClosed", ErrClosed, net.ErrClosed},
		{"ErrTimeout", ErrTimeout, os.ErrDeadlineExceeded},
	}
	for _, tt := range twins {
		if tt.got != tt.want {
			t.Errorf("%s = %v; want the standard library's %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestEverySentinelHasACode(t *testing.T) {
	for _, s := range sentinels {
		var rows []Code
		for _, row := range Table {
			if row.Err == s.err {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			t.Errorf("%s has no row in Table", s.name)
			continue
		}
		code := Win32Code(s.err)
		if code != rows[0].Code {
			t.Errorf("Win32Code(%s) = %d; want %d (%s), its first row", s.name, code, rows[0].Code, rows[0].Name)
		}
		if code == ERROR_SUCCESS || code == ERROR_GEN_FAILURE {
			t.Errorf("Win32Code(%s) = %d", s.name, code)
		}
		// Wrapped, the sentinel keeps its code.
		wrapped := Op("dial", "pipe", `\\.\pipe\x`, fmt.Errorf("context: %w", s.err))
		if got := Win32Code(wrapped); got != code {
			t.Errorf("Win32Code(wrapped %s) = %d; want %d", s.name, got, code)
		}
	}
}

// TestRoundTrip checks FromWin32(Win32Code(s)) for every sentinel. Win32 has
// fewer codes than xipc has sentinels: ERROR_INVALID_HANDLE stands for both
// ErrClosed and ErrWrongType, ERROR_INVALID_PARAMETER for both
// ErrInvalidParameter and ErrMessageTooLarge. For such a shared code
// FromWin32 must give the first sentinel listed for it, the general one.
func TestRoundTrip(t *testing.T) {
	firstFor := map[uint32]error{}
	sharedBy := map[uint32]int{}
	seen := map[uint32]map[error]bool{}
	for _, row := range Table {
		if _, ok := firstFor[row.Code]; !ok {
			firstFor[row.Code] = row.Err
		}
		if seen[row.Code] == nil {
			seen[row.Code] = map[error]bool{}
		}
		if !seen[row.Code][row.Err] {
			seen[row.Code][row.Err] = true
			sharedBy[row.Code]++
		}
	}
	for _, s := range sentinels {
		code := Win32Code(s.err)
		back := FromWin32(code)
		if sharedBy[code] == 1 {
			if back != s.err {
				t.Errorf("FromWin32(Win32Code(%s) = %d) = %v; want %s", s.name, code, back, s.name)
			}
			continue
		}
		if back != firstFor[code] {
			t.Errorf("FromWin32(%d), shared by %d sentinels, = %v; want %v, the first listed", code, sharedBy[code], back, firstFor[code])
		}
	}
	for _, row := range Table {
		if got := FromWin32(row.Code); !errors.Is(got, firstFor[row.Code]) {
			t.Errorf("FromWin32(%d %s) = %v; want %v", row.Code, row.Name, got, firstFor[row.Code])
		}
	}
}

func TestWin32Codes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want uint32
	}{
		{"nil", nil, ERROR_SUCCESS},
		{"io.EOF", io.EOF, ERROR_BROKEN_PIPE},
		{"io.ErrUnexpectedEOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ERROR_BROKEN_PIPE},
		{"context.DeadlineExceeded", context.DeadlineExceeded, ERROR_SEM_TIMEOUT},
		{"context.Canceled", context.Canceled, ERROR_OPERATION_ABORTED},
		{"unknown", errors.New("something else"), ERROR_GEN_FAILURE},
		{"ErrBusy", ErrBusy, ERROR_PIPE_BUSY},
		{"ErrMoreData", ErrMoreData, ERROR_MORE_DATA},
		{"ErrBrokenPipe", ErrBrokenPipe, ERROR_BROKEN_PIPE},
		{"ErrTimeout", ErrTimeout, ERROR_SEM_TIMEOUT},
		{"ErrNotFound", ErrNotFound, ERROR_FILE_NOT_FOUND},
		{"ErrExists", ErrExists, ERROR_ALREADY_EXISTS},
		{"ErrAccessDenied", ErrAccessDenied, ERROR_ACCESS_DENIED},
		{"ErrInvalidName", ErrInvalidName, ERROR_INVALID_NAME},
		{"ErrNotSupported", ErrNotSupported, ERROR_NOT_SUPPORTED},
		{"ErrInvalidParameter", ErrInvalidParameter, ERROR_INVALID_PARAMETER},
		{"ErrNotConnected", ErrNotConnected, ERROR_PIPE_NOT_CONNECTED},
		{"ErrAbandoned", ErrAbandoned, WAIT_ABANDONED},
		{"OpError(ErrBusy)", &OpError{Op: "dial", Kind: "pipe", Name: `\\.\pipe\x`, Err: ErrBusy}, ERROR_PIPE_BUSY},
		{"Timeout(ctx, ErrBusy)", Timeout(expired(t), ErrBusy), ERROR_SEM_TIMEOUT},
	}
	for _, tt := range tests {
		if got := Win32Code(tt.err); got != tt.want {
			t.Errorf("Win32Code(%s) = %d; want %d", tt.name, got, tt.want)
		}
	}
	extra := []struct {
		code uint32
		want error
	}{
		{ERROR_NO_DATA, ErrBrokenPipe},
		{ERROR_TIMEOUT, ErrTimeout},
		{ERROR_SUCCESS, nil},
		{ERROR_PIPE_CONNECTED, nil},
		{ERROR_GEN_FAILURE, nil},
		{999999, nil},
	}
	for _, tt := range extra {
		if got := FromWin32(tt.code); got != tt.want {
			t.Errorf("FromWin32(%d) = %v; want %v", tt.code, got, tt.want)
		}
	}
}

func TestOpErrorFormat(t *testing.T) {
	sys := errors.New("os says no")
	tests := []struct {
		err  error
		want string
	}{
		{&OpError{Op: "dial", Kind: "pipe", Name: `\\.\pipe\foo`, Err: ErrBusy}, `pipe \\.\pipe\foo: dial: all pipe instances are busy`},
		{&OpError{Op: "dial", Kind: "pipe", Name: `\\.\pipe\foo`, Err: New(ErrBusy, sys)}, `pipe \\.\pipe\foo: dial: all pipe instances are busy (os says no)`},
		{&OpError{Op: "listen", Kind: "pipe", Err: ErrInvalidName}, `pipe: listen: invalid name`},
		{Op("read", "pipe", `\\.\pipe\foo`, ErrMoreData), `pipe \\.\pipe\foo: read: more data is available`},
		{Op("dial", "pipe", `\\.\pipe\foo`, Timeout(expired(t), ErrBusy)), `pipe \\.\pipe\foo: dial: all pipe instances are busy: context deadline exceeded`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	sys := errors.New("os error")
	e := Op("dial", "pipe", `\\.\pipe\foo`, New(ErrBusy, sys))
	for _, target := range []error{ErrBusy, sys} {
		if !errors.Is(e, target) {
			t.Errorf("errors.Is(%v, %v) = false", e, target)
		}
	}
	for _, other := range []error{ErrNotFound, ErrTimeout, ErrClosed, io.EOF} {
		if errors.Is(e, other) {
			t.Errorf("errors.Is(%v, %v) = true", e, other)
		}
	}
	var oe *OpError
	if !errors.As(e, &oe) || oe.Op != "dial" || oe.Kind != "pipe" || oe.Name != `\\.\pipe\foo` {
		t.Errorf("errors.As(%v, *OpError) = %+v", e, oe)
	}
	var ee *Error
	if !errors.As(e, &ee) || ee.Sentinel != ErrBusy || ee.Sys != sys {
		t.Errorf("errors.As(%v, *Error) = %+v", e, ee)
	}
	// Standard-library twins match through the wrapping as well.
	for _, tt := range []struct {
		sentinel, std error
	}{
		{ErrNotFound, fs.ErrNotExist}, {ErrClosed, net.ErrClosed}, {ErrTimeout, os.ErrDeadlineExceeded},
	} {
		w := Op("read", "pipe", `\\.\pipe\foo`, New(tt.sentinel, sys))
		if !errors.Is(w, tt.std) {
			t.Errorf("errors.Is(%v, %v) = false", w, tt.std)
		}
	}
}

func TestOpWrapsOnce(t *testing.T) {
	if Op("dial", "pipe", "x", nil) != nil {
		t.Error("Op(nil) != nil")
	}
	inner := Op("dial", "pipe", `\\.\pipe\a`, ErrBusy)
	outer := Op("listen", "pipe", `\\.\pipe\b`, fmt.Errorf("again: %w", inner))
	var oe *OpError
	if !errors.As(outer, &oe) || oe.Op != "dial" {
		t.Errorf("Op over an *OpError = %v; want the inner *OpError kept", outer)
	}
	if New(ErrBusy, nil) != ErrBusy {
		t.Error("New(s, nil) != s")
	}
	if New(ErrBusy, ErrBusy) != ErrBusy {
		t.Error("New(s, s) != s")
	}
}

func TestTimeouts(t *testing.T) {
	var ne net.Error = &OpError{Op: "read", Kind: "pipe", Err: ErrTimeout}
	if !ne.Timeout() {
		t.Error("OpError{ErrTimeout}.Timeout() = false")
	}
	if (&OpError{Op: "read", Kind: "pipe", Err: New(ErrTimeout, errors.New("sys"))}).Timeout() != true {
		t.Error("OpError{*Error{ErrTimeout}}.Timeout() = false")
	}
	if (&OpError{Op: "dial", Kind: "pipe", Err: context.DeadlineExceeded}).Timeout() != true {
		t.Error("OpError{context.DeadlineExceeded}.Timeout() = false")
	}
	if (&OpError{Op: "dial", Kind: "pipe", Err: ErrBusy}).Timeout() {
		t.Error("OpError{ErrBusy}.Timeout() = true")
	}
	if (&OpError{Op: "dial", Kind: "pipe", Err: ErrBusy}).Temporary() {
		t.Error("OpError.Temporary() = true")
	}
	if !New(ErrTimeout, errors.New("sys")).(*Error).Timeout() {
		t.Error("*Error{ErrTimeout}.Timeout() = false")
	}

	// A deadline: the error matches the cause, ErrTimeout and the context's error.
	e := Timeout(expired(t), ErrBusy)
	for _, target := range []error{ErrBusy, ErrTimeout, context.DeadlineExceeded} {
		if !errors.Is(e, target) {
			t.Errorf("errors.Is(Timeout(expired ctx, ErrBusy), %v) = false", target)
		}
	}
	if !errors.As(e, &ne) || !ne.Timeout() {
		t.Errorf("Timeout(expired ctx, ErrBusy) is not a net.Error timing out")
	}
	if !(&OpError{Op: "dial", Kind: "pipe", Err: e}).Timeout() {
		t.Errorf("OpError{Timeout(expired ctx)}.Timeout() = false")
	}

	// A cancellation is not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := Timeout(ctx, ErrBusy)
	if !errors.Is(c, context.Canceled) || !errors.Is(c, ErrBusy) {
		t.Errorf("Timeout(cancelled ctx, ErrBusy) = %v; want it to match context.Canceled and ErrBusy", c)
	}
	if errors.Is(c, ErrTimeout) || errors.Is(c, context.DeadlineExceeded) {
		t.Errorf("Timeout(cancelled ctx, ErrBusy) = %v matches a timeout", c)
	}
	if got := c.Error(); got != "all pipe instances are busy: context canceled" {
		t.Errorf("Timeout(cancelled ctx, ErrBusy).Error() = %q", got)
	}
	if got := Timeout(ctx, nil).Error(); got != "context canceled" {
		t.Errorf("Timeout(cancelled ctx, nil).Error() = %q", got)
	}
}

// expired returns a context whose deadline has passed.
func expired(t *testing.T) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	t.Cleanup(cancel)
	return ctx
}
