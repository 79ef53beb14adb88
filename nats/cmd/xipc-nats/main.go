// Command xipc-nats is the `xipc msg` and `xipc mailslot` commands over
// NATS: the queues and slots of package natsmsgq and natsslot, reachable
// from every machine of one NATS system. It is a separate binary, in the
// module github.com/xipc/xipc/nats, because the xipc command's module does
// not depend on NATS; `--nats URL` selects the server as it would there.
//
//	xipc-nats [--nats URL] [--host NAME] mailslot serve NAME
//	xipc-nats [--nats URL] [--host NAME] mailslot send NAME MSG...
//	xipc-nats [--nats URL] msg serve NAME
//	xipc-nats [--nats URL] msg post NAME MSG [WPARAM [LPARAM]]
//	xipc-nats [--nats URL] msg send NAME MSG [WPARAM [LPARAM]]
//	xipc-nats [--nats URL] msg senddata NAME TEXT
//	xipc-nats [--listen ADDR] [--store DIR] server
//
// MSG is a message number (0x401, 1025) or WM_USER+N / WM_APP+N. serve
// prints one line per message (posted and sent; sent ones are answered
// with 0, WM_COPYDATA with the payload's length) until Ctrl-C. server runs
// an embedded NATS server with JetStream, for trying things out; msg
// commands create the stream of posted messages when it is missing
// (--replicas copies). Exit status: 0 success, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc/msgq"
	"github.com/xipc/xipc/nats/natsmsgq"
	"github.com/xipc/xipc/nats/natsslot"
)

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usage(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:])
	var ue *usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "xipc-nats: %s (run xipc-nats -h for usage)\n", ue.msg)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "xipc-nats: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("xipc-nats", flag.ContinueOnError)
	url := fs.String("nats", nats.DefaultURL, "NATS server URL")
	host := fs.String("host", "", "this machine's name for mailslots (default: the hostname)")
	replicas := fs.Int("replicas", 1, "copies of the stream of posted messages, when msg creates it")
	listen := fs.String("listen", "127.0.0.1:4222", "server: client address")
	store := fs.String("store", "", "server: JetStream directory (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usage("%v", err)
	}
	a := fs.Args()
	if len(a) == 1 && a[0] == "server" {
		return runServer(ctx, *listen, *store)
	}
	if len(a) < 3 {
		return usage("want mailslot|msg COMMAND NAME ...")
	}
	nc, err := nats.Connect(*url)
	if err != nil {
		return err
	}
	defer nc.Close()
	switch a[0] {
	case "mailslot":
		return mailslot(ctx, nc, &natsslot.Options{Host: *host}, a[1], a[2], a[3:])
	case "msg":
		if err := natsmsgq.EnsureStream(nc, *replicas); err != nil {
			return err
		}
		return msg(ctx, nc, a[1], a[2], a[3:])
	}
	return usage("unknown command %q", a[0])
}

func mailslot(ctx context.Context, nc *nats.Conn, o *natsslot.Options, cmd, name string, rest []string) error {
	switch cmd {
	case "serve":
		o.ReadTimeout = -1
		s, err := natsslot.Create(nc, name, o)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { s.Close() })
		defer stop()
		fmt.Fprintf(os.Stderr, "serving %s\n", name)
		for {
			m, err := s.ReadMsg()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			fmt.Printf("%s\n", m)
		}
	case "send":
		w, err := natsslot.Open(nc, name, o)
		if err != nil {
			return err
		}
		for _, m := range rest {
			if _, err := w.Write([]byte(m)); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	return usage("unknown mailslot command %q", cmd)
}

func parseMsg(s string) (uint32, error) {
	base := uint64(0)
	for _, p := range []struct {
		prefix string
		v      uint64
	}{{"WM_USER+", msgq.WM_USER}, {"WM_APP+", msgq.WM_APP}} {
		if rest, ok := strings.CutPrefix(strings.ToUpper(s), p.prefix); ok {
			base, s = p.v, rest
		}
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || base+n > 0xFFFF {
		return 0, usage("bad message number %q", s)
	}
	return uint32(base + n), nil
}

func params(rest []string) (w, l uintptr, err error) {
	var v [2]uintptr
	for i, s := range rest {
		if i >= 2 {
			return 0, 0, usage("too many arguments")
		}
		n, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, 0, usage("bad parameter %q", s)
		}
		v[i] = uintptr(n)
	}
	return v[0], v[1], nil
}

func msg(ctx context.Context, nc *nats.Conn, cmd, name string, rest []string) error {
	if cmd == "serve" {
		q, err := natsmsgq.Register(nc, name)
		if err != nil {
			return err
		}
		defer q.Close()
		fmt.Fprintf(os.Stderr, "serving %s\n", name)
		err = q.Serve(ctx, func(m *natsmsgq.Message) uintptr {
			kind := "posted"
			if m.Sent {
				kind = "sent"
			}
			if m.Msg == msgq.WM_COPYDATA {
				fmt.Printf("%s msg=0x%04x lparam=%d data=%q\n", kind, m.Msg, m.LParam, m.Data)
				return uintptr(len(m.Data))
			}
			fmt.Printf("%s msg=0x%04x wparam=%d lparam=%d\n", kind, m.Msg, m.WParam, m.LParam)
			return 0
		})
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	t, err := natsmsgq.Find(nc, name)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage("missing MSG")
	}
	if cmd == "senddata" {
		if len(rest) != 1 {
			return usage("senddata takes one TEXT")
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		r, err := t.SendData(sctx, 0, []byte(rest[0]))
		if err != nil {
			return err
		}
		fmt.Println(r)
		return nil
	}
	m, err := parseMsg(rest[0])
	if err != nil {
		return err
	}
	w, l, err := params(rest[1:])
	if err != nil {
		return err
	}
	switch cmd {
	case "post":
		return t.Post(m, w, l)
	case "send":
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		r, err := t.Send(sctx, m, w, l)
		if err != nil {
			return err
		}
		fmt.Println(r)
		return nil
	}
	return usage("unknown msg command %q", cmd)
}

func runServer(ctx context.Context, listen, store string) error {
	host, port, err := splitHostPort(listen)
	if err != nil {
		return usage("--listen: %v", err)
	}
	if store == "" {
		if store, err = os.MkdirTemp("", "xipc-nats-"); err != nil {
			return err
		}
		defer os.RemoveAll(store)
	}
	s, err := server.NewServer(&server.Options{Host: host, Port: port, JetStream: true, StoreDir: store, NoSigs: true})
	if err != nil {
		return err
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("the NATS server did not start")
	}
	fmt.Fprintf(os.Stderr, "NATS server on %s (JetStream in %s)\n", s.ClientURL(), store)
	<-ctx.Done()
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("want HOST:PORT, not %q", s)
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("bad port in %q", s)
	}
	return strings.Trim(s[:i], "[]"), p, nil
}
