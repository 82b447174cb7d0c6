package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// registerNSXIdentity makes a client certificate and key ($WORK/pi-cert.pem,
// $WORK/pi-key.pem, also in $NSX_CERT and $NSX_KEY) and registers the
// certificate as the NSX principal identity name, through the sandbox's
// control route, as an NSX admin would beforehand.
func registerNSXIdentity(ts *testscript.TestScript, srv *sandbox.Server, name string) {
	if srv.Certificate() == nil {
		ts.Fatalf("sandbox start --nsx-identity needs --tls")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	ts.Check(err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certPath, keyPath := ts.MkAbs("pi-cert.pem"), ts.MkAbs("pi-key.pem")
	ts.Check(os.WriteFile(certPath, certPEM, 0o600))
	ts.Check(os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	ts.Setenv("NSX_CERT", certPath)
	ts.Setenv("NSX_KEY", keyPath)

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate().Leaf)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(map[string]string{"name": name, "certificate_pem": string(certPEM)})
	resp, err := hc.Post(srv.URL()+"/_sandbox/nsx/principal-identities", "application/json", bytes.NewReader(body))
	ts.Check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		ts.Fatalf("registering principal identity %s: HTTP %d", name, resp.StatusCode)
	}
}
