// Package gateway is the host service behind `xipc gateway serve`: it
// exposes this machine's named pipes and mailslots to xipc clients on other
// machines. Pipes are reached over TCP with mutual TLS 1.3; mailslot
// messages arrive as signed UDP datagrams, sent to one host or broadcast.
// The protocol is in internal/gateway/link; docs/network.md describes the
// deployment.
//
// Only pipes created with ListenConfig.RemoteClients and mailslots created
// with Config.RemoteWriters are reachable: the gateway reads the flag from
// the name's lock file, and the pipe's listener checks it again. The
// gateway passes the client's certificate subject to the pipe's server
// (pipe.Conn.RemotePeer).
//
// The gateway runs on Linux and other Unix systems; on Windows, remote
// pipes go over SMB instead and only the certificate tooling (WriteCerts)
// is available.
package gateway
