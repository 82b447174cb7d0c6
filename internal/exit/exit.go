// Package exit holds tokenctl's exit codes and the error types that carry
// them. Main maps any error to a code in one place, with CodeOf.
package exit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Exit codes: the contract with scripts (DESIGN.md, Exit codes).
const (
	OK          = 0
	Error       = 1   // server 400/405/422, 5xx not retried, unexpected response
	Usage       = 2   // usage or local validation error; nothing was sent
	Auth        = 3   // 401, 403
	NotFound    = 4   // 404
	Conflict    = 5   // 409, 412, 428, or a token EXPIRED/USED where a live one is needed
	Unavailable = 6   // 429, 502, 503, 504 after retries
	Network     = 7   // refused, timeout, TLS, thumbprint mismatch
	Partial     = 8   // some items of a batch failed
	Differences = 9   // diff, apply --dry-run: the server is not yet as the documents say
	Timeout     = 124 // timed out waiting (token wait, --wait) before the condition held
	Interrupted = 130 // Ctrl-C
)

// Coder is an error that knows its exit code.
type Coder interface {
	error
	ExitCode() int
}

// CodeOf maps an error to its exit code.
func CodeOf(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Error
}

// Detail is the machine-readable form of an error, printed on stderr as
// {"error": Detail} when the output format is json or yaml.
type Detail struct {
	Operation  string          `json:"operation,omitempty"`
	HTTPStatus int             `json:"http_status,omitempty"`
	ExitCode   int             `json:"exit_code"`
	Message    string          `json:"message"`
	Vendor     json.RawMessage `json:"vendor,omitempty"`
}

// Detailer is an error that can describe itself as a Detail.
type Detailer interface {
	ErrorDetail() Detail
}

// DetailOf describes any error.
func DetailOf(err error) Detail {
	var d Detailer
	if errors.As(err, &d) {
		det := d.ErrorDetail()
		det.ExitCode = CodeOf(err)
		return det
	}
	return Detail{ExitCode: CodeOf(err), Message: err.Error()}
}

// UsageError is a mistake in the command line or input: exit 2, nothing sent.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// ExitCode implements Coder.
func (e *UsageError) ExitCode() int { return Usage }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Problem is one validation failure: the field (or flag) and the rule.
type Problem struct {
	Source string // document, e.g. "host.yaml#2"; "" for flags
	Field  string // vendor field name or flag, e.g. "passphrase" or "--role"
	Rule   string // what is wrong, e.g. "must be 15 to 128 characters"
}

func (p Problem) String() string {
	s := p.Field + ": " + p.Rule
	if p.Source != "" {
		s = p.Source + ": " + s
	}
	return s
}

// ValidationError lists every problem found before sending anything: exit 2.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid input: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid input (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ExitCode implements Coder.
func (e *ValidationError) ExitCode() int { return Usage }

// Problems returns a *ValidationError, or nil when ps is empty.
func Problems(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// CodedError is an error with an explicit exit code.
type CodedError struct {
	Code int
	Err  error
}

func (e *CodedError) Error() string { return e.Err.Error() }
func (e *CodedError) Unwrap() error { return e.Err }

// ExitCode implements Coder.
func (e *CodedError) ExitCode() int { return e.Code }

// WithCode wraps err with an exit code.
func WithCode(code int, err error) error { return &CodedError{Code: code, Err: err} }

// Errorf formats an error with an exit code.
func Errorf(code int, format string, args ...any) error {
	return &CodedError{Code: code, Err: fmt.Errorf(format, args...)}
}

// SilentError ends the command with a code after the command already told
// the user what happened (e.g. per-item results of a batch).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode implements Coder.
func (e *SilentError) ExitCode() int { return e.Code }

// ErrPartial is the error of a batch where some items failed and some
// succeeded; the per-item results were printed already.
var ErrPartial error = &SilentError{Code: Partial}
