package mailslot

import (
	"errors"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
)

// netWriter is not used on Windows: network mailslots there are Windows'
// own (SMB datagrams), which xipc does not open yet.
type netWriter struct{}

func openNet(names.Mailslot) (*netWriter, error) {
	return nil, errs.New(errs.ErrNotSupported, errors.New("network mailslots are not supported on Windows yet"))
}

func (*netWriter) write([]byte) (int, error)        { return 0, errs.ErrNotSupported }
func (*netWriter) setWriteDeadline(time.Time) error { return errs.ErrNotSupported }
func (*netWriter) close() error                     { return errs.ErrNotSupported }
