package sandbox

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// A client that sends its body slowly starves nobody: bodies are read
// before any handler takes the emulators' shared lock (the SD-WAN legacy
// routes take it before reading), and one that does not arrive within
// BodyTimeout is answered 408 (issue 16, Sandbox).
func TestSlowBodyStarvesNoOne(t *testing.T) {
	s, url := startServer(t, Options{BodyTimeout: time.Minute})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	path := fmt.Sprintf("/v2.1/api/tenants/%s/operators/%s/authtokens", sdwan.TenantID, sdwan.OperatorID)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"roles\":", path, sdwan.StaticAuthToken)
	// Wait until the slow request is inside the server (counted), then
	// make another client's call: it must be served meanwhile.
	for deadline := time.Now().Add(10 * time.Second); s.Requests() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never arrived")
		}
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/sensors/appliances?page_size=1", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(sim.AdminUser+":"+sim.DefaultPassword)))
	hc := &http.Client{Timeout: 20 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("another client was starved by a slow body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another client: HTTP %d", resp.StatusCode)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	_, url := startServer(t, Options{BodyTimeout: 50 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /sensors/registration-tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("HTTP %d, want 408", resp.StatusCode)
	}
}

// Only loopback Host headers are served: a DNS-rebinding page's requests
// carry its own host name (issue 16, Sandbox).
func TestOnlyLoopbackHosts(t *testing.T) {
	_, url := startServer(t, Options{})
	port := url[strings.LastIndex(url, ":")+1:]
	for host, want := range map[string]int{
		"127.0.0.1:" + port:           200,
		"localhost:" + port:           200,
		"LOCALHOST":                   200,
		"[::1]:" + port:               200,
		"127.1.2.3":                   200,
		"attacker.example:" + port:    http.StatusMisdirectedRequest,
		"127.0.0.1.nip.io:" + port:    http.StatusMisdirectedRequest,
		"192.168.1.10:" + port:        http.StatusMisdirectedRequest,
		"localhost.attacker.example:": http.StatusMisdirectedRequest,
	} {
		req, _ := http.NewRequest(http.MethodGet, url+"/_sandbox/info", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: HTTP %d, want %d", host, resp.StatusCode, want)
		}
	}
}
