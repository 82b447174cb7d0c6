package cmdutil

import (
	"context"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// TestResolveIDs covers the rule of DESIGN.md (names as IDs) with a fake
// list: ids pass without a scan, all names share one scan, one match is
// used, a pool name picks its only AVAILABLE token, several matches are
// exit 2 listing them (masked when ids are secrets), none is exit 4.
func TestResolveIDs(t *testing.T) {
	const (
		idA = "11111111-1111-4111-8111-111111111111"
		idB = "22222222-2222-4222-8222-222222222222"
		idC = "33333333-3333-4333-8333-333333333333"
		idD = "44444444-4444-4444-8444-444444444444"
	)
	listed := []Named{
		{ID: idA, Name: "edge", Status: "AVAILABLE"},
		{ID: idB, Name: "pool", Status: "EXPIRED"},
		{ID: idC, Name: "pool", Status: "AVAILABLE"},
		{ID: idD, Name: "twin", Status: "AVAILABLE"},
		{ID: "55555555-5555-4555-8555-555555555555", Name: "twin", Status: "AVAILABLE"},
	}
	scans := 0
	lookup := NameLookup{Noun: "token", Scan: func(_ context.Context, names []string, add func(Named)) error {
		scans++
		for _, n := range listed {
			add(n)
		}
		return nil
	}}
	ios, _, _, stderr := iostreams.Test()
	f := NewFactory(ios, BuildInfo{})
	ctx := context.Background()

	ns, err := f.ResolveIDs(ctx, []string{idB, "edge", "pool", "edge"}, lookup)
	if err != nil || scans != 1 {
		t.Fatalf("err %v after %d scans, want one scan", err, scans)
	}
	if got := strings.Join(IDsOf(ns), ","); got != strings.Join([]string{idB, idA, idC, idA}, ",") {
		t.Errorf("ids %s", got)
	}
	if !strings.Contains(stderr.String(), `"pool" names 2 tokens; using the only AVAILABLE one, `+idC) {
		t.Errorf("no pool notice: %q", stderr)
	}

	scans = 0
	if _, err := f.ResolveIDs(ctx, []string{idD}, lookup); err != nil || scans != 0 {
		t.Errorf("an id: err %v, %d scans", err, scans)
	}

	_, err = f.ResolveIDs(ctx, []string{"twin", "nobody"}, lookup)
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), `"twin" names 2 tokens`) || !strings.Contains(err.Error(), idD) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("ambiguous and missing: %v", err)
	}
	_, err = f.ResolveIDs(ctx, []string{"nobody"}, lookup)
	if exit.CodeOf(err) != exit.NotFound {
		t.Errorf("missing: %v, want exit 4", err)
	}

	secret := lookup
	secret.Secret = true
	_, err = f.ResolveIDs(ctx, []string{"twin"}, secret)
	if err == nil || strings.Contains(err.Error(), idD) {
		t.Errorf("secret ids shown: %v", err)
	}
}
