package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway/link"
)

// CertsConfig holds the options of WriteCerts.
type CertsConfig struct {
	// Out is the directory to write to.
	Out string
	// Hosts are the machines that run a gateway: each NAME or NAME=ADDR
	// (ADDR an IP address or DNS name the others dial; several joined
	// with '+'). A host's certificate serves its gateway and its
	// clients.
	Hosts []string
	// Clients are identities that only dial (a certificate for client
	// authentication only), by name.
	Clients []string
	// Valid is how long the certificates are valid; 0 means one year.
	Valid time.Duration
}

// WriteCerts creates a small deployment's certificates: a CA (reused when
// Out already holds one) in Out/ca.pem and Out/ca-key.pem, and for each
// host and client a directory Out/NAME holding ca.pem, cert.pem and
// key.pem, the layout link.Load reads. Keys are ECDSA P-256.
func WriteCerts(c CertsConfig) error {
	if c.Out == "" || len(c.Hosts)+len(c.Clients) == 0 {
		return errs.New(errs.ErrInvalidParameter, errors.New("certs: need an output directory and at least one host or client"))
	}
	if c.Valid == 0 {
		c.Valid = 365 * 24 * time.Hour
	}
	if err := os.MkdirAll(c.Out, 0o700); err != nil {
		return err
	}
	ca, caKey, caPEM, err := loadOrMakeCA(c.Out, c.Valid)
	if err != nil {
		return err
	}
	type ident struct {
		name  string
		addrs []string
		host  bool
	}
	var ids []ident
	for _, h := range c.Hosts {
		name, addrs, _ := strings.Cut(h, "=")
		id := ident{name: name, host: true}
		if addrs != "" {
			id.addrs = strings.Split(addrs, "+")
		}
		ids = append(ids, id)
	}
	for _, n := range c.Clients {
		ids = append(ids, ident{name: n})
	}
	for _, id := range ids {
		if id.name == "" || strings.ContainsAny(id.name, `/\`) || id.name == "." || id.name == ".." {
			return errs.New(errs.ErrInvalidParameter, fmt.Errorf("certs: bad name %q", id.name))
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: id.name, Organization: []string{"xipc"}},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(c.Valid),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if id.host {
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
			for _, a := range append([]string{id.name}, id.addrs...) {
				if ip := net.ParseIP(a); ip != nil {
					tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
				} else {
					tmpl.DNSNames = append(tmpl.DNSNames, a)
				}
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		dir := filepath.Join(c.Out, id.name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		files := []struct {
			name string
			data []byte
			mode os.FileMode
		}{
			{link.CAFile, caPEM, 0o644},
			{link.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644},
			{link.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600},
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
				return err
			}
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func loadOrMakeCA(out string, valid time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certPath, keyPath := filepath.Join(out, "ca.pem"), filepath.Join(out, "ca-key.pem")
	if cb, err := os.ReadFile(certPath); err == nil {
		kb, err := os.ReadFile(keyPath)
		if err != nil {
			return nil, nil, nil, err
		}
		cblk, _ := pem.Decode(cb)
		kblk, _ := pem.Decode(kb)
		if cblk == nil || kblk == nil {
			return nil, nil, nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("certs: %s or %s is not PEM", certPath, keyPath))
		}
		ca, err := x509.ParseCertificate(cblk.Bytes)
		if err != nil {
			return nil, nil, nil, errs.New(errs.ErrInvalidParameter, err)
		}
		key, err := x509.ParseECPrivateKey(kblk.Bytes)
		if err != nil {
			return nil, nil, nil, errs.New(errs.ErrInvalidParameter, err)
		}
		return ca, key, cb, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "xipc gateway CA", Organization: []string{"xipc"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(valid),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	cpem := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, nil, nil, err
	}
	if err := os.WriteFile(certPath, cpem, 0o644); err != nil {
		return nil, nil, nil, err
	}
	return ca, key, cpem, nil
}
