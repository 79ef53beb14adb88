package names

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
)

func TestParseMailslot(t *testing.T) {
	// prefix is `\\.\mailslot\`: 13 characters of the 259 a full name may have.
	const prefix = `\\.\mailslot\`
	longest := strings.Repeat("n", MaxMailslotName-len(prefix))
	tests := []struct {
		in        string
		host      string
		name      string
		key       string
		local     bool
		wantError bool
	}{
		{in: `\\.\mailslot\foo`, host: ".", name: "foo", key: "foo", local: true},
		{in: `foo`, host: ".", name: "foo", key: "foo", local: true},
		{in: `\\.\MAILSLOT\Foo`, host: ".", name: "Foo", key: "foo", local: true},
		{in: `\\.\mailslot\abc\Def\ghi`, host: ".", name: `abc\Def\ghi`, key: `abc\def\ghi`, local: true},
		{in: `abc\def\ghi`, host: ".", name: `abc\def\ghi`, key: `abc\def\ghi`, local: true},
		{in: `\\Host\mailslot\x`, host: "host", name: "x", key: "x"},
		{in: `\\*\mailslot\a\b`, host: "*", name: `a\b`, key: `a\b`},
		{in: `\\DOMAIN\MailSlot\x`, host: "domain", name: "x", key: "x"},
		{in: `..\.`, host: ".", name: `..\.`, key: `..\.`, local: true},
		{in: longest, host: ".", name: longest, key: longest, local: true},
		{in: prefix + longest, host: ".", name: longest, key: longest, local: true},
		{in: strings.Repeat("é", MaxMailslotName-len(prefix)), host: ".", name: strings.Repeat("é", MaxMailslotName-len(prefix)),
			key: strings.Repeat("é", MaxMailslotName-len(prefix)), local: true},

		{in: ``, wantError: true},
		{in: prefix, wantError: true},
		{in: `\\.\mailslot`, wantError: true},
		{in: `\a`, wantError: true},
		{in: `a\`, wantError: true},
		{in: `a\\b`, wantError: true},
		{in: prefix + `\a`, wantError: true},
		{in: prefix + `a\`, wantError: true},
		{in: prefix + `a\\b`, wantError: true},
		{in: "nul\x00inside", wantError: true},
		{in: "bad\xffutf8", wantError: true},
		{in: `\\`, wantError: true},
		{in: `\\\mailslot\x`, wantError: true},
		{in: `\\.\pipe\x`, wantError: true},
		{in: `\\host name\mailslot\x`, wantError: true},
		{in: longest + "n", wantError: true},
		{in: prefix + longest + "n", wantError: true},
		{in: prefix + strings.Repeat(`a\`, 123) + "bc", wantError: true},
	}
	for _, tt := range tests {
		m, err := ParseMailslot(tt.in)
		if tt.wantError {
			if err == nil {
				t.Errorf("ParseMailslot(%q) = %+v, nil; want ErrInvalidName", tt.in, m)
			} else if !errors.Is(err, errs.ErrInvalidName) {
				t.Errorf("ParseMailslot(%q) error %v does not match ErrInvalidName", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMailslot(%q): %v", tt.in, err)
			continue
		}
		if m.Host != tt.host || m.Name != tt.name || m.Key() != tt.key || m.Local() != tt.local {
			t.Errorf("ParseMailslot(%q) = {Host:%q Name:%q Key:%q Local:%v}; want {Host:%q Name:%q Key:%q Local:%v}",
				tt.in, m.Host, m.Name, m.Key(), m.Local(), tt.host, tt.name, tt.key, tt.local)
		}
	}
}

// FuzzParseMailslot checks that ParseMailslot never panics, that its
// errors match ErrInvalidName, that what it accepts is well formed and
// round-trips through String, and that every accepted name has a safe,
// short socket path.
func FuzzParseMailslot(f *testing.F) {
	for _, s := range []string{
		`foo`, `\\.\mailslot\foo`, `\\.\MAILSLOT\Foo`, `\\.\mailslot\a\b\c`, `a\b\c`, `\\host\mailslot\x`,
		`\\*\mailslot\x`, `\\*\mailslot\a\b`, ``, `\\`, `\\.\mailslot\`, `a\`, `\a`, `a\\b`, "nul\x00", "\xff",
		`..`, `.\..`, `a/b`, `%2e`, `\\.\pipe\x`, strings.Repeat(`z\`, 123) + "z", strings.Repeat("z", 246),
		strings.Repeat("z", 247), `\\.\mailslot\` + strings.Repeat("é", 100),
	} {
		f.Add(s)
	}
	const dir = "/tmp/.xipc/mailslot"
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMailslot(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidName) {
				t.Fatalf("ParseMailslot(%q) error %v does not match ErrInvalidName", s, err)
			}
			return
		}
		if m.Name == "" || strings.ContainsRune(m.Name, 0) || !utf8.ValidString(m.Name) {
			t.Fatalf("ParseMailslot(%q) accepted name %q", s, m.Name)
		}
		for _, part := range strings.Split(m.Name, `\`) {
			if part == "" {
				t.Fatalf("ParseMailslot(%q) accepted name %q with an empty path element", s, m.Name)
			}
		}
		if m.Host == "" || strings.ContainsRune(m.Host, '\\') || m.Host != strings.ToLower(m.Host) {
			t.Fatalf("ParseMailslot(%q) accepted host %q", s, m.Host)
		}
		if n := utf8.RuneCountInString(m.String()); n > MaxMailslotName {
			t.Fatalf("ParseMailslot(%q) accepted %d characters", s, n)
		}
		if m.Local() != (m.Host == ".") {
			t.Fatalf("ParseMailslot(%q): Local() = %v for host %q", s, m.Local(), m.Host)
		}
		if m.Key() != strings.ToLower(m.Name) {
			t.Fatalf("ParseMailslot(%q): Key() = %q; want the name in lower case", s, m.Key())
		}
		if !strings.HasPrefix(s, `\\`) && (m.Host != "." || m.Name != s) {
			t.Fatalf("ParseMailslot(%q) of a bare name = %+v; want the local slot of that name", s, m)
		}
		for _, again := range []string{m.String(), `\\` + strings.ToUpper(m.Host) + `\MAILSLOT\` + m.Name} {
			q, err := ParseMailslot(again)
			if err != nil {
				t.Fatalf("ParseMailslot(%q) = %q, which does not parse as %q: %v", s, m.String(), again, err)
			}
			if q != m || q.Key() != m.Key() || q.String() != m.String() {
				t.Fatalf("ParseMailslot(%q) = %+v; reparsing it as %q gives %+v", s, m, again, q)
			}
		}
		path, _ := Path(dir, m.Key())
		if len(path) > MaxSocketPath {
			t.Fatalf("Path for %q is %d bytes; want at most %d", s, len(path), MaxSocketPath)
		}
		base, ok := strings.CutPrefix(path, dir+"/")
		if !ok || base == "" || base == "." || base == ".." || strings.ContainsAny(base, "/\x00") {
			t.Fatalf("Path for %q is %q; want one safe component under %s", s, path, dir)
		}
	})
}
