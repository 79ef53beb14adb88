package link

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
)

// MaxDatagram is the largest message a remote or broadcast mailslot write
// carries: 424 bytes, as on Windows.
const MaxDatagram = 424

// MaxSkew is how far a datagram's time may be from the receiver's clock.
const MaxSkew = 2 * time.Minute

// A mailslot datagram, one per UDP packet:
//
//	"XM" version flags | time (int64 unix ns) | u16 len, name | u16 len, data |
//	u16 len, sender certificate (DER) | ECDSA-SHA256 signature of all before it
//
// The certificate must chain to the receiver's CA with client-auth usage;
// integers are little-endian.
var dgMagic = [2]byte{'X', 'M'}

const (
	// DgBroadcast marks a datagram sent to every gateway.
	DgBroadcast = 1 << 0
	maxCert     = 4096
	maxSig      = 80
	// MaxPacket bounds a datagram's size.
	MaxPacket = 4 + 8 + 2 + MaxName + 2 + MaxDatagram + 2 + maxCert + maxSig
)

// Datagram is a decoded, verified mailslot datagram.
type Datagram struct {
	Flags   uint8
	Time    time.Time
	Name    string // the mailslot's key (case-folded name)
	Data    []byte
	Subject string // the sender certificate's subject
}

// Seal encodes and signs a datagram with c's certificate and key.
func (c *Creds) Seal(flags uint8, name string, data []byte, now time.Time) ([]byte, error) {
	if len(data) > MaxDatagram {
		return nil, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes, a network mailslot message takes at most %d", len(data), MaxDatagram))
	}
	if len(name) == 0 || len(name) > MaxName {
		return nil, errs.New(errs.ErrInvalidName, fmt.Errorf("name of %d bytes", len(name)))
	}
	der := c.Cert.Certificate[0]
	b := make([]byte, 0, 20+len(name)+len(data)+len(der)+maxSig)
	b = append(b, dgMagic[0], dgMagic[1], Version, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(now.UnixNano()))
	for _, f := range [][]byte{[]byte(name), data, der} {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	sum := sha256.Sum256(b)
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, sum[:])
	if err != nil {
		return nil, err
	}
	return append(b, sig...), nil
}

// ParseDatagram decodes b without checking its signature: the structure
// only. Malformed input gives errs.ErrProtocol.
func ParseDatagram(b []byte) (d Datagram, cert, signed, sig []byte, err error) {
	bad := func(why string) (Datagram, []byte, []byte, []byte, error) {
		return Datagram{}, nil, nil, nil, errs.New(errs.ErrProtocol, errors.New("mailslot datagram: "+why))
	}
	if len(b) > MaxPacket {
		return bad("too long")
	}
	if len(b) < 12 || b[0] != dgMagic[0] || b[1] != dgMagic[1] {
		return bad("not an xipc datagram")
	}
	if b[2] != Version {
		return bad(fmt.Sprintf("version %d", b[2]))
	}
	d.Flags = b[3]
	if d.Flags&^DgBroadcast != 0 {
		return bad("unknown flags")
	}
	d.Time = time.Unix(0, int64(binary.LittleEndian.Uint64(b[4:12])))
	rest := b[12:]
	var fields [3][]byte
	for i, max := range [3]int{MaxName, MaxDatagram, maxCert} {
		if len(rest) < 2 {
			return bad("truncated")
		}
		n := int(binary.LittleEndian.Uint16(rest))
		if n > max || len(rest) < 2+n {
			return bad("field too long or truncated")
		}
		fields[i] = rest[2 : 2+n]
		rest = rest[2+n:]
	}
	if len(fields[0]) == 0 || !utf8.Valid(fields[0]) {
		return bad("bad name")
	}
	if len(rest) == 0 || len(rest) > maxSig {
		return bad("bad signature length")
	}
	d.Name = string(fields[0])
	d.Data = fields[1]
	return d, fields[2], b[:len(b)-len(rest)], rest, nil
}

// Open decodes b and verifies it: the sender's certificate must chain to
// the CAs with client-auth usage, the signature must match, and the time
// must be within MaxSkew of now. Errors match errs.ErrProtocol or
// errs.ErrAccessDenied.
func (c *Creds) Open(b []byte, now time.Time) (Datagram, error) {
	d, der, signed, sig, err := ParseDatagram(b)
	if err != nil {
		return Datagram{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Datagram{}, errs.New(errs.ErrProtocol, err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: c.CAs, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return Datagram{}, errs.New(errs.ErrAccessDenied, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return Datagram{}, errs.New(errs.ErrAccessDenied, errors.New("sender key is not ECDSA"))
	}
	sum := sha256.Sum256(signed)
	if !ecdsa.VerifyASN1(pub, sum[:], sig) {
		return Datagram{}, errs.New(errs.ErrAccessDenied, errors.New("bad signature"))
	}
	if skew := now.Sub(d.Time); skew > MaxSkew || skew < -MaxSkew {
		return Datagram{}, errs.New(errs.ErrAccessDenied, fmt.Errorf("datagram time off by %v", skew))
	}
	d.Subject = Subject(cert)
	return d, nil
}
