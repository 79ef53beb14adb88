// Command xipc serves, calls and inspects Win32 IPC objects (named pipes
// first) from a shell, and demonstrates them; see internal/cli and
// `xipc --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/xipc/xipc/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
