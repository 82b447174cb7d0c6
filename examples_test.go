package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/reconcile"
	"github.com/tokenctl/tokenctl/internal/sdwan"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// examplePassphrase stands in for --passphrase-file: the examples carry no
// passphrase on purpose.
const examplePassphrase = "Example-Passphrase-2026!"

// exampleCheck decodes one document of an example with the request type of
// the command that reads it, applies what the documented flags would add,
// and validates it with the command's own rules.
type exampleCheck func(doc manifest.Document) []exit.Problem

var exampleChecks = map[string]struct {
	docs  int
	check exampleCheck
}{
	"ssp-sensor-token.yaml":             {1, checkSSPSensorToken},
	"ssp-bulk-tokens.yaml":              {3, checkSSPSensorToken},
	"ssp-baremetal-token.yaml":          {1, checkSSPBaremetalToken},
	"agent-token.yaml":                  {1, checkAgentToken},
	"sdwan-authtoken-custom-roles.yaml": {1, checkSDWANAuthToken},
	"apply-sensor-token.yaml":           {1, checkApply(reconcile.KindSensorToken)},
	"apply-baremetal-token.yaml":        {1, checkApply(reconcile.KindBaremetalToken)},
	"apply-agent-token.yaml":            {1, checkApply(reconcile.KindAgentToken)},
	"apply-sensor-features.yaml":        {1, checkApply(reconcile.KindSensorFeatures)},
	"apply-mps-config.yaml":             {1, checkApply(reconcile.KindMPSConfig)},
}

// checkApply validates a document of `tokenctl apply` with apply's own
// rules (passphrases read from any variable, as an exported one would give
// them) and requires its kind.
func checkApply(kind string) exampleCheck {
	return func(doc manifest.Document) []exit.Problem {
		platform := config.SSP
		if kind == reconcile.KindAgentToken {
			platform = config.Agent
		}
		ps := applyProblems([]reconcile.Input{{Document: doc}}, platform)
		if raw, _ := doc.JSON(); !strings.Contains(string(raw), `"kind":"`+kind+`"`) {
			ps = append(ps, exit.Problem{Source: doc.Source, Field: "kind", Rule: "the example is about " + kind})
		}
		return ps
	}
}

// applyProblems parses documents as apply does, and refuses inline
// passphrases: examples show passphrase_env or passphrase_file.
func applyProblems(in []reconcile.Input, platform string) []exit.Problem {
	set, err := reconcile.Parse(in, reconcile.ParseOptions{Platform: platform, Secrets: true,
		LookupEnv: func(string) (string, bool) { return examplePassphrase, true }})
	var ve *exit.ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	if err != nil {
		return []exit.Problem{{Rule: err.Error()}}
	}
	if len(set.Warnings) > 0 {
		return []exit.Problem{{Rule: strings.Join(set.Warnings, "; ")}}
	}
	return nil
}

// TestExamplesApplyDirectory: examples/apply/ is read as -f DIR reads it
// and every document is valid.
func TestExamplesApplyDirectory(t *testing.T) {
	in, err := reconcile.Read(filepath.Join("examples", "apply"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) < 3 {
		t.Fatalf("examples/apply has %d documents; it should show several files and kinds", len(in))
	}
	if ps := applyProblems(in, config.SSP); len(ps) > 0 {
		t.Fatal(exit.Problems(ps))
	}
}

func checkSSPSensorToken(doc manifest.Document) []exit.Problem {
	var req ssp.SensorTokenRequest
	if ps := doc.Decode(&req); len(ps) > 0 {
		return ps
	}
	if req.Passphrase != "" {
		return []exit.Problem{{Source: doc.Source, Field: "passphrase", Rule: "examples must not carry a passphrase"}}
	}
	req.Passphrase = examplePassphrase
	return req.Validate(doc.Source)
}

func checkSSPBaremetalToken(doc manifest.Document) []exit.Problem {
	var req ssp.BaremetalTokenRequest
	if ps := doc.Decode(&req); len(ps) > 0 {
		return ps
	}
	if req.Passphrase != "" {
		return []exit.Problem{{Source: doc.Source, Field: "passphrase", Rule: "examples must not carry a passphrase"}}
	}
	req.Passphrase = examplePassphrase
	return req.Validate(doc.Source)
}

func checkAgentToken(doc manifest.Document) []exit.Problem {
	var req agent.TokenRequest
	if ps := doc.Decode(&req); len(ps) > 0 {
		return ps
	}
	return req.Validate(doc.Source)
}

// checkSDWANAuthToken validates against both API generations, as
// `--expires 30d` would complete the request.
func checkSDWANAuthToken(doc manifest.Document) []exit.Problem {
	var req sdwan.AuthTokenRequest
	if ps := doc.Decode(&req); len(ps) > 0 {
		return ps
	}
	if req.ExpiresUTCMs != nil {
		return []exit.Problem{{Source: doc.Source, Field: "expires_utc_ms", Rule: "examples leave the expiry to --expires, so that they do not go stale"}}
	}
	now := time.Now()
	expires := now.Add(30 * 24 * time.Hour).UnixMilli()
	req.ExpiresUTCMs = &expires
	var ps []exit.Problem
	for _, gen := range []string{sdwan.Legacy, sdwan.Unified} {
		api, err := sdwan.ResolveAPI(gen, "", "")
		if err != nil {
			return []exit.Problem{{Source: doc.Source, Rule: err.Error()}}
		}
		ps = append(ps, req.Validate(doc.Source, api, now)...)
	}
	if len(req.CustomRoles) == 0 {
		ps = append(ps, exit.Problem{Source: doc.Source, Field: "custom_roles", Rule: "the example is about custom roles"})
	}
	return ps
}

// TestExamples decodes and validates every manifest in examples/ with the
// request types the create commands use; testdata/script/examples.txtar
// creates the SSP ones against a sandbox.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name := range exampleChecks {
		if !slices.Contains(names, name) {
			t.Errorf("examples/%s is missing", name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c, ok := exampleChecks[name]
			if !ok {
				t.Fatalf("examples/%s has no check: add one to exampleChecks", name)
			}
			docs, err := manifest.Read(filepath.Join("examples", name), strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != c.docs {
				t.Fatalf("%d documents, want %d", len(docs), c.docs)
			}
			for _, d := range docs {
				if ps := c.check(d); len(ps) > 0 {
					t.Errorf("%v", exit.Problems(ps))
				}
			}
			data, err := os.ReadFile(filepath.Join("examples", name))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# ") || !strings.Contains(string(data), "tokenctl ") {
				t.Errorf("examples/%s should start with a comment showing the command that uses it", name)
			}
		})
	}
}
