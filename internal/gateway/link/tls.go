package link

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xipc/xipc/internal/errs"
)

// Files of a TLS directory, as `xipc gateway certs` writes them.
const (
	CAFile   = "ca.pem"   // the deployment's CA certificate
	CertFile = "cert.pem" // this host's (or client's) certificate
	KeyFile  = "key.pem"  // its ECDSA P-256 private key
)

// Environment variables.
const (
	EnvTLSDir    = "XIPC_TLS_DIR"            // the TLS directory of clients (and the gateway's default)
	EnvPort      = "XIPC_GATEWAY_PORT"       // the gateways' port, when not DefaultPort
	EnvBroadcast = "XIPC_MAILSLOT_BROADCAST" // where `\\*\mailslot\NAME` datagrams go
)

// DefaultBroadcast is where broadcast mailslot datagrams go by default:
// the limited broadcast address and the default port.
var DefaultBroadcast = "255.255.255.255:" + strconv.Itoa(DefaultPort)

// DefaultDir returns $XIPC_TLS_DIR, else ~/.config/xipc/tls.
func DefaultDir() string {
	if d := os.Getenv(EnvTLSDir); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "xipc", "tls")
	}
	return filepath.Join(".xipc", "tls")
}

// Creds is a loaded TLS directory.
type Creds struct {
	Cert tls.Certificate
	Leaf *x509.Certificate
	Key  *ecdsa.PrivateKey
	CAs  *x509.CertPool
}

// Load reads a TLS directory. Errors match errs.ErrNotFound (missing
// files) or errs.ErrInvalidParameter (unusable ones).
func Load(dir string) (*Creds, error) {
	ca, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, errs.New(errs.ErrNotFound, fmt.Errorf("TLS directory %s (set %s or run `xipc gateway certs`): %w", dir, EnvTLSDir, err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("%s holds no PEM certificate", filepath.Join(dir, CAFile)))
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errs.New(errs.ErrNotFound, err)
		}
		return nil, errs.New(errs.ErrInvalidParameter, err)
	}
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("%s: want an ECDSA key", filepath.Join(dir, KeyFile)))
	}
	return &Creds{Cert: cert, Leaf: cert.Leaf, Key: key, CAs: pool}, nil
}

// ClientConfig returns the client side of the gateway's mutual TLS 1.3.
func (c *Creds) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.Cert},
		RootCAs:      c.CAs,
		NextProtos:   []string{ALPN},
	}
}

// ServerConfig returns the gateway's side: TLS 1.3 only, a client
// certificate signed by the CA required.
func (c *Creds) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.Cert},
		ClientCAs:    c.CAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		NextProtos:   []string{ALPN},
	}
}

// Addr returns the address of host's gateway: host as written when it
// carries a port (`HOST:PORT`, `[V6]:PORT`), else host and $XIPC_GATEWAY_PORT
// or DefaultPort. It also returns the host alone, for TLS's ServerName.
func Addr(host string) (addr, server string) {
	if h, p, err := net.SplitHostPort(host); err == nil && p != "" {
		return host, h
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	port := os.Getenv(EnvPort)
	if port == "" {
		port = strconv.Itoa(DefaultPort)
	}
	return net.JoinHostPort(h, port), h
}

// handshakeTimeout bounds the TLS handshake and the request/response
// exchange when the caller's context sets no earlier deadline.
const handshakeTimeout = 30 * time.Second

// Dial connects to host's gateway and completes the TLS handshake. Errors
// match errs.ErrNetwork: an unreachable gateway, or a refused certificate
// (then also errs.ErrAccessDenied); a context that ended, its error.
func Dial(ctx context.Context, host string, cfg *tls.Config) (*tls.Conn, error) {
	addr, server := Addr(host)
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = server
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{ALPN}
	}
	if cfg.MinVersion < tls.VersionTLS13 {
		cfg.MinVersion = tls.VersionTLS13
	}
	var d net.Dialer
	if _, ok := ctx.Deadline(); !ok {
		d.Timeout = handshakeTimeout
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errs.Timeout(ctx, errs.ErrNetwork)
		}
		return nil, errs.New(errs.ErrNetwork, fmt.Errorf("gateway %s: %w", addr, errs.UnwrapNet(err)))
	}
	tc := tls.Client(nc, cfg)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, errs.Timeout(ctx, errs.ErrNetwork)
		}
		return nil, handshakeErr(addr, err)
	}
	// In TLS 1.3 the server checks the client's certificate after the
	// client's handshake has finished: a refusal shows at the first read.
	return tc, nil
}

// handshakeErr classifies a TLS failure: a certificate refused by either
// side is access denied.
func handshakeErr(addr string, err error) error {
	var ce *tls.CertificateVerificationError
	var ae tls.AlertError
	var ue x509.UnknownAuthorityError
	if errors.As(err, &ce) || errors.As(err, &ae) || errors.As(err, &ue) ||
		strings.Contains(err.Error(), "certificate") {
		return errs.New(errs.ErrNetwork, errs.New(errs.ErrAccessDenied, fmt.Errorf("TLS with gateway %s: %w", addr, err)))
	}
	return errs.New(errs.ErrNetwork, fmt.Errorf("TLS with gateway %s: %w", addr, err))
}

// Open sends a pipe Request on a fresh connection to host's gateway and
// reads the Response. Errors match errs.ErrNetwork (with
// errs.ErrAccessDenied when the gateway refused the certificate).
func Open(ctx context.Context, host string, cfg *tls.Config, q Request) (*tls.Conn, Response, error) {
	tc, err := Dial(ctx, host, cfg)
	if err != nil {
		return nil, Response{}, err
	}
	stop := context.AfterFunc(ctx, func() { tc.SetDeadline(time.Now()) })
	if _, ok := ctx.Deadline(); !ok && ctx.Done() == nil {
		// A Request that may not wait is answered at once.
		tc.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	p, err := exchange(tc, q)
	if !stop() || ctx.Err() != nil {
		tc.Close()
		return nil, Response{}, errs.Timeout(ctx, errs.ErrBusy)
	}
	if err != nil {
		tc.Close()
		addr, _ := Addr(host)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, Response{}, errs.New(errs.ErrNetwork, fmt.Errorf("gateway %s closed the connection without answering", addr))
		}
		if errors.Is(err, errs.ErrProtocol) {
			return nil, Response{}, err
		}
		return nil, Response{}, handshakeErr(addr, err)
	}
	tc.SetDeadline(time.Time{})
	return tc, p, nil
}

func exchange(tc *tls.Conn, q Request) (Response, error) {
	if _, err := tc.Write(q.Marshal()); err != nil {
		return Response{}, err
	}
	return ReadResponse(tc)
}

// Subject returns the identity a gateway reports for a peer certificate.
func Subject(c *x509.Certificate) string { return c.Subject.String() }
