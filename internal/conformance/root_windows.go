package conformance

import "testing"

// privateNamespace does nothing on Windows: Win32's namespace is the
// machine's, and unique names keep tests apart. (A t.TempDir here would
// also fail its cleanup under Wine, whose file system lacks the call Go's
// RemoveAll uses.)
func privateNamespace(*testing.T) {}
