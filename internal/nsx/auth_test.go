package nsx

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

func TestSessionLoginCallsAndDestroy(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	c := newClient(t, url, s, nil)
	n := New(c, nil)
	ctx := context.Background()
	_, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.GetToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	if s.Logins() != 1 {
		t.Fatalf("%d logins, want 1", s.Logins())
	}
	cookie, xsrf := s.cookie, s.xsrf
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	equal(t, "requests", tr.take(), []string{"POST " + SessionCreatePath, "POST " + TokenPath, "POST " + TokenPath + "/retrieve", "POST " + SessionDestroyPath})

	// The destroyed session is gone on the manager.
	_, err = c.Do(ctx, client.Call{Operation: "reuse", Method: http.MethodPost, Path: TokenPath + "/retrieve", NoAuth: true,
		Body: RegTokenQuery{Token: tok.Token}, Header: http.Header{"Cookie": {"JSESSIONID=" + cookie}, "X-Xsrf-Token": {xsrf}}})
	if exit.CodeOf(err) != exit.Auth {
		t.Fatalf("a destroyed session still works: %v", err)
	}
	// Closing twice, or a session never opened, sends nothing.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := (&SessionAuth{}).Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := tr.take(); len(got) != 1 {
		t.Fatalf("requests after close: %q", got)
	}
}

// TestSessionXSRFRequired: the manager rejects a session cookie without its
// X-XSRF-TOKEN, or with another session's.
func TestSessionXSRFRequired(t *testing.T) {
	_, url, _ := emulator(t, sim.Options{})
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	c := newClient(t, url, s, nil)
	ctx := context.Background()
	if _, _, err := New(c, nil).CreateToken(ctx, false); err != nil {
		t.Fatal(err)
	}
	other := &SessionAuth{Username: "admin", Password: sandboxPassword}
	if _, _, err := New(newClient(t, url, other, nil), nil).CreateToken(ctx, false); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Header{
		"missing": {"Cookie": {"JSESSIONID=" + s.cookie}},
		"wrong":   {"Cookie": {"JSESSIONID=" + s.cookie}, "X-Xsrf-Token": {other.xsrf}},
	} {
		_, err := c.Do(ctx, client.Call{Operation: "create registration token", Method: http.MethodPost, Path: TokenPath, NoAuth: true, Header: h})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || exit.CodeOf(err) != exit.Auth {
			t.Fatalf("%s XSRF: %v, want 403 exit 3", name, err)
		}
	}

	// Through the Auth: a wrong XSRF is rejected, and the client logs in
	// once more and succeeds.
	s.mu.Lock()
	s.xsrf = other.xsrf
	s.mu.Unlock()
	if _, _, err := New(c, nil).CreateToken(ctx, false); err != nil {
		t.Fatal(err)
	}
	if s.Logins() != 2 {
		t.Fatalf("%d logins, want 2 (the rejected XSRF forces a new session)", s.Logins())
	}
}

// TestSessionExpiredRelogin: NSX answers 403 to an idle-expired session; the
// client logs in once more and repeats the call.
func TestSessionExpiredRelogin(t *testing.T) {
	srv, url, tr := emulator(t, sim.Options{})
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	n := New(newClient(t, url, s, nil), nil)
	ctx := context.Background()
	_, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	env := srv.Env()
	env.Lock()
	env.Advance(31 * time.Minute) // past the default 1800 s idle timeout
	env.Unlock()
	tr.take()
	if _, err := n.GetToken(ctx, tok.Token); err != nil {
		t.Fatalf("get after expiry: %v", err)
	}
	equal(t, "re-login", tr.take(), []string{"POST " + TokenPath + "/retrieve", "POST " + SessionCreatePath, "POST " + TokenPath + "/retrieve"})
	if s.Logins() != 2 {
		t.Fatalf("%d logins, want 2", s.Logins())
	}
}

// TestSessionReloginOnceThenFail: a 403 that a new session does not cure
// (the auditor may not create) is reported after one re-login, not looped.
func TestSessionReloginOnceThenFail(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	s := &SessionAuth{Username: "auditor", Password: sandboxPassword}
	_, _, err := New(newClient(t, url, s, nil), nil).CreateToken(context.Background(), false)
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "permission") {
		t.Fatalf("got %v", err)
	}
	equal(t, "requests", tr.take(), []string{"POST " + SessionCreatePath, "POST " + TokenPath, "POST " + SessionCreatePath, "POST " + TokenPath})
}

func TestSessionBadPassword(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	s := &SessionAuth{Username: "admin", Password: "Wrong-Password-1"}
	_, _, err := New(newClient(t, url, s, nil), nil).CreateToken(context.Background(), false)
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "create NSX session") || !strings.Contains(err.Error(), "credentials were incorrect") {
		t.Fatalf("got %v", err)
	}
	equal(t, "requests", tr.take(), []string{"POST " + SessionCreatePath})
}

func TestSessionLoginWithoutCookie(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer hs.Close()
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	_, _, err := New(newClient(t, hs.URL, s, nil), nil).CreateToken(context.Background(), false)
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "cookie-based authentication may be disabled") {
		t.Fatalf("got %v", err)
	}
}

