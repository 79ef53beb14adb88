package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xipc/xipc/pipe"
)

// envRemoteHost, when set (by TestPipeRemote, inherited by the peers),
// makes the pipe suite's clients dial `\\HOST\pipe\NAME` through HOST's
// gateway while its servers listen on the local name with RemoteClients.
const envRemoteHost = "XIPC_CONFORMANCE_PIPE_HOST"

// pipePrefix is `\\.\pipe\`, or `\\HOST\pipe\` in a remote run.
func pipePrefix() string {
	if h := os.Getenv(envRemoteHost); h != "" {
		return `\\` + h + `\pipe\`
	}
	return `\\.\pipe\`
}

// serverSide returns the name and options a server listens with: in a
// remote run, the local name of the pipe the clients reach through the
// gateway, with RemoteClients set.
func serverSide(name string, cfg *pipe.ListenConfig) (string, *pipe.ListenConfig) {
	prefix := pipePrefix()
	if prefix == `\\.\pipe\` {
		return name, cfg
	}
	c := pipe.ListenConfig{}
	if cfg != nil {
		c = *cfg
	}
	c.RemoteClients = true
	if rest, ok := strings.CutPrefix(name, prefix); ok {
		name = `\\.\pipe\` + rest
	}
	return name, &c
}

// TestPipeRemote runs the pipe suite's groups that hold for a remote pipe
// with the clients dialling `\\HOST\pipe\NAME`, HOST being a running
// gateway of this machine (HOST:PORT); the caller sets up the gateway and
// the clients' TLS directory ($XIPC_TLS_DIR). The groups left out test
// what only a local pipe has: listener and name rules (the server side is
// local anyway), PeerPID (a remote peer has none; see RemotePeer) and the
// local-only Remote test.
func TestPipeRemote(t *testing.T, host string) {
	privateNamespace(t)
	t.Setenv(envRemoteHost, host)
	runGroups(t, []group{
		{"Message", messageTests},
		{"Transact", transactTests},
		{"Instances", instanceTests},
		{"PeerGone", peerGoneTests},
		{"Unblock", unblockTests},
		{"Direction", directionTests},
		{"Misc", []subtest{{"CloseWrite", testCloseWrite}, {"CloseWriteBytePipe", testCloseWriteBytePipe}, {"UseAfterClose", testUseAfterClose}}},
	})
}

// noTLSDir returns a TLS directory that does not exist (not t.TempDir,
// whose removal fails under Wine).
func noTLSDir(t *testing.T) string {
	return filepath.Join(os.TempDir(), "xipc-no-tls-"+uniqueName(t))
}
