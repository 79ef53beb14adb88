package robust

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the process as a peer when a test started it as one, and
// otherwise runs the tests and checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if role := os.Getenv(peerEnv); role != "" {
		os.Exit(runPeer(role))
	}
	goleak.VerifyTestMain(m)
}
