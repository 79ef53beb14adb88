//go:build !unix

package conformance

// queueLimitTests is empty: QueueLimit is the Unix emulation's. Win32 keeps
// a mailslot's messages in the kernel, and a writer never waits there.
var queueLimitTests []subtest
