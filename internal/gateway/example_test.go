package gateway_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/xipc/xipc/internal/gateway"
	"github.com/xipc/xipc/internal/gateway/link"
)

// Certificates for a deployment of one gateway host; the host's directory
// is what `xipc gateway serve --tls-dir` and clients' XIPC_TLS_DIR name.
func ExampleWriteCerts() {
	dir, err := os.MkdirTemp("", "pki")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := gateway.WriteCerts(gateway.CertsConfig{Out: dir, Hosts: []string{"alpha=127.0.0.1"}}); err != nil {
		panic(err)
	}
	creds, err := link.Load(filepath.Join(dir, "alpha"))
	fmt.Println(creds.Leaf.Subject, creds.Leaf.IPAddresses, err)
	// Output: CN=alpha,O=xipc [127.0.0.1] <nil>
}
