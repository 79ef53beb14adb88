//go:build unix

package cli

import (
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
)

func serveGateway(cmd *cobra.Command, e *env, creds *link.Creds, o *gatewayServeOptions) error {
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(e.stderr, format+"\n", args...)
	}
	cfg := gateway.Config{Creds: creds, Listen: o.listen, Datagram: o.datagram, Group: o.group, Interface: o.iface}
	if o.verbose {
		cfg.Logf = logf
	}
	g, err := gateway.Start(cfg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	logf("gateway listening on %s", g.Addr())
	if o.verbose {
		for _, n := range gateway.ListRemote() {
			logf("gateway: serving %s", n)
		}
	}
	<-cmd.Context().Done()
	g.Close()
	return nil
}
