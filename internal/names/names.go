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

// Sibling returns the path of a second file that belongs with the object
// at path (returned by Path): path followed by suffix, or, when that would
// not fit in a unix socket address, a hash of path followed by suffix, in
// the same directory. The suffix must start with '%' and a letter that is
// not a hex digit, which Path never writes, so that no object's own path is
// ever a sibling's.
func Sibling(path, suffix string) string {
	if len(path)+len(suffix) <= MaxSocketPath {
		return path + suffix
	}
	dir := path[:strings.LastIndexByte(path, '/')]
	sum := sha256.Sum256([]byte(path))
	return dir + "/~" + hex.EncodeToString(sum[:12]) + suffix
}

// MaxKernelName is the longest kernel-object name (mappings, mutexes,
// events, semaphores), in characters, with its `Local\` or `Global\`
// prefix (MAX_PATH).
const MaxKernelName = 260

// Kernel is a parsed kernel-object name. Unlike pipe and mailslot names,
// kernel-object names are case-sensitive, and all kinds of kernel object
// share one namespace.
type Kernel struct {
	Global bool   // `Global\NAME`; otherwise the session's `Local\` namespace
	Name   string // after the prefix, as given
}

// String returns the name with its namespace prefix, `Local\NAME` or
// `Global\NAME`.
func (k Kernel) String() string {
	if k.Global {
		return `Global\` + k.Name
	}
	return `Local\` + k.Name
}

// Key identifies the object within the emulation's namespace: "l.NAME" or
// "g.NAME", case kept.
func (k Kernel) Key() string {
	if k.Global {
		return "g." + k.Name
	}
	return "l." + k.Name
}

// ParseKernel parses `Local\NAME`, `Global\NAME` or a bare NAME (which is
// `Local\NAME`, as for a process in a Windows session). The prefixes are
// case-sensitive, as in Win32; NAME may hold no `\` and no NUL. Errors wrap
// errs.ErrInvalidName.
func ParseKernel(s string) (Kernel, error) {
	bad := func(why string) (Kernel, error) {
		return Kernel{}, errs.New(errs.ErrInvalidName, fmt.Errorf("%q: %s", s, why))
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	var k Kernel
	switch {
	case strings.HasPrefix(s, `Global\`):
		k.Global, k.Name = true, s[len(`Global\`):]
	case strings.HasPrefix(s, `Local\`):
		k.Name = s[len(`Local\`):]
	default:
		k.Name = s
	}
	if k.Name == "" {
		return bad("empty name")
	}
	if strings.ContainsAny(k.Name, "\\\x00") {
		return bad(`a kernel object name may hold '\' only after Local or Global`)
	}
	// Counted with the prefix, so that a bare name and its Local\ form are
	// accepted alike.
	if n := utf8.RuneCountInString(k.String()); n > MaxKernelName {
		return bad(fmt.Sprintf("%d characters with the prefix, more than %d", n, MaxKernelName))
	}
	return k, nil
}
