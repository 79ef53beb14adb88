//go:build unix

package conformance

import "testing"

// privateNamespace gives the test, and the peers it starts, a namespace root
// of their own, so that nothing outside the test can meet its objects.
func privateNamespace(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
}
