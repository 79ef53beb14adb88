package gateway_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs a role when a network-namespace test started this binary
// in a host (roles_test.go), and otherwise the tests, checking that none
// leaves a goroutine behind.
func TestMain(m *testing.M) {
	if ok, code := runRole(); ok {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}