func TestSessionDebugRedaction(t *testing.T) {
	_, url, _ := emulator(t, sim.Options{NSXNoBodyCalls: true})
	var dbg bytes.Buffer
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	c := newClient(t, url, s, &dbg)
	n := New(c, nil)
	ctx := context.Background()
	_, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.DeleteToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	cookie, xsrf := s.cookie, s.xsrf
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out := dbg.String()
	for _, want := range []string{"POST  " + SessionCreatePath, "j_password=[REDACTED]", "Set-Cookie: [REDACTED]", "X-Xsrf-Token: [REDACTED]", "Cookie: [REDACTED]", "POST  " + SessionDestroyPath} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q", want)
		}
	}
	for name, secret := range map[string]string{"cookie": cookie, "xsrf": xsrf, "password": sandboxPassword, "token": tok.Token} {
		if secret == "" || strings.Contains(out, secret) {
			t.Errorf("debug output shows the %s %q", name, secret)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestCertAuth: a principal identity's client certificate authenticates
// over TLS; an unregistered one gets NSX's 403.
func TestCertAuth(t *testing.T) {
	srv, err := sandbox.New(sandbox.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	writePEM(t, ca, "CERTIFICATE", srv.Certificate().Leaf.Raw)
	registered := writeClientCert(t, dir, "registered", "pi-tokenctl")
	stranger := writeClientCert(t, dir, "stranger", "someone")
	certPEM, _ := os.ReadFile(registered[0])
	body, _ := json.Marshal(map[string]string{"name": "pi-tokenctl", "certificate_pem": string(certPEM)})
	reg, err := client.New(client.Options{BaseURL: url, TLS: client.TLSOptions{CAFile: ca}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Do(context.Background(), client.Call{Operation: "register", Method: http.MethodPost, Path: "/_sandbox/nsx/principal-identities", Body: json.RawMessage(body)}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		files []string
		ok    bool
	}{{registered, true}, {stranger, false}} {
		hc, err := client.New(client.Options{BaseURL: url, TLS: client.TLSOptions{CAFile: ca, CertFile: c.files[0], KeyFile: c.files[1]}}, CertAuth{})
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := New(hc, nil).CreateToken(context.Background(), false)
		if c.ok {
			if err != nil || tok.User != "pi-tokenctl" {
				t.Fatalf("registered certificate: %+v %v", tok, err)
			}
			continue
		}
		if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "not registered as a principal identity") {
			t.Fatalf("unregistered certificate: %v", err)
		}
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeClientCert writes a self-signed client certificate and its key.
func writeClientCert(t *testing.T, dir, name, cn string) []string {
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
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, keyPath := filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, cert, "CERTIFICATE", der)
	writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
	return []string{cert, keyPath}
}

// A login is retried on 502/503/504 like a read, and its failure never
// claims that a token may exist: no token call was sent (issue 16 item 16).
func TestSessionLoginRetriedAndNoTokenAdvice(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	var fails atomic.Int32
	fails.Store(2)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == SessionCreatePath && fails.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		req, _ := http.NewRequest(r.Method, url+r.URL.RequestURI(), r.Body)
		req.Header = r.Header
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer flaky.Close()
	s := &SessionAuth{Username: "admin", Password: sandboxPassword}
	if _, _, err := New(newClient(t, flaky.URL, s, nil), nil).CreateToken(context.Background(), false); err != nil {
		t.Fatalf("a login answered 503 twice was not retried: %v", err)
	}
	equal(t, "requests", tr.take(), []string{"POST " + SessionCreatePath, "POST " + TokenPath})

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()
	s = &SessionAuth{Username: "admin", Password: sandboxPassword}
	_, _, err := New(newClient(t, down.URL, s, nil), nil).CreateToken(context.Background(), false)
	if exit.CodeOf(err) != exit.Unavailable || strings.Contains(err.Error(), "may have created") || strings.Contains(err.Error(), "may have carried out") || !strings.Contains(err.Error(), "create NSX session") {
		t.Fatalf("login 502: %v (exit %d)", err, exit.CodeOf(err))
	}
}

// A login answered 404 (no session route: not an NSX manager, or a spec-only
// one) is an authentication failure, exit 3, and evidence of nothing: no
// "token gone", no cached "no body calls" (issue 16 item 17).
func TestSessionLogin404IsNoEvidence(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>Not Found</body></html>")
	}))
	defer hs.Close()
	cache := testCache(t)
	ctx := context.Background()
	n := New(newClient(t, hs.URL, &SessionAuth{Username: "admin", Password: sandboxPassword}, nil), cache)
	if _, err := n.ProbeBodyCalls(ctx); exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "no NSX session login answered") {
		t.Fatalf("probe: %v (exit %d)", err, exit.CodeOf(err))
	}
	gone, err := n.DeleteToken(ctx, "0f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1")
	if gone || exit.CodeOf(err) != exit.Auth {
		t.Fatalf("delete: gone=%v %v", gone, err)
	}
	if _, err := n.GetToken(ctx, "0f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1"); exit.CodeOf(err) != exit.Auth {
		t.Fatalf("get: %v", err)
	}
	var v bool
	if cache.Get(hs.URL, CacheKeyBodyCalls, &v) {
		t.Fatal("a failed login was cached as route evidence")
	}
	if _, known := n.BodyCalls(); known {
		t.Fatal("a failed login settled the body calls")
	}
}
