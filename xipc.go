// Package xipc gives Go programs the Windows interprocess-communication
// mechanisms — named pipes, shared memory, window message queues, mailslots
// and sockets — with Win32 semantics on every OS: the real Win32 API on
// Windows, a faithful emulation on Linux and other Unix systems.
//
// Each mechanism has its own package (pipe, ...). This root package holds
// what they share: the sentinel errors, *OpError and the Win32 error-code
// table. Errors from every package match these sentinels with errors.Is:
//
//	c, err := pipe.Dial(ctx, `\\.\pipe\app`, nil)
//	if errors.Is(err, xipc.ErrBusy) { ... }
package xipc
