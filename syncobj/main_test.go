package syncobj_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/xipc/xipc/internal/conformance"
)

// TestMain turns the test binary into a peer process when the conformance
// suite starts one, and otherwise runs the tests and checks that none of
// them leaves a goroutine behind. Peers that other test files start with
// their own environment variable are dispatched by those files' init
// functions, which run before TestMain.
func TestMain(m *testing.M) {
	conformance.RunPeerIfAsked()
	goleak.VerifyTestMain(m)
}
