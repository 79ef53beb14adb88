package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/xipc/xipc"
)

// demoSock shows xipc.Listen and xipc.Dial: the same server code, in this
// process, over TCP, a unix socket and a named pipe, each reached by an
// `xipc sock dial` process with nothing but the address changed; then a
// dial of an address nobody listens on.
func demoSock(ctx context.Context, d *demo) error {
	addrs := []string{
		"tcp:127.0.0.1:0",
		"unix:" + filepath.Join(os.TempDir(), d.name("sock")+".sock"),
		"pipe:" + d.name("sock"),
	}
	var last string
	for _, addr := range addrs {
		d.step("the same server and client over " + strings.SplitN(addr, ":", 2)[0])
		l, err := xipc.Listen(ctx, addr)
		if err != nil {
			if strings.HasPrefix(addr, "unix:") {
				d.client("Listen(%q) → error %s: this system has no unix sockets; skipped", addr, errString(err))
				continue
			}
			return err
		}
		shown := addr
		if a, ok := l.Addr().(*net.TCPAddr); ok {
			shown = "tcp:" + a.String()
		} else if a, err := xipc.ParseAddr(addr); err == nil {
			shown = a.String()
		}
		d.client("Listen(%q) → listening on %s (a %T)", addr, shown, l)
		if err := demoSockOnce(ctx, d, l, shown); err != nil {
			l.Close()
			return err
		}
		if err := l.Close(); err != nil {
			return err
		}
		if strings.HasPrefix(shown, "tcp:") {
			last = shown // its port is free again
		}
	}
	d.note("one Listen and one Dial for every transport: a program switches by changing the address string")

	d.step("an address nobody listens on")
	if err := demoRunOK(ctx, d, 1, "sock", "dial", last, "anyone there?"); err != nil {
		return err
	}
	d.note("Dial fails at once with ErrNotFound (connection refused; WSAECONNREFUSED 10061 through the win32 facade)")
	return nil
}

// demoSockOnce serves one `xipc sock dial` client on l: it prints each line
// the client sends and echoes it; the client prints the echoes.
func demoSockOnce(ctx context.Context, d *demo, l net.Listener, addr string) error {
	c, err := d.startServer(ctx, "sock", "dial", addr, "hello", "from the other process")
	if err != nil {
		return err
	}
	// Accept has no context: closing the listener ends it if the client
	// never comes.
	wait, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	stop := context.AfterFunc(wait, func() { l.Close() })
	conn, err := l.Accept()
	stop()
	if err != nil {
		c.kill()
		return err
	}
	defer conn.Close()
	d.client("Accept → a %T from %s", conn, remote(conn))
	err = sockServe(conn, true, func(line string) {
		d.client("Read %q; Write it back", line)
	})
	if err != nil {
		c.kill()
		return err
	}
	d.client("Read → io.EOF: the client closed its sending side (CloseWrite); so does the server")
	if err := c.stop(); err != nil {
		c.kill()
		return fmt.Errorf("xipc sock dial: %w", err)
	}
	return nil
}

// remote names a connection's peer: its address, or for a pipe its PID.
func remote(c net.Conn) string {
	if p, ok := c.(interface{ PeerPID() int }); ok {
		return fmt.Sprintf("pid %d", p.PeerPID())
	}
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "an unnamed socket"
}
