package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStrictDecodingOnlyForUserInput keeps strict JSON decoding (unknown
// fields are errors) where the input is the user's: manifests, the config
// file, and the sandbox, which plays the server judging a client's request.
// A decoder of server answers must accept fields the spec does not list
// (issue 16 item 14: a v2.0 SD-WAN profile's roles[] broke discovery).
func TestStrictDecodingOnlyForUserInput(t *testing.T) {
	allowed := map[string]bool{
		"internal/manifest/manifest.go":   true, // user manifests
		"internal/config/config.go":       true, // the user's config file
		"internal/reconcile/documents.go": true, // the user's apply/diff documents
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(path, ".") && path != "." || path == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		slash := filepath.ToSlash(path)
		if allowed[slash] || strings.HasPrefix(slash, "internal/sandbox/") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, strict := range []string{"DisallowUnknownFields", "ErrorUnused", "KnownFields(true)"} {
			if strings.Contains(string(data), strict) {
				t.Errorf("%s uses %s: strict decoding is for user input only; server answers must decode leniently", slash, strict)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
