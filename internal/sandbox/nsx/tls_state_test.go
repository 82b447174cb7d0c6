package nsx_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// clientCert makes a self-signed client certificate, its PEM and SHA-256.
func clientCert(t *testing.T, cn string) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(p), hex.EncodeToString(sum[:])
}

// startTLS runs a sandbox with TLS on a loopback port.
func startTLS(t *testing.T, opts sandbox.Options) (*sandbox.Server, string, *x509.CertPool) {
	t.Helper()
	opts.TLS = true
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := srv.Start("127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate().Leaf)
	return srv, u, pool
}

func tlsClient(pool *x509.CertPool, certs ...tls.Certificate) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
}

func TestClientCertificatePrincipal(t *testing.T) {
	srv, base, pool := startTLS(t, sandbox.Options{})
	t.Cleanup(func() { srv.Close() })
	cert, certPEM, fp := clientCert(t, "tokenctl-pi")
	withCert := tlsClient(pool, cert)
	path := "/api/v1/aaa/registration-token"

	r := doWith(t, withCert, base, req{method: "POST", path: path})
	expect(t, r, http.StatusForbidden)
	if m := r.json(t); !strings.Contains(m["details"].(string), "not registered") {
		t.Fatalf("unregistered certificate: %v", m)
	}

	// The control route validates its body.
	for _, body := range []string{`nope`, `{"name":"","certificate_pem":"` + jsonEscape(certPEM) + `"}`, `{"name":"x","certificate_pem":"not pem"}`} {
		expect(t, doWith(t, withCert, base, req{method: "POST", path: "/_sandbox/nsx/principal-identities", body: body}), http.StatusBadRequest)
	}
	r = doWith(t, withCert, base, req{method: "POST", path: "/_sandbox/nsx/principal-identities", body: `{"name":"ci-robot","certificate_pem":"` + jsonEscape(certPEM) + `"}`})
	expect(t, r, http.StatusCreated)
	if m := r.json(t); m["name"] != "ci-robot" || m["certificate_sha256"] != fp {
		t.Fatalf("register: %v (want sha256 %s)", m, fp)
	}

	r = doWith(t, withCert, base, req{method: "POST", path: path})
	expect(t, r, http.StatusOK)
	m := r.json(t)
	if m["user"] != "ci-robot" || !reflect.DeepEqual(m["roles"], []any{"enterprise_admin"}) {
		t.Fatalf("create as principal: %v", m)
	}
	expect(t, doWith(t, withCert, base, req{method: "POST", path: path + "/delete", body: tokenQuery(m["token"].(string))}), http.StatusOK)

	// Another certificate is not that principal; no certificate is nobody.
	other, _, _ := clientCert(t, "someone-else")
	expect(t, doWith(t, tlsClient(pool, other), base, req{method: "POST", path: path}), http.StatusForbidden)
	expect(t, doWith(t, tlsClient(pool), base, req{method: "POST", path: path}), http.StatusForbidden)
	// Explicit credentials win over the certificate.
	expect(t, doWith(t, withCert, base, req{method: "POST", path: path, user: admin, password: "wrong"}), http.StatusForbidden)
	r = doWith(t, withCert, base, req{method: "POST", path: path, user: auditor})
	expect(t, r, http.StatusForbidden)
}

func TestSessionCookieOverTLSIsSecure(t *testing.T) {
	srv, base, pool := startTLS(t, sandbox.Options{})
	t.Cleanup(func() { srv.Close() })
	c := tlsClient(pool)
	s, res := login(t, c, base, admin, pw)
	want := "JSESSIONID=" + s.id + "; Path=/; Secure; HttpOnly; SameSite=Lax"
	if got := res.Header.Get("Set-Cookie"); got != want {
		t.Fatalf("Set-Cookie %q, want %q", got, want)
	}
	expect(t, doWith(t, c, base, req{method: "POST", path: "/api/v1/aaa/registration-token", session: &s}), http.StatusOK)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestStateRoundTrip(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	opts := sandbox.Options{StatePath: statePath}

	srv, base, pool := startTLS(t, opts)
	cert, certPEM, fp := clientCert(t, "pi")
	c := tlsClient(pool)
	token := doWith(t, c, base, req{method: "POST", path: "/api/v1/aaa/registration-token", user: admin}).json(t)["token"].(string)
	sensor := doWith(t, c, base, req{method: "POST", path: "/api/v1/security/sensor-registration-token", user: admin}).json(t)["token"].(string)
	gone := doWith(t, c, base, req{method: "POST", path: "/api/v1/aaa/registration-token", user: admin}).json(t)["token"].(string)
	expect(t, doWith(t, c, base, req{method: "DELETE", path: "/api/v1/aaa/registration-token/" + gone, user: admin}), http.StatusOK)
	expect(t, doWith(t, c, base, req{method: "POST", path: "/_sandbox/nsx/principal-identities", body: `{"name":"pi","certificate_pem":"` + jsonEscape(certPEM) + `"}`}), http.StatusCreated)
	s, _ := login(t, c, base, admin, pw)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// The file holds what the vendor returned and the identity, nothing else.
	raw, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vendors map[string]json.RawMessage `json:"vendors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Tokens              []map[string]any `json:"tokens"`
		PrincipalIdentities []map[string]any `json:"principal_identities"`
	}
	if err := json.Unmarshal(file.Vendors["nsx"], &st); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"token": token, "roles": []any{"enterprise_admin"}, "user": "admin"},
		{"token": sensor, "roles": []any{"sensor"}},
	}
	sort.Slice(want, func(i, j int) bool { return want[i]["token"].(string) < want[j]["token"].(string) })
	if !reflect.DeepEqual(st.Tokens, want) {
		t.Fatalf("saved tokens %v, want %v", st.Tokens, want)
	}
	if !reflect.DeepEqual(st.PrincipalIdentities, []map[string]any{{"name": "pi", "certificate_sha256": fp}}) {
		t.Fatalf("saved identities %v", st.PrincipalIdentities)
	}
	if strings.Contains(string(raw), s.id) {
		t.Fatal("the session was saved")
	}

	srv, base, pool = startTLS(t, opts)
	t.Cleanup(func() { srv.Close() })
	c = tlsClient(pool)
	for _, tok := range []string{token, sensor} {
		expect(t, doWith(t, c, base, req{method: "GET", path: "/policy/api/v1/aaa/registration-token/" + tok, user: auditor}), http.StatusOK)
	}
	expect(t, doWith(t, c, base, req{method: "GET", path: "/api/v1/aaa/registration-token/" + gone, user: admin}), http.StatusNotFound)
	// A restarted manager forgets sessions but not principal identities.
	expect(t, doWith(t, c, base, req{method: "GET", path: "/api/v1/aaa/registration-token/" + token, session: &s}), http.StatusForbidden)
	r := doWith(t, tlsClient(pool, cert), base, req{method: "POST", path: "/api/v1/aaa/registration-token"})
	expect(t, r, http.StatusOK)
	if r.json(t)["user"] != "pi" {
		t.Fatalf("principal after restart: %s", r.body)
	}
}

func TestLoadStateRejectsGarbage(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(statePath, []byte(`{"version":1,"vendors":{"nsx":{"tokens":5}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.New(sandbox.Options{StatePath: statePath, Options: sim.Options{}}); err == nil || !strings.Contains(err.Error(), "nsx") {
		t.Fatalf("New with a broken nsx section: %v", err)
	}
}
