// Package xipc gives Go programs the Windows interprocess-communication
// mechanisms — named pipes, shared memory, window message queues, mailslots
// and sockets — with Win32 semantics on every OS: the real Win32 API on
// Windows, a faithful emulation on Linux and other Unix systems.
//
// Each mechanism has its own package (pipe, mailslot, shm, syncobj, ...);
// package win32 offers them under their Win32 names. This root package holds
// what they share: the sentinel errors, *OpError and the Win32 error-code
// table. Errors from every package match these sentinels with errors.Is:
//
//	c, err := pipe.Dial(ctx, `\\.\pipe\app`, nil)
//	if errors.Is(err, xipc.ErrBusy) { ... }
//
// It also gives stream connections one way of addressing: Listen and Dial
// take `pipe:NAME`, `unix:PATH` or `tcp:HOST:PORT` (and a bare
// `\\.\pipe\NAME`) and return a net.Listener and a net.Conn, so a program
// changes transport by changing a string:
//
//	l, err := xipc.Listen(ctx, "pipe:app") // or "unix:/run/app.sock", "tcp::7000"
//	c, err := xipc.Dial(ctx, "pipe:app")
package xipc
