package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
)

func newGatewayCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "gateway",
		Short: "Reach pipes and mailslots of other machines: serve, certs",
		Long: `The gateway exposes this machine's pipes and mailslots to xipc clients on
other machines (Linux): \\HOST\pipe\NAME over mutual TLS 1.3 on TCP port
7440, \\HOST\mailslot\NAME and \\*\mailslot\NAME as signed UDP datagrams on
UDP port 7440. Only pipes created with RemoteClients and mailslots created
with RemoteWriters are reachable. See docs/network.md.`,
	})
	cmd.AddCommand(newGatewayServeCmd(e), newGatewayCertsCmd(e))
	return cmd
}

type gatewayServeOptions struct {
	listen, datagram, tlsDir, group, iface string
	verbose                                bool
}

func newGatewayServeCmd(e *env) *cobra.Command {
	var o gatewayServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve this machine's remote-enabled pipes and mailslots",
		Long: `Serve listens for other machines' xipc clients until Ctrl-C or SIGTERM,
then exits 0. It prints "gateway listening on ADDR" on stderr once clients
can connect. The TLS directory (--tls-dir, else $XIPC_TLS_DIR, else
~/.config/xipc/tls) holds ca.pem, cert.pem and key.pem as written by
xipc gateway certs; clients must present a certificate of the same CA.`,
		Example: `  xipc gateway certs --out ./pki --hosts alpha=10.0.0.1,beta=10.0.0.2
  xipc gateway serve --tls-dir ./pki/alpha`,
		Args: exactArgs(),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			dir := o.tlsDir
			if dir == "" {
				dir = link.DefaultDir()
			}
			creds, err := link.Load(dir)
			if err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			return serveGateway(cmd, e, creds, &o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", ":7440", "TCP address for pipes")
	f.StringVar(&o.datagram, "datagram", "", `UDP address for mailslot datagrams (default: the --listen port; "-" turns mailslots off)`)
	f.StringVar(&o.tlsDir, "tls-dir", "", "directory with ca.pem, cert.pem, key.pem")
	f.StringVar(&o.group, "group", "", "multicast group to join for broadcast mailslots (default: UDP broadcast only)")
	f.StringVar(&o.iface, "interface", "", "network interface for --group")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log sessions, refusals and dropped datagrams on stderr")
	return cmd
}

type gatewayCertsOptions struct {
	out            string
	hosts, clients []string
	valid          time.Duration
}

func newGatewayCertsCmd(e *env) *cobra.Command {
	var o gatewayCertsOptions
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create a CA and certificates for gateways and clients",
		Long: `Certs writes a small deployment's certificates (ECDSA P-256): a CA in
OUT/ca.pem and OUT/ca-key.pem (reused when OUT already has one), and for each
host and client a directory OUT/NAME with ca.pem, cert.pem and key.pem.

A host is NAME or NAME=ADDR[+ADDR...]: its certificate names NAME and the
addresses others dial, serves its gateway and identifies its clients. A
client certificate only identifies clients. Copy OUT/NAME to the machine and
point --tls-dir or $XIPC_TLS_DIR at it; keep ca-key.pem off the hosts.`,
		Example: `  xipc gateway certs --out ./pki --hosts alpha=10.0.0.1,beta=10.0.0.2 --clients alice`,
		Args:    exactArgs(),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return usagef("%s: missing --out DIR", cmd.CommandPath())
			}
			if len(o.hosts)+len(o.clients) == 0 {
				return usagef("%s: missing --hosts or --clients", cmd.CommandPath())
			}
			if err := gateway.WriteCerts(gateway.CertsConfig{Out: o.out, Hosts: o.hosts, Clients: o.clients, Valid: o.valid}); err != nil {
				return fmt.Errorf("gateway certs: %w", err)
			}
			for _, n := range append(append([]string{}, o.hosts...), o.clients...) {
				name, _, _ := strings.Cut(n, "=")
				fmt.Fprintf(e.stdout, "%s/%s\n", o.out, name)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "output directory")
	f.StringSliceVar(&o.hosts, "hosts", nil, "gateway hosts, NAME or NAME=ADDR[+ADDR]")
	f.StringSliceVar(&o.clients, "clients", nil, "client-only identities")
	f.DurationVar(&o.valid, "valid", 365*24*time.Hour, "validity of the certificates")
	return cmd
}
