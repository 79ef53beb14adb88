package msgq_test

import (
	"github.com/xipc/xipc/internal/conformance"
	"github.com/xipc/xipc/internal/wintest"
)

// What Windows, and Wine, cannot do of the suite (docs/msgq.md lists it).
func init() {
	q := &conformance.MsgqQuirks
	q.NoCancelSend = "Windows: SendMessageTimeout ends at a timeout, so only a context's deadline ends a Send"
	if wintest.UnderWine() {
		q.NoQuota = "Wine does not limit a thread's queue to 10,000 posted messages (Windows does)"
		q.MaxData = 1 << 20
		q.MaxDataWhy = "Wine (8) loses a WM_COPYDATA of more than about 1 MiB between processes (Windows carries any size)"
	}
}
