package cli

import (
	"strconv"
	"testing"
)

func TestParseMsg(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"1025", 0x401, true},
		{"0x401", 0x401, true},
		{"WM_USER", 0x400, true},
		{"WM_USER+1", 0x401, true},
		{"wm_app+3", 0x8003, true},
		{"WM_APP+0x10", 0x8010, true},
		{"WM_COPYDATA", 0x4a, true},
		{"WM_QUIT", 0x12, true},
		{"WM_NULL", 0, true},
		{"0xFFFF", 0xFFFF, true},
		{"0x10000", 0, false},
		{"WM_APP+0x8000", 0, false},
		{"WM_BOGUS", 0, false},
		{"WM_USER+", 0, false},
		{"WM_USER+-1", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"one", 0, false},
	} {
		got, err := parseMsg(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseMsg(%q) = (%#x, %v); want (%#x, ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseParam(t *testing.T) {
	max := ^uintptr(0)
	for _, tt := range []struct {
		in   string
		want uintptr
		ok   bool
	}{
		{"0", 0, true},
		{"22", 22, true},
		{"0x10", 16, true},
		{"-1", max, true},
		{"-2", max - 1, true},
		{strconv.FormatUint(uint64(max), 10), max, true},
		{"", 0, false},
		{"one", 0, false},
		{"1e3", 0, false},
		{"99999999999999999999999", 0, false},
	} {
		got, err := parseParam("WPARAM", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseParam(%q) = (%d, %v); want (%d, ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseMsg: any input parses to a message number up to 0xFFFF or to an
// error, never a panic; a number's own spelling parses back to it.
func FuzzParseMsg(f *testing.F) {
	for _, s := range []string{"WM_USER+1", "0x401", "wm_app+0x10", "WM_COPYDATA", "65535", "WM_USER+", "+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseMsg(s)
		if err != nil {
			return
		}
		if v > 0xFFFF {
			t.Fatalf("parseMsg(%q) = %#x, past 0xFFFF", s, v)
		}
		if again, err := parseMsg(strconv.FormatUint(uint64(v), 10)); err != nil || again != v {
			t.Fatalf("parseMsg(%d) = (%#x, %v)", v, again, err)
		}
	})
}
