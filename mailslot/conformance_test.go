package mailslot_test

import (
	"testing"

	"github.com/xipc/xipc/internal/conformance"
)

// TestConformance runs the mailslot behaviour suite against this OS's
// backend: the Unix emulation, or Win32 on Windows and under Wine.
func TestConformance(t *testing.T) { conformance.TestMailslot(t) }
