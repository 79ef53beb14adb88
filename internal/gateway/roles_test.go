//go:build linux

package gateway_test

// Roles: what this test binary does when a netns test runs it inside a
// host (XIPC_GW_ROLE). Each prints lines on stdout for the test to wait
// for, and ends when its stdin closes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
)

// writeCerts makes pki/<host> for each host, and pki/other/mallory, a
// client of another CA.
func writeCerts(pki string, hosts []string) error {
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: pki, Hosts: hosts}); err != nil {
		return err
	}
	return gateway.WriteCerts(gateway.CertsConfig{Out: filepath.Join(pki, "other"), Clients: []string{"mallory"}})
}

// runRole runs the role named by XIPC_GW_ROLE, if any; it reports whether
// there was one.
func runRole() (bool, int) {
	role := os.Getenv("XIPC_GW_ROLE")
	if role == "" {
		return false, 0
	}
	f, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		return true, 2
	}
	if err := f(); err != nil {
		fmt.Fprintf(os.Stderr, "role %s: %v\n", role, err)
		return true, 1
	}
	return true, 0
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// untilStdinEOF waits for the test to close our stdin.
func untilStdinEOF() { io.Copy(io.Discard, os.Stdin) }

func describe(err error) string {
	return fmt.Sprintf("network=%v denied=%v broken=%v notfound=%v: %v", errors.Is(err, errs.ErrNetwork),
		errors.Is(err, errs.ErrAccessDenied), errors.Is(err, errs.ErrBrokenPipe), errors.Is(err, errs.ErrNotFound), err)
}

var roles = map[string]func() error{
	"gateway": func() error {
		creds, err := link.Load(link.DefaultDir())
		if err != nil {
			return err
		}
		g, err := gateway.Start(gateway.Config{Creds: creds, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
		if err != nil {
			return err
		}
		say("ready %s", g.Addr())
		untilStdinEOF()
		return g.Close()
	},
	"echo": func() error {
		l, err := pipe.Listen(os.Getenv("XIPC_GW_PIPE"), &pipe.ListenConfig{Message: true, RemoteClients: true})
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := l.AcceptPipe()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					peer, _ := c.RemotePeer()
					buf := make([]byte, 64<<10)
					for {
						n, err := c.ReadMsg(buf)
						if err != nil {
							return
						}
						if _, err := c.Write([]byte("echo " + peer.Subject + " " + string(buf[:n]))); err != nil {
							return
						}
					}
				}()
			}
		}()
		say("ready")
		untilStdinEOF()
		return l.Close()
	},
	"slot": func() error {
		s, err := mailslot.Create(os.Getenv("XIPC_GW_SLOT"), &mailslot.Config{RemoteWriters: true, ReadTimeout: mailslot.WaitForever})
		if err != nil {
			return err
		}
		go func() {
			untilStdinEOF()
			s.Close()
		}()
		say("ready")
		for {
			m, err := s.ReadMsg()
			if err != nil {
				return nil
			}
			say("got %s", m)
		}
	},
	"call": func() error {
		for _, target := range strings.Split(os.Getenv("XIPC_GW_TARGETS"), ",") {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c, err := pipe.Dial(ctx, `\\`+target+`\pipe\`+os.Getenv("XIPC_GW_PIPE"), nil)
			cancel()
			if err != nil {
				say("error %s %s", target, describe(err))
				continue
			}
			buf := make([]byte, 256)
			n, err := c.Transact([]byte("ping"), buf)
			c.Close()
			if err != nil {
				say("error %s %s", target, describe(err))
				continue
			}
			say("reply %s %s", target, buf[:n])
		}
		return nil
	},
	"send": func() error {
		w, err := mailslot.Open(os.Getenv("XIPC_GW_SLOT"))
		if err != nil {
			return err
		}
		defer w.Close()
		_, err = w.Write(make([]byte, 425))
		say("toolarge %v", errors.Is(err, errs.ErrMessageTooLarge))
		// Datagrams may be lost: send a few.
		for range 10 {
			if _, err := w.Write([]byte(os.Getenv("XIPC_GW_MSG"))); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
		say("sent")
		return nil
	},
	"stream": func() error {
		name := `\\` + os.Getenv("XIPC_GW_TARGETS") + `\pipe\` + os.Getenv("XIPC_GW_PIPE")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := pipe.Dial(ctx, name, nil)
		cancel()
		if err != nil {
			return err
		}
		buf := make([]byte, 256)
		for i := 0; ; i++ {
			_, err := c.Transact([]byte(fmt.Sprint("message ", i)), buf)
			if err != nil {
				say("lost %s", describe(err))
				break
			}
			if i == 0 {
				say("streaming")
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
		end := time.Now().Add(90 * time.Second)
		for time.Now().Before(end) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := pipe.Dial(ctx, name, nil)
			cancel()
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			n, err := c.Transact([]byte("again"), buf)
			c.Close()
			if err != nil {
				return err
			}
			say("again %s", buf[:n])
			return nil
		}
		return errors.New("no gateway came back")
	},
}
