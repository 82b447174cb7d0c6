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
	// MayHaveActed is set when the call was a change that the server may
	// have carried out before failing (a 502, 503 or 504 to a create).
	MayHaveActed bool
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
	// MayHaveActed is set when the call was a change that may have
	// reached the server (anything but a refused connection).
	MayHaveActed bool
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

// InterruptedError is a call cut short by Ctrl-C (or SIGTERM, SIGHUP).
type InterruptedError struct {
	Operation string
	// MayHaveActed is set for a change, which may have reached the server
	// before the interrupt.
	MayHaveActed bool
}

func (e *InterruptedError) Error() string {
	if e.MayHaveActed {
		return e.Operation + ": interrupted\n" + lookBeforeRetry
	}
	return e.Operation + ": interrupted"
}

// ExitCode implements exit.Coder.
func (e *InterruptedError) ExitCode() int { return exit.Interrupted }

// ErrorDetail implements exit.Detailer.
func (e *InterruptedError) ErrorDetail() exit.Detail {
	msg := "interrupted"
	if e.MayHaveActed {
		msg += " (" + lookBeforeRetry + ")"
	}
	return exit.Detail{Operation: e.Operation, Message: msg}
}

// UnknownOutcomeError is a change the server answered with 2xx whose body
// could not be read: the server most likely carried it out, but tokenctl
// cannot show the result (the new object's id, its one-time secret). It is
// not a plain failure: running the change again may make a second object,
// so the advice is to look first. Exit 7, like a connection lost after the
// request was sent.
type UnknownOutcomeError struct {
	Operation string
	Status    int
	// Reason says what was wrong with the answer.
	Reason string
	// LookFor names what to look for, e.g. `a sensor registration token
	// with display_name "edge-01" (tokenctl token list --display-name edge-01)`.
	LookFor string
	// Advice replaces the advice to look (NSX, which has nothing to look
	// with).
	Advice string
}

// UnreadableAnswer returns the error of a change answered with 2xx and a
// body that cannot be read.
func UnreadableAnswer(op string, status int, reason string) *UnknownOutcomeError {
	return &UnknownOutcomeError{Operation: op, Status: status, Reason: reason}
}

func (e *UnknownOutcomeError) Error() string {
	s := fmt.Sprintf("%s: outcome unknown: HTTP %d %s, but the answer could not be read (%s)", e.Operation, e.Status, http.StatusText(e.Status), e.Reason)
	return s + "\n" + e.advice()
}

func (e *UnknownOutcomeError) advice() string {
	if e.Advice != "" {
		return e.Advice
	}
	if e.LookFor == "" {
		return "the server has probably carried out the request: " + strings.TrimPrefix(lookBeforeRetry, "the server may have carried out the request before the failure: ")
	}
	return "the server has probably carried out the request: before running it again, look for " + e.LookFor
}

// ExitCode implements exit.Coder.
func (e *UnknownOutcomeError) ExitCode() int { return exit.Network }

// ErrorDetail implements exit.Detailer.
func (e *UnknownOutcomeError) ErrorDetail() exit.Detail {
	return exit.Detail{Operation: e.Operation, HTTPStatus: e.Status,
		Message: fmt.Sprintf("outcome unknown: the answer could not be read (%s); %s", e.Reason, e.advice())}
}

// OutcomeUnknown reports whether err is the failure of a change that the
// server may nevertheless have carried out: an unreadable 2xx answer, a 502,
// 503 or 504, a connection lost after sending, or an interrupt while the
// request was in flight. Such a change must not simply be sent again.
func OutcomeUnknown(err error) bool {
	var uo *UnknownOutcomeError
	var ae *APIError
	var ne *NetworkError
	var ie *InterruptedError
	switch {
	case errors.As(err, &uo):
		return true
	case errors.As(err, &ae):
		return ae.MayHaveActed
	case errors.As(err, &ne):
		return ne.MayHaveActed
	case errors.As(err, &ie):
		return ie.MayHaveActed
	}
	return false
}

// LookFor adds to an unknown outcome what to look for before trying again
// (a create's display_name); other errors are returned as they are.
func LookFor(err error, what string) error {
	if what == "" || !OutcomeUnknown(err) {
		return err
	}
	var uo *UnknownOutcomeError
	if errors.As(err, &uo) {
		uo.LookFor = what
		return err
	}
	return &lookForError{err: err, what: what}
}

type lookForError struct {
	err  error
	what string
}

func (e *lookForError) Error() string { return e.err.Error() + "\nlook for " + e.what }
func (e *lookForError) Unwrap() error { return e.err }

// ErrorDetail implements exit.Detailer.
func (e *lookForError) ErrorDetail() exit.Detail {
	d := exit.DetailOf(e.err)
	d.Message += "; look for " + e.what
	return d
}
