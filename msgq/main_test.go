package msgq_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/xipc/xipc/internal/conformance"
)

// TestMain turns the test binary into a peer process when the conformance
// suite starts one, and otherwise runs the tests and checks that none of
// them leaves a goroutine behind (a window's message loop must end when
// the queue closes).
func TestMain(m *testing.M) {
	conformance.RunPeerIfAsked()
	goleak.VerifyTestMain(m)
}
