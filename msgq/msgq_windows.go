package msgq

import (
	"context"

	"github.com/xipc/xipc/internal/errs"
)

type winBackend struct{}

var localBackend backend = winBackend{}

func (winBackend) register(string, *Options) (receiver, error) { return nil, errs.ErrNotSupported }
func (winBackend) find(string) (sender, error)                 { return nil, errs.ErrNotSupported }

func registerMessage(string) uint32 { return 0 }

var _ = context.Background
