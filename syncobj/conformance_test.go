package syncobj_test

import (
	"testing"

	"github.com/xipc/xipc/internal/conformance"
)

// TestConformance runs the sync-object behaviour suite against this OS's
// backend: the Unix emulation, or Win32 on Windows and under Wine.
func TestConformance(t *testing.T) { conformance.TestSyncobj(t) }
