// Package names parses and normalises the names of xipc objects the way
// Win32 does, and maps them to paths in the Linux emulation's namespace.
//
// Pipe names are `\\.\pipe\NAME` (local), `\\HOST\pipe\NAME` (remote) or a
// bare NAME, which means the local pipe. They are case-insensitive: two
// names that differ only in case are the same pipe.
package names

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
)

// MaxPipeName is the longest full pipe name Win32 accepts, in characters
// (`\\.\pipe\` included).
const MaxPipeName = 256

// Pipe is a parsed pipe name.
type Pipe struct {
	Host string // "." for the local machine
	Name string // the part after `\pipe\`, as the caller spelled it
}

// String returns the full Win32 form, `\\HOST\pipe\NAME`.
func (p Pipe) String() string { return `\\` + p.Host + `\pipe\` + p.Name }

// Local reports whether the pipe is on this machine.
func (p Pipe) Local() bool { return p.Host == "." }

// Key is the case-folded name that identifies the pipe: equal keys, same pipe.
func (p Pipe) Key() string { return strings.ToLower(p.Name) }

// ParsePipe parses a pipe name. Errors wrap errs.ErrInvalidName.
func ParsePipe(s string) (Pipe, error) {
	bad := func(why string) (Pipe, error) {
		return Pipe{}, errs.New(errs.ErrInvalidName, fmt.Errorf("%q: %s", s, why))
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	p := Pipe{Host: "."}
	rest := s
	if strings.HasPrefix(s, `\\`) {
		host, tail, ok := strings.Cut(s[2:], `\`)
		if !ok || host == "" {
			return bad(`want \\HOST\pipe\NAME`)
		}
		kind, name, ok := strings.Cut(tail, `\`)
		if !ok || !strings.EqualFold(kind, "pipe") {
			return bad(`want \\HOST\pipe\NAME`)
		}
		if err := checkHost(host); err != nil {
			return bad(err.Error())
		}
		p.Host, rest = strings.ToLower(host), name
		if host == "." {
			p.Host = "."
		}
	}
	if rest == "" {
		return bad("empty pipe name")
	}
	if strings.ContainsAny(rest, "\\\x00") {
		return bad(`a pipe name may not contain '\' or NUL`)
	}
	p.Name = rest
	if n := utf8.RuneCountInString(p.String()); n > MaxPipeName {
		return bad(fmt.Sprintf("%d characters, more than %d", n, MaxPipeName))
	}
	return p, nil
}

func checkHost(h string) error {
	if h == "." {
		return nil
	}
	if len(h) > 255 {
		return fmt.Errorf("host name too long")
	}
	for _, r := range h {
		ok := r == '-' || r == '.' || r == '_' || r == '*' || r == ':' || r == '[' || r == ']' ||
			('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return fmt.Errorf("bad character %q in host name", r)
		}
	}
	return nil
}

// MaxSocketPath is the longest path a unix socket address holds on Linux
// (108 bytes in sun_path, one for the NUL).
const MaxSocketPath = 107

// Path returns the file path for key under dir: the key with unsafe bytes
// escaped, or, when that path would not fit in a unix socket address, a
// hash of the key (hashed reports which).
func Path(dir, key string) (path string, hashed bool) {
	var b strings.Builder
	b.WriteString(dir)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || (c == '.' && i > 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02x", c)
	}
	if b.Len() <= MaxSocketPath {
		return b.String(), false
	}
	sum := sha256.Sum256([]byte(key))
	return dir + "/~" + hex.EncodeToString(sum[:16]), true
}
