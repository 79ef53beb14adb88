package names

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
)

func TestParsePipe(t *testing.T) {
	// prefix is `\\.\pipe\`: 9 characters of the 256 a full name may have.
	const prefix = `\\.\pipe\`
	longest := strings.Repeat("n", MaxPipeName-len(prefix))
	tests := []struct {
		in        string
		host      string
		name      string
		key       string
		local     bool
		wantError bool
	}{
		{in: `\\.\pipe\foo`, host: ".", name: "foo", key: "foo", local: true},
		{in: `foo`, host: ".", name: "foo", key: "foo", local: true},
		{in: `\\.\PIPE\Foo`, host: ".", name: "Foo", key: "foo", local: true},
		{in: `\\.\Pipe\MiXeD.Case-name_1`, host: ".", name: "MiXeD.Case-name_1", key: "mixed.case-name_1", local: true},
		{in: `\\Server\pipe\x`, host: "server", name: "x", key: "x"},
		{in: `\\10.0.0.1\pipe\x`, host: "10.0.0.1", name: "x", key: "x"},
		{in: `\\*\pipe\x`, host: "*", name: "x", key: "x"},
		{in: `with space and/slash`, host: ".", name: "with space and/slash", key: "with space and/slash", local: true},
		{in: `ÄÖÜ`, host: ".", name: "ÄÖÜ", key: "äöü", local: true},
		{in: `\\.\pipe\..`, host: ".", name: "..", key: "..", local: true},
		{in: longest, host: ".", name: longest, key: longest, local: true},
		{in: prefix + longest, host: ".", name: longest, key: longest, local: true},
		// Length is counted in characters, not bytes.
		{in: strings.Repeat("é", MaxPipeName-len(prefix)), host: ".", name: strings.Repeat("é", MaxPipeName-len(prefix)),
			key: strings.Repeat("é", MaxPipeName-len(prefix)), local: true},

		{in: ``, wantError: true},
		{in: prefix, wantError: true},
		{in: `a\b`, wantError: true},
		{in: prefix + `a\b`, wantError: true},
		{in: `\a`, wantError: true},
		{in: "nul\x00inside", wantError: true},
		{in: "bad\xffutf8", wantError: true},
		{in: `\\`, wantError: true},
		{in: `\\.`, wantError: true},
		{in: `\\.\pipe`, wantError: true},
		{in: `\\\pipe\x`, wantError: true},
		{in: `\\.\mailslot\x`, wantError: true},
		{in: `\\host name\pipe\x`, wantError: true},
		{in: `\\` + strings.Repeat("h", 256) + `\pipe\x`, wantError: true},
		{in: longest + "n", wantError: true},
		{in: prefix + longest + "n", wantError: true},
		{in: strings.Repeat("x", 257), wantError: true},
		{in: strings.Repeat("é", MaxPipeName-len(prefix)+1), wantError: true},
	}
	for _, tt := range tests {
		p, err := ParsePipe(tt.in)
		if tt.wantError {
			if err == nil {
				t.Errorf("ParsePipe(%q) = %+v, nil; want ErrInvalidName", tt.in, p)
			} else if !errors.Is(err, errs.ErrInvalidName) {
				t.Errorf("ParsePipe(%q) error %v does not match ErrInvalidName", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePipe(%q): %v", tt.in, err)
			continue
		}
		if p.Host != tt.host || p.Name != tt.name || p.Key() != tt.key || p.Local() != tt.local {
			t.Errorf("ParsePipe(%q) = {Host:%q Name:%q Key:%q Local:%v}; want {Host:%q Name:%q Key:%q Local:%v}",
				tt.in, p.Host, p.Name, p.Key(), p.Local(), tt.host, tt.name, tt.key, tt.local)
		}
	}
}

func TestPipeString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`foo`, `\\.\pipe\foo`},
		{`\\.\pipe\foo`, `\\.\pipe\foo`},
		{`\\.\PIPE\Foo`, `\\.\pipe\Foo`},
		{`\\HOST\pipe\x`, `\\host\pipe\x`},
	}
	for _, tt := range tests {
		p, err := ParsePipe(tt.in)
		if err != nil {
			t.Errorf("ParsePipe(%q): %v", tt.in, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("ParsePipe(%q).String() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSameKey(t *testing.T) {
	// Every spelling of one pipe must give one key, hence one path.
	spellings := []string{`Foo.Bar`, `foo.bar`, `\\.\pipe\FOO.BAR`, `\\.\PIPE\foo.Bar`, `\\.\pIpE\fOo.BaR`}
	var first string
	for i, s := range spellings {
		p, err := ParsePipe(s)
		if err != nil {
			t.Fatalf("ParsePipe(%q): %v", s, err)
		}
		if i == 0 {
			first = p.Key()
			continue
		}
		if p.Key() != first {
			t.Errorf("ParsePipe(%q).Key() = %q; want %q as for %q", s, p.Key(), first, spellings[0])
		}
	}
}

func TestPath(t *testing.T) {
	const dir = "/tmp/.xipc/pipe"
	tests := []struct {
		key    string
		want   string
		hashed bool
	}{
		{"foo", dir + "/foo", false},
		{"a-b_c.d9", dir + "/a-b_c.d9", false},
		{"a b", dir + "/a%20b", false},
		{"a%20b", dir + "/a%2520b", false},
		{".hidden", dir + "/%2ehidden", false},
		{"..", dir + "/%2e.", false},
		{".", dir + "/%2e", false},
		{"../../etc/passwd", dir + "/%2e.%2f..%2fetc%2fpasswd", false},
		{"Upper", dir + "/%55pper", false},
		{"é", dir + "/%c3%a9", false},
	}
	for _, tt := range tests {
		got, hashed := Path(dir, tt.key)
		if got != tt.want || hashed != tt.hashed {
			t.Errorf("Path(%q, %q) = %q, %v; want %q, %v", dir, tt.key, got, hashed, tt.want, tt.hashed)
		}
	}
}

func TestPathLong(t *testing.T) {
	const dir = "/tmp/.xipc/pipe"
	fits := strings.Repeat("a", MaxSocketPath-len(dir)-1)
	if got, hashed := Path(dir, fits); hashed || got != dir+"/"+fits || len(got) != MaxSocketPath {
		t.Errorf("Path(%q, %d×a) = %q (%d bytes), hashed %v; want the plain %d-byte path", dir, len(fits), got, len(got), hashed, MaxSocketPath)
	}
	seen := map[string]string{}
	for _, key := range []string{fits + "a", fits + "b", strings.Repeat("é", 100), strings.Repeat("x", 300)} {
		got, hashed := Path(dir, key)
		if !hashed {
			t.Errorf("Path(%q, %d-byte key) = %q, not hashed; want a hashed path", dir, len(key), got)
		}
		if len(got) > MaxSocketPath {
			t.Errorf("Path(%q, %d-byte key) = %d bytes; want at most %d", dir, len(key), len(got), MaxSocketPath)
		}
		if !strings.HasPrefix(got, dir+"/") || strings.Contains(got[len(dir)+1:], "/") {
			t.Errorf("Path(%q, %d-byte key) = %q; want one component under %s", dir, len(key), got, dir)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("Path gives %q for two keys: %q and %q", got, other, key)
		}
		seen[got] = key
		if again, _ := Path(dir, key); again != got {
			t.Errorf("Path(%q, %d-byte key) not deterministic: %q then %q", dir, len(key), got, again)
		}
	}
}

// FuzzParsePipe checks that ParsePipe never panics, that what it accepts
// round-trips through String, and that every accepted name has a safe,
// short socket path.
func FuzzParsePipe(f *testing.F) {
	for _, s := range []string{
		`foo`, `\\.\pipe\foo`, `\\.\PIPE\Foo`, `\\host\pipe\x`, `\\*\pipe\x`, ``, `\\`, `a\b`,
		"nul\x00", "\xff", `..`, `.`, `a/b`, `%2e`, strings.Repeat("z", 247), strings.Repeat("z", 248),
		`\\.\pipe\` + strings.Repeat("é", 100),
	} {
		f.Add(s)
	}
	const dir = "/tmp/.xipc/pipe"
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePipe(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidName) {
				t.Fatalf("ParsePipe(%q) error %v does not match ErrInvalidName", s, err)
			}
			return
		}
		if p.Name == "" || strings.ContainsAny(p.Name, "\\\x00") {
			t.Fatalf("ParsePipe(%q) accepted name %q", s, p.Name)
		}
		if n := utf8.RuneCountInString(p.String()); n > MaxPipeName {
			t.Fatalf("ParsePipe(%q) accepted %d characters", s, n)
		}
		if p.Local() != (p.Host == ".") {
			t.Fatalf("ParsePipe(%q): Local() = %v for host %q", s, p.Local(), p.Host)
		}
		q, err := ParsePipe(p.String())
		if err != nil {
			t.Fatalf("ParsePipe(%q) = %q, which does not parse: %v", s, p.String(), err)
		}
		if q != p || q.Key() != p.Key() || q.String() != p.String() {
			t.Fatalf("ParsePipe(%q) = %+v; reparsing %q gives %+v", s, p, p.String(), q)
		}
		path, _ := Path(dir, p.Key())
		if len(path) > MaxSocketPath {
			t.Fatalf("Path for %q is %d bytes; want at most %d", s, len(path), MaxSocketPath)
		}
		base, ok := strings.CutPrefix(path, dir+"/")
		if !ok || base == "" || base == "." || base == ".." || strings.ContainsAny(base, "/\x00") {
			t.Fatalf("Path for %q is %q; want one safe component under %s", s, path, dir)
		}
	})
}
