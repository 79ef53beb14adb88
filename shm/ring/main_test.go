package ring_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain turns the test binary into a peer process when a test or a
// benchmark starts one (XIPC_RING_PEER=1, the command in the arguments),
// and otherwise runs the tests and checks that none of them leaves a
// goroutine behind.
func TestMain(m *testing.M) {
	if os.Getenv(peerEnv) == "1" {
		os.Exit(runPeer(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}
