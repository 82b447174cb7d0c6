package cmdutil

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokenctl/tokenctl/internal/suggest"
)

// SuggestFlags returns the flags of cmd (its own and the inherited global
// ones) that a mistyped --name probably meant: within an edit distance of
// 2 (1 for short names), or a flag that starts with what was typed.
func SuggestFlags(cmd *cobra.Command, typed string) []string {
	typed = strings.TrimLeft(typed, "-")
	if name, _, ok := strings.Cut(typed, "="); ok {
		typed = name
	}
	if typed == "" {
		return nil
	}
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	seen := map[string]bool{}
	visit := func(fl *pflag.Flag) {
		if fl.Hidden || seen[fl.Name] {
			return
		}
		seen[fl.Name] = true
		d := suggest.Distance(strings.ToLower(typed), fl.Name)
		limit := 2
		if len(typed) <= 3 {
			limit = 1
		}
		switch {
		case d <= limit:
			cands = append(cands, cand{fl.Name, d})
		case len(typed) >= 3 && strings.HasPrefix(fl.Name, typed):
			cands = append(cands, cand{fl.Name, limit + 1})
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for i, c := range cands {
		if i == 3 {
			break
		}
		out = append(out, "--"+c.name)
	}
	return out
}

// unknownFlag extracts the flag name of pflag's "unknown flag: --name".
func unknownFlag(err error) (string, bool) {
	const prefix = "unknown flag: "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	return strings.TrimPrefix(msg, prefix), true
}
