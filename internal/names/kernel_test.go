package names

import (
	"errors"
	"strings"
	"testing"

	"github.com/xipc/xipc/internal/errs"
)

func TestParseKernel(t *testing.T) {
	tests := []struct {
		in, str, key string
		bad          bool
	}{
		{in: "x", str: `Local\x`, key: "l.x"},
		{in: `Local\x`, str: `Local\x`, key: "l.x"},
		{in: `Global\x`, str: `Global\x`, key: "g.x"},
		{in: "Name", str: `Local\Name`, key: "l.Name"}, // case kept: names are case-sensitive
		{in: "with/slash and space", str: `Local\with/slash and space`, key: "l.with/slash and space"},
		{in: strings.Repeat("n", MaxKernelName-6), str: `Local\` + strings.Repeat("n", MaxKernelName-6), key: "l." + strings.Repeat("n", MaxKernelName-6)},
		{in: `Global\` + strings.Repeat("n", MaxKernelName-7), str: `Global\` + strings.Repeat("n", MaxKernelName-7), key: "g." + strings.Repeat("n", MaxKernelName-7)},
		{in: strings.Repeat("n", MaxKernelName-5), bad: true},
		{in: `local\x`, bad: true}, // the prefixes are case-sensitive: then it is a name with '\'
		{in: `GLOBAL\x`, bad: true},
		{in: `a\b`, bad: true},
		{in: `Global\a\b`, bad: true},
		{in: "", bad: true},
		{in: `Local\`, bad: true},
		{in: `Global\`, bad: true},
		{in: "nul\x00", bad: true},
		{in: "\xff", bad: true},
		{in: strings.Repeat("n", MaxKernelName+1), bad: true},
	}
	for _, tt := range tests {
		k, err := ParseKernel(tt.in)
		if tt.bad {
			if !errors.Is(err, errs.ErrInvalidName) {
				t.Errorf("ParseKernel(%q) = %+v, %v; want ErrInvalidName", tt.in, k, err)
			}
			continue
		}
		if err != nil || k.String() != tt.str || k.Key() != tt.key {
			t.Errorf("ParseKernel(%q) = %q %q %v; want %q %q", tt.in, k.String(), k.Key(), err, tt.str, tt.key)
		}
	}
}

func FuzzParseKernel(f *testing.F) {
	for _, s := range []string{"x", `Local\x`, `Global\y`, `a\b`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKernel(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidName) {
				t.Fatalf("error %v is not ErrInvalidName", err)
			}
			return
		}
		again, err := ParseKernel(k.String())
		if err != nil || again != k {
			t.Fatalf("%q parsed to %+v, whose String %q parses to %+v, %v", s, k, k.String(), again, err)
		}
	})
}
