//go:build unix

package mailslot

// Network mailslots on Unix: each Write is one signed UDP datagram
// (internal/gateway/link) to HOST's gateway, or to the broadcast address
// for `\\*\mailslot\NAME`. The sender's certificate and key come from the
// TLS directory ($XIPC_TLS_DIR or ~/.config/xipc/tls).

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/internal/names"
)

// remoteInfo is what a slot adds to its lock file for the gateway.
func remoteInfo(c *Config) string {
	if c.RemoteWriters {
		return "\nremote"
	}
	return ""
}

type netWriter struct {
	uc    *net.UDPConn
	creds *link.Creds
	flags uint8
	key   string
	mu    sync.Mutex
}

var credsCache struct {
	sync.Mutex
	dir   string
	creds *link.Creds
}

func loadCreds() (*link.Creds, error) {
	dir := link.DefaultDir()
	credsCache.Lock()
	defer credsCache.Unlock()
	if credsCache.creds != nil && credsCache.dir == dir {
		return credsCache.creds, nil
	}
	c, err := link.Load(dir)
	if err != nil {
		return nil, err
	}
	credsCache.dir, credsCache.creds = dir, c
	return c, nil
}

func openNet(m names.Mailslot) (*netWriter, error) {
	creds, err := loadCreds()
	if err != nil {
		return nil, errs.New(errs.ErrNetwork, err)
	}
	w := &netWriter{creds: creds, key: m.Key()}
	var addr string
	if m.Host == "*" {
		w.flags = link.DgBroadcast
		addr = os.Getenv(link.EnvBroadcast)
		if addr == "" {
			addr = link.DefaultBroadcast
		}
	} else {
		addr, _ = link.Addr(m.Host)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, errs.New(errs.ErrNetwork, err)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("udp", ua.String())
	if err != nil {
		return nil, errs.New(errs.ErrNetwork, errs.UnwrapNet(err))
	}
	w.uc = c.(*net.UDPConn)
	return w, nil
}

func (w *netWriter) write(p []byte) (int, error) {
	if len(p) > link.MaxDatagram {
		return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes, a network mailslot message holds at most %d", len(p), link.MaxDatagram))
	}
	b, err := w.creds.Seal(w.flags, w.key, p, time.Now())
	if err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.uc.Write(b); err != nil {
		err = errs.UnwrapNet(err)
		if errors.Is(err, unix.ECONNREFUSED) {
			// An ICMP error for an earlier datagram: no gateway there.
			// Datagrams may be lost; this one went out.
			return len(p), nil
		}
		if errors.Is(err, net.ErrClosed) {
			return 0, errs.ErrClosed
		}
		return 0, errs.New(errs.ErrNetwork, err)
	}
	return len(p), nil
}

func (w *netWriter) setWriteDeadline(t time.Time) error {
	return errs.UnwrapNet(w.uc.SetWriteDeadline(t))
}

func (w *netWriter) close() error { return errs.UnwrapNet(w.uc.Close()) }
