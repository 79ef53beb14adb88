//go:build unix

package pipe_test

import (
	"path/filepath"
	"testing"

	"github.com/xipc/xipc/internal/conformance"
	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
)

// TestConformanceRemote runs the pipe suite with every client going through
// a gateway on the loopback interface, over mutual TLS, to servers of this
// machine. The tests between network namespaces (internal/gateway) cover
// separate hosts.
func TestConformanceRemote(t *testing.T) {
	if testing.Short() {
		t.Skip("the remote suite is long; -short runs the local one only")
	}
	dir := t.TempDir()
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: dir, Hosts: []string{"gw=127.0.0.1"}, Clients: []string{"suite"}}); err != nil {
		t.Fatal(err)
	}
	creds, err := link.Load(filepath.Join(dir, "gw"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Start(gateway.Config{Creds: creds, Listen: "127.0.0.1:0", Datagram: "-"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	t.Setenv(link.EnvTLSDir, filepath.Join(dir, "suite"))
	conformance.TestPipeRemote(t, g.Addr().String())
}
