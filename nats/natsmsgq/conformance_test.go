package natsmsgq_test

import (
	"os"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc/internal/conformance"
	"github.com/xipc/xipc/nats/natsmsgq"
)

// envURL is the NATS server of a conformance run, inherited by its peers.
const envURL = "XIPC_NATSMSGQ_CONFORMANCE_URL"

// installForPeer installs the NATS backend in a conformance peer process.
func installForPeer() {
	if url := os.Getenv(envURL); url != "" {
		nc, err := nats.Connect(url)
		if err != nil {
			panic(err) // the peer cannot do anything without its server
		}
		natsmsgq.Install(nc)
	}
}

// TestConformance runs msgq's behaviour suite with msgq going through NATS
// (Install), peers included, against an embedded server.
func TestConformance(t *testing.T) {
	srv := startServers(t, 1)[0]
	t.Setenv(envURL, srv.ClientURL())
	natsmsgq.Install(connect(t, srv))
	defer natsmsgq.Uninstall()
	conformance.TestMsgq(t)
}
