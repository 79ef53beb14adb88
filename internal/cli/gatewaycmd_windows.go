package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway/link"
)

// serveGateway: Windows serves remote pipes itself, over SMB.
func serveGateway(*cobra.Command, *env, *link.Creds, *gatewayServeOptions) error {
	return errs.New(errs.ErrNotSupported, errors.New("gateway serve: Windows serves remote pipes over SMB; the gateway runs on Linux"))
}
