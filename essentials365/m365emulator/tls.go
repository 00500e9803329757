package m365emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"time"
)

// TLSCertificate is a server certificate for serving the emulator over
// TLS, signed by a throwaway certificate authority whose certificate
// clients must trust (Microsoft's Graph clients follow only https links).
type TLSCertificate struct {
	// Certificate is the server's certificate chain and key, for
	// tls.Config.Certificates.
	Certificate tls.Certificate
	// CAPEM is the PEM of the authority's certificate: print it, or add it
	// to a client's x509.CertPool.
	CAPEM []byte
}

// Config returns a tls.Config serving the certificate, TLS 1.2 at least.
func (c *TLSCertificate) Config() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Certificate}, MinVersion: tls.VersionTLS12}
}

// CertPool returns a pool holding the authority, for a client.
func (c *TLSCertificate) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(c.CAPEM)
	return p
}

// NewTLSCertificate generates an authority and a server certificate for
// hosts (IP addresses or DNS names; nil means 127.0.0.1, ::1 and
// localhost), valid from now for validity (0 means 7 days). The
// authority's key is discarded: it can sign nothing else.
func NewTLSCertificate(hosts []string, now time.Time, validity time.Duration) (*TLSCertificate, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	if validity <= 0 {
		validity = 7 * 24 * time.Hour
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial := func() (*big.Int, error) { return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)) }
	caSerial, err := serial()
	if err != nil {
		return nil, err
	}
	ca := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "essentials365 m365emulator test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafSerial, err := serial()
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: leafSerial,
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else if h != "" {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	if len(leaf.IPAddresses) == 0 && len(leaf.DNSNames) == 0 {
		return nil, errors.New("m365emulator: no host for the certificate")
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &TLSCertificate{
		Certificate: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key},
		CAPEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
	}, nil
}
