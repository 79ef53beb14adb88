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
	host, name, err := parse(s, "pipe", false, MaxPipeName)
	return Pipe{Host: host, Name: name}, err
}

// MaxMailslotName is the longest full mailslot name accepted, in
// characters (MAX_PATH less the terminating NUL).
const MaxMailslotName = 259

// Mailslot is a parsed mailslot name.
type Mailslot struct {
	Host string // "." for the local machine, "*" for the primary domain, or a host/domain
	Name string // the part after `\mailslot\`, as spelled; it may hold `\` (pseudo-directories)
}

// String returns the full Win32 form, `\\HOST\mailslot\NAME`.
func (m Mailslot) String() string { return `\\` + m.Host + `\mailslot\` + m.Name }

// Local reports whether the mailslot is on this machine.
func (m Mailslot) Local() bool { return m.Host == "." }

// Key is the case-folded name that identifies the mailslot.
func (m Mailslot) Key() string { return strings.ToLower(m.Name) }

// ParseMailslot parses `\\.\mailslot\[PATH\]NAME`, `\\HOST\mailslot\NAME`,
// `\\*\mailslot\NAME` or a bare `[PATH\]NAME`. Errors wrap errs.ErrInvalidName.
func ParseMailslot(s string) (Mailslot, error) {
	host, name, err := parse(s, "mailslot", true, MaxMailslotName)
	if err == nil {
		for _, part := range strings.Split(name, `\`) {
			if part == "" {
				return Mailslot{}, errs.New(errs.ErrInvalidName, fmt.Errorf("%q: empty path element", s))
			}
		}
	}
	return Mailslot{Host: host, Name: name}, err
}

// parse splits `\\HOST\KIND\NAME` or a bare NAME.
func parse(s, kind string, backslashes bool, maxLen int) (host, name string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", errs.New(errs.ErrInvalidName, fmt.Errorf("%q: %s", s, why))
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	host, rest := ".", s
	if strings.HasPrefix(s, `\\`) {
		form := `want \\HOST\` + kind + `\NAME`
		h, tail, ok := strings.Cut(s[2:], `\`)
		if !ok || h == "" {
			return bad(form)
		}
		k, n, ok := strings.Cut(tail, `\`)
		if !ok || !strings.EqualFold(k, kind) {
			return bad(form)
		}
		if err := checkHost(h); err != nil {
			return bad(err.Error())
		}
		host, rest = strings.ToLower(h), n
	} else if strings.HasPrefix(s, `\`) {
		return bad(`a name may not start with '\'`)
	}
	if rest == "" {
		return bad("empty " + kind + " name")
	}
	if strings.ContainsRune(rest, 0) || !backslashes && strings.ContainsRune(rest, '\\') {
		return bad("a " + kind + ` name may not contain '\' or NUL`)
	}
	full := `\\` + host + `\` + kind + `\` + rest
	if n := utf8.RuneCountInString(full); n > maxLen {
		return bad(fmt.Sprintf("%d characters, more than %d", n, maxLen))
	}
	return host, rest, nil
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
