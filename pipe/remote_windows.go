package pipe

import (
	"context"

	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

// On Windows a remote pipe is reached natively, over SMB: CreateFile of
// `\\HOST\pipe\NAME`. The server's account is on another machine, so the
// owner check does not apply; SMB authenticates the machines.
func dialRemote(ctx context.Context, p names.Pipe, c *DialConfig) (*sysConn, remoteLink, error) {
	trust, err := owner.New(true)
	if err != nil {
		return nil, nil, err
	}
	sc, err := dial(ctx, p, c, trust)
	return sc, nil, err
}

// remotePeer: Windows does not tell the client's certificate; SMB clients
// are not identified here.
func (c *sysConn) remotePeer() (RemotePeer, bool) { return RemotePeer{}, false }
