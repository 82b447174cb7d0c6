package client

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzVendorErrors feeds arbitrary error bodies through the vendor error
// decoder and the client's error construction: no panic, a message for
// every decoded body, the vendor body passed on only as valid JSON, and
// registered secrets scrubbed from everything the user sees.
func FuzzVendorErrors(f *testing.F) {
	f.Add(404, []byte(`{"error_code":404,"module_name":"sensor","error_message":"not found","details":"d","related_errors":[{"error_code":"1"}]}`))
	f.Add(400, []byte(`{"error_code":"269","error_message":"bad s3cr3t-value-1"}`))
	f.Add(503, []byte(`{"error_data":{"x":1},"module_name":"m"}`))
	f.Add(500, []byte(`not json s3cr3t-value-1`))
	f.Add(429, []byte(`{"error_code":null,"related_errors":null}`))
	f.Add(409, []byte(`{"related_errors":[{"related_errors":[{"error_message":"deep"}]}]}`))
	const secret = "s3cr3t-value-1"
	c, err := New(Options{BaseURL: "https://ssp.invalid"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	c.Redactor().AddSecret(secret)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 400 + (status%100+100)%100
		}
		if ve := DecodeVMwareError(status, body); ve != nil && ve.Message == "" && json.Valid(body) {
			var probe map[string]any
			if json.Unmarshal(body, &probe) == nil && probe["error_message"] != nil && probe["error_message"] != "" {
				t.Fatalf("decoded without a message: %q", body)
			}
		}
		err := c.apiError(Call{Operation: "op", Method: "GET", Path: "/x/" + secret}, &Response{Status: status, Body: body})
		ae := err.(*APIError)
		d := ae.ErrorDetail()
		if len(d.Vendor) > 0 && !json.Valid(d.Vendor) {
			t.Fatalf("vendor body is not JSON: %q", d.Vendor)
		}
		out, _ := json.Marshal(d)
		for _, s := range []string{ae.Error(), string(out), ae.URL} {
			if strings.Contains(s, secret) {
				t.Fatalf("secret in %q", s)
			}
		}
		if ae.Code == 0 {
			t.Fatalf("status %d mapped to exit 0", status)
		}
	})
}
