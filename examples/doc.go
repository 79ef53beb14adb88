// Package examples holds the five examples of the Win32 IPC tutorial that
// xipc started from, as runnable Go programs, each written twice: once with
// package win32, reading like the C original line by line, and once with
// xipc's idiomatic packages (the idiomatic/ directories). Every one runs on
// Linux as well as on Windows:
//
//	go run ./examples/pipe/server &      go run ./examples/pipe/client
//	go run ./examples/shm/writer &       go run ./examples/shm/reader
//	go run ./examples/msg/receiver &     go run ./examples/msg/sender
//	go run ./examples/mailslot/server &  go run ./examples/mailslot/client
//	go run ./examples/socket/server &    go run ./examples/socket/client
//
// Each program takes an optional argument: the name (or port) to use
// instead of the tutorial's, so that several can run at once. A server,
// writer or receiver prints a line ending in "..." when its peer may start.
// See docs/examples.md.
package examples
