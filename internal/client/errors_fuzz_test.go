package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

type answer func(*http.Request) (*http.Response, error)

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) { return a(r) }

// FuzzVendorErrors sends arbitrary error answers through a client with each
// platform's error decoder (SSP/NSX, SD-WAN, agent-config): no panic, an
// API error with a non-zero exit code, the vendor body passed on only as
// valid JSON, and a registered secret scrubbed from all the user sees.
func FuzzVendorErrors(f *testing.F) {
	f.Add(404, []byte(`{"error_code":404,"module_name":"sensor","error_message":"not found","details":"d","related_errors":[{"error_code":"1"}]}`))
	f.Add(400, []byte(`{"error_code":"269","error_message":"bad s3cr3t-value-1"}`))
	f.Add(503, []byte(`{"error_data":{"x":1},"module_name":"m"}`))
	f.Add(500, []byte(`not json s3cr3t-value-1`))
	f.Add(409, []byte(`{"related_errors":[{"related_errors":[{"error_message":"deep"}]}]}`))
	f.Add(400, []byte(`{"_error":[{"code":"INVALID_ROLE","message":"no s3cr3t-value-1"}]}`))
	f.Add(400, []byte(`{"value":{"_error":[{"code":"X"},{"message":"m"}]}}`))
	f.Add(413, []byte(`{"_error":null,"value":{"value":{}}}`))
	f.Add(404, []byte(`{"message":"Agent s3cr3t-value-1 not found","status-code":404}`))
	f.Add(405, []byte(`<html><body>Method Not Allowed</body></html>`))
	const secret = "s3cr3t-value-1"
	decoders := []client.ErrorDecoder{nil, sdwan.DecodeError, agent.DecodeError}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 300 || status > 599 {
			status = 400 + (status%100+100)%100
		}
		for _, dec := range decoders {
			c, err := client.New(client.Options{
				BaseURL:       "https://vendor.invalid",
				DecodeError:   dec,
				RetryBaseWait: time.Nanosecond,
				Transport: answer(func(r *http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
				}),
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Redactor().AddSecret(secret)
			_, err = c.Do(context.Background(), client.Call{Operation: "op", Method: http.MethodGet, Path: "/x/" + secret})
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("status %d: %v is not an API error", status, err)
			}
			if exit.CodeOf(err) == 0 {
				t.Fatalf("status %d mapped to exit 0", status)
			}
			d := exit.DetailOf(err)
			if len(d.Vendor) > 0 && !json.Valid(d.Vendor) {
				t.Fatalf("vendor body is not JSON: %q", d.Vendor)
			}
			out, _ := json.Marshal(d)
			for _, s := range []string{err.Error(), string(out)} {
				if strings.Contains(s, secret) {
					t.Fatalf("secret in %q", s)
				}
			}
		}
	})
}
