package msgq_test

import (
	"testing"

	"github.com/xipc/xipc/internal/conformance"
)

// TestConformance runs the message-queue behaviour suite against this OS's
// backend: the Unix emulation, or Win32 windows on Windows and under Wine.
func TestConformance(t *testing.T) { conformance.TestMsgq(t) }
