package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// VendorError is a server error body decoded by the platform's rules.
type VendorError struct {
	// Message is the human summary of the vendor's own fields.
	Message string
}

// ErrorDecoder turns a non-2xx body into a message; nil when the body is not
// the vendor's error shape.
type ErrorDecoder func(status int, body []byte) *VendorError

// APIError is a non-2xx answer.
type APIError struct {
	Operation string
	Method    string
	URL       string // redacted
	Status    int
	// Body is the vendor's JSON error body, verbatim (nil when not JSON).
	Body json.RawMessage
	// Message summarises the vendor's error fields, or the raw body.
	Message string
	// Code is the exit code for Status.
	Code int
	// Hint is advice printed after the error.
	Hint string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d %s", e.Operation, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		// The vendor's words: escaped so that they cannot move the cursor,
		// colour the terminal or start a line that looks like tokenctl's.
		b.WriteString(escape.Text(e.Message))
	}
	if e.Hint != "" {
		b.WriteString("\n")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ExitCode implements exit.Coder.
func (e *APIError) ExitCode() int { return e.Code }

// ErrorDetail implements exit.Detailer.
func (e *APIError) ErrorDetail() exit.Detail {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return exit.Detail{Operation: e.Operation, HTTPStatus: e.Status, Message: msg, Vendor: e.Body}
}

// StatusExitCode maps an HTTP status to tokenctl's exit code (DESIGN.md).
func StatusExitCode(status int, retryable map[int]bool) int {
	switch {
	case status == 401 || status == 403:
		return exit.Auth
	case status == 404:
		return exit.NotFound
	case status == 409 || status == 412 || status == 428:
		return exit.Conflict
	case retryable[status]:
		return exit.Unavailable
	default:
		return exit.Error
	}
}

// NetworkError is a failure to get any answer: refused, reset, timeout, TLS.
type NetworkError struct {
	Operation string
	Method    string
	URL       string // redacted
	Err       error
	Hint      string
}

func (e *NetworkError) Error() string {
	s := fmt.Sprintf("%s: %s %s: %v", e.Operation, e.Method, e.URL, e.Err)
	if e.Hint != "" {
		s += "\n" + e.Hint
	}
	return s
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ExitCode implements exit.Coder.
func (e *NetworkError) ExitCode() int { return exit.Network }

// ErrorDetail implements exit.Detailer.
func (e *NetworkError) ErrorDetail() exit.Detail {
	msg := e.Err.Error()
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return exit.Detail{Operation: e.Operation, Message: msg}
}

// connectionRefused reports a failure before anything was sent.
func connectionRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// flexInt decodes an integer that some servers send as a string (NSX has
// been seen sending "error_code": "269").
type flexInt struct {
	set bool
	s   string
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		f.set, f.s = true, n.String()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	f.set, f.s = true, s
	return nil
}

// vmwareError is the SSP Error and NSX ApiError shape (every field optional
// in NSX; error_code an integer, or a string on some NSX builds).
type vmwareError struct {
	ErrorCode     flexInt         `json:"error_code"`
	ModuleName    string          `json:"module_name"`
	ErrorMessage  string          `json:"error_message"`
	Details       string          `json:"details"`
	RelatedErrors []vmwareError   `json:"related_errors"`
	ErrorData     json.RawMessage `json:"error_data"`
}

func (v *vmwareError) summary() string {
	var parts []string
	if v.ErrorMessage != "" {
		parts = append(parts, v.ErrorMessage)
	}
	var meta []string
	if v.ErrorCode.set {
		meta = append(meta, "error_code "+v.ErrorCode.s)
	}
	if v.ModuleName != "" {
		meta = append(meta, "module "+v.ModuleName)
	}
	if len(meta) > 0 {
		parts = append(parts, "("+strings.Join(meta, ", ")+")")
	}
	if v.Details != "" {
		parts = append(parts, "details: "+v.Details)
	}
	for _, r := range v.RelatedErrors {
		parts = append(parts, "related: "+r.summary())
	}
	if len(v.ErrorData) > 0 && !bytes.Equal(v.ErrorData, []byte("null")) && !bytes.Equal(v.ErrorData, []byte("{}")) {
		parts = append(parts, "error_data: "+string(v.ErrorData))
	}
	return strings.Join(parts, " ")
}

// DecodeVMwareError decodes the SSP Error / NSX ApiError body.
func DecodeVMwareError(status int, body []byte) *VendorError {
	var v vmwareError
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	if v.ErrorMessage == "" && !v.ErrorCode.set && v.ModuleName == "" {
		return nil
	}
	return &VendorError{Message: v.summary()}
}
