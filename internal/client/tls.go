package client

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// TLSOptions configure server verification and the client certificate.
type TLSOptions struct {
	CAFile string // added to the system pool
	// CAFileFrom names where CAFile came from in errors ("--ca-file" when
	// empty; "TOKENCTL_CA_FILE", "profile \"x\": ca_file").
	CAFileFrom string
	Insecure   bool   // no verification at all (warned about by the caller)
	Thumbprint string // SHA-256 of the server's leaf certificate, hex, colons allowed
	CertFile   string // client certificate (NSX principal identity)
	KeyFile    string
}

// NormalizeThumbprint returns a thumbprint as lower-case hex without
// separators, or an error naming the rule.
func NormalizeThumbprint(s string) (string, error) {
	t := strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(s))
	if len(t) != 64 {
		return "", exit.Usagef("thumbprint %q: must be a SHA-256 fingerprint, 64 hex digits (colons allowed)", s)
	}
	if _, err := hex.DecodeString(t); err != nil {
		return "", exit.Usagef("thumbprint %q: must be hex digits (colons allowed)", s)
	}
	return t, nil
}

// Thumbprint is the SHA-256 fingerprint of a certificate, colon-separated
// upper-case hex as NSX and browsers show it.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// ThumbprintMismatchError is a pinned certificate that changed.
type ThumbprintMismatchError struct {
	Want, Got string
}

func (e *ThumbprintMismatchError) Error() string {
	return fmt.Sprintf("server certificate thumbprint %s does not match the pinned %s; if the certificate was replaced on purpose, run `tokenctl profile set NAME --trust`", e.Got, e.Want)
}

// ExitCode implements exit.Coder.
func (e *ThumbprintMismatchError) ExitCode() int { return exit.Network }

// TLSConfig builds the client TLS configuration.
func (o TLSOptions) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		from := o.CAFileFrom
		if from == "" {
			from = "--ca-file"
		}
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, exit.Usagef("%s: %v", from, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, exit.Usagef("%s %s: no PEM certificates found", from, o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		if o.CertFile == "" || o.KeyFile == "" {
			return nil, exit.Usagef("a client certificate needs both cert_file and key_file")
		}
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, exit.Usagef("client certificate %s / %s: %v", o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	switch {
	case o.Thumbprint != "":
		want, err := NormalizeThumbprint(o.Thumbprint)
		if err != nil {
			return nil, err
		}
		// A pinned thumbprint replaces chain verification, as govc does for
		// self-signed managers: the pin is stronger than any CA.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("server sent no certificate")
			}
			got := Thumbprint(cs.PeerCertificates[0])
			if strings.ReplaceAll(strings.ToLower(got), ":", "") != want {
				return &ThumbprintMismatchError{Want: formatHex(want), Got: got}
			}
			return nil
		}
	case o.Insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

func formatHex(h string) string {
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}

// TLSInfo is what a TLS handshake showed about a server.
type TLSInfo struct {
	Subject    string
	Issuer     string
	NotBefore  time.Time
	NotAfter   time.Time
	DNSNames   []string
	Thumbprint string
	// Verified is true when the chain verifies against the system pool plus
	// the CA file; VerifyError says why not.
	Verified    bool
	VerifyError string
	Version     string
}

// ProbeTLS connects to an https server without trusting it, and reports its
// certificate and whether it would verify.
func ProbeTLS(ctx context.Context, server string, o TLSOptions, timeout time.Duration) (*TLSInfo, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, exit.Usagef("server %q is not a URL", server)
	}
	if u.Scheme != "https" {
		return nil, nil
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	cfg, err := TLSOptions{CAFile: o.CAFile, CertFile: o.CertFile, KeyFile: o.KeyFile}.TLSConfig()
	if err != nil {
		return nil, err
	}
	roots := cfg.RootCAs
	cfg.InsecureSkipVerify = true
	cfg.ServerName = u.Hostname()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil, fmt.Errorf("server sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	info := &TLSInfo{
		Subject:    leaf.Subject.String(),
		Issuer:     leaf.Issuer.String(),
		NotBefore:  leaf.NotBefore,
		NotAfter:   leaf.NotAfter,
		DNSNames:   leaf.DNSNames,
		Thumbprint: Thumbprint(leaf),
		Version:    tls.VersionName(cs.Version),
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Roots: roots, Intermediates: inter})
	if verr != nil {
		info.VerifyError = verr.Error()
	} else {
		info.Verified = true
	}
	return info, nil
}
