package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/output"
)

// Dynamic shell completion (cobra's ValidArgsFunction) of ids and profile
// names. Completion runs on every TAB, so it must be quick and quiet: it
// uses the current profile (with the --profile/--platform/--server already
// typed on the line), gives the server CompletionTimeout, never prompts (a
// profile whose password would have to be typed completes nothing), prints
// nothing on failure, and never offers file names instead.

// CompletionTimeout bounds everything one completion does on the network.
const CompletionTimeout = 2 * time.Second

// CompletionLimit bounds how many ids one completion fetches (one page of
// the SSP default page size).
const CompletionLimit = 1000

// secretIDPlatforms are the platforms whose ids are secrets: an NSX
// registration token and an agent uuid are the credential itself, so they
// are never listed on a terminal, in shell history or a completion cache.
var secretIDPlatforms = map[string]bool{config.NSX: true, config.Agent: true}

// ListCompletions lists the candidate values of one kind from the server,
// as cobra completions ("value\tdescription").
type ListCompletions func(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error)

// CompleteFromServer returns a ValidArgsFunction offering what list finds
// on the current profile's server, for profiles of the given platforms only
// (never for platforms whose ids are secrets). Values already on the line
// and values not starting with what was typed are left out.
func (f *Factory) CompleteFromServer(platforms []string, list ListCompletions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		comps, err := f.completeFromServer(cmd, platforms, list)
		if err != nil {
			cobra.CompDebugln("tokenctl: completion: "+err.Error(), true)
			return nil, none
		}
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		var out []cobra.Completion
		for _, c := range comps {
			value, _, _ := strings.Cut(c, "\t")
			if strings.HasPrefix(value, toComplete) && !given[value] {
				out = append(out, c)
			}
		}
		return out, none
	}
}

func (f *Factory) completeFromServer(cmd *cobra.Command, platforms []string, list ListCompletions) ([]cobra.Completion, error) {
	// A completion never asks anything: the shell is waiting.
	f.IOStreams.NoInput = true
	f.completing = true
	p, err := f.Profile()
	if err != nil {
		return nil, err
	}
	if secretIDPlatforms[p.Platform] || !contains(platforms, p.Platform) {
		return nil, nil
	}
	// Every wait below honours ctx (HTTP calls, a password_command) or is
	// bounded by CompletionTimeout itself (the built-in sandbox's state lock).
	ctx, cancel := context.WithTimeout(Context(cmd), CompletionTimeout)
	defer cancel()
	c, rp, err := f.APIClient(ctx)
	if err != nil {
		return nil, err
	}
	return list(ctx, c, rp, cmd)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FirstArg completes only the first positional argument (verbs that take
// one ID).
func FirstArg(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

// CompleteTokenIDs completes registration token ids: on ssp the sensor
// tokens, then the baremetal tokens (only one type when the command's
// --type or the profile's token_type names it), described by display name
// and status, and their display names, which token verbs take as IDs. NSX
// tokens and agent uuids are secrets and never completed.
func (f *Factory) CompleteTokenIDs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return f.CompleteFromServer([]string{config.SSP}, listSSPTokenIDs)(cmd, args, toComplete)
}

func listSSPTokenIDs(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error) {
	typ := p.TokenType
	if fl := cmd.Flags().Lookup("type"); fl != nil && fl.Changed {
		typ = fl.Value.String()
	}
	lists := []struct{ typ, op, path string }{
		{"sensor", "list sensor registration tokens", "/sensors/registration-tokens"},
		{"baremetal", "list baremetal registration tokens", "/baremetal/registration-tokens"},
	}
	var out []cobra.Completion
	for _, l := range lists {
		if typ != "" && typ != l.typ {
			continue
		}
		comps, err := listIDs(ctx, c, l.op, l.path, true, func(it output.Item) string {
			return describe(it.String("display_name"), l.typ, it.String("status"))
		})
		if err != nil {
			return out, err
		}
		out = append(out, comps...)
	}
	return out, nil
}

// CompleteSensorIDs completes SSP sensor (appliance) ids, described by
// display name, and the display names, which the sensor verbs take as IDs.
func (f *Factory) CompleteSensorIDs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return f.completeSensors(true)(cmd, args, toComplete)
}

// CompleteSensorIDsOnly completes sensor ids alone (features set, which
// takes no names).
func (f *Factory) CompleteSensorIDsOnly(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return f.completeSensors(false)(cmd, args, toComplete)
}

func (f *Factory) completeSensors(names bool) cobra.CompletionFunc {
	return f.CompleteFromServer([]string{config.SSP}, func(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error) {
		return listIDs(ctx, c, "list sensors", "/sensors/appliances", names, func(it output.Item) string {
			return it.String("display_name")
		})
	})
}

// CompleteBaremetalServerIDs completes SSP baremetal server ids, described
// by display name and state, and their display names, which the baremetal
// verbs take as IDs.
func (f *Factory) CompleteBaremetalServerIDs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return f.CompleteFromServer([]string{config.SSP}, func(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error) {
		return listIDs(ctx, c, "list baremetal servers", "/baremetal/servers", true, func(it output.Item) string {
			return describe(it.String("display_name"), it.String("state"))
		})
	})(cmd, args, toComplete)
}

// listIDs reads one SSP list page (at most CompletionLimit items) and
// offers each id, described, and with withNames each display_name (names
// are IDs too, DESIGN.md): a name described by its id, or by how many
// objects share it.
func listIDs(ctx context.Context, c *client.Client, op, path string, withNames bool, desc func(output.Item) string) ([]cobra.Completion, error) {
	var out []cobra.Completion
	var names []string
	idOf := map[string]string{}
	count := map[string]int{}
	call := client.Call{Operation: op, Method: http.MethodGet, Path: path}
	_, err := c.ListOffset(ctx, call, "results", client.Pager{Limit: CompletionLimit}, func(raw json.RawMessage) error {
		it, err := output.ParseItem(raw)
		if err != nil {
			return err
		}
		id := it.String("id")
		if id == "" || escape.Text(id) != id {
			return nil // nothing to offer, or nothing a shell line may hold
		}
		// Descriptions are server text shown by the shell: escaped, as in
		// tables.
		out = append(out, cobra.CompletionWithDesc(id, escape.Text(desc(it))))
		// A name that looks like an id, or has blanks (which shells split)
		// or other control characters, is not offered: it could not be
		// typed back as one argument, and its raw bytes would land on the
		// command line.
		if name := it.String("display_name"); withNames && name != "" && !UUIDShape().MatchString(name) && !strings.Contains(name, " ") && escape.Text(name) == name {
			if count[name] == 0 {
				names = append(names, name)
				idOf[name] = id
			}
			count[name]++
		}
		return nil
	})
	for _, name := range names {
		d := idOf[name]
		if count[name] > 1 {
			d = fmt.Sprintf("name of %d", count[name])
		}
		out = append(out, cobra.CompletionWithDesc(name, d))
	}
	return out, err
}

func describe(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ", ")
}

// CompleteProfiles completes profile names from the config file, and the
// built-in "sandbox". It reads only the config file: no network.
func (f *Factory) CompleteProfiles(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	if cf, err := f.Config(); err == nil {
		for _, name := range cf.Names() {
			p := cf.Profiles[name]
			if strings.HasPrefix(name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(name, describe(p.Platform, p.Server)))
			}
		}
	}
	if strings.HasPrefix(config.SandboxProfile, toComplete) {
		out = append(out, cobra.CompletionWithDesc(config.SandboxProfile, "built-in emulator"))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// CompleteSavedProfiles is CompleteProfiles without the built-in sandbox
// (profile delete, which cannot delete it).
func (f *Factory) CompleteSavedProfiles(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	comps, dir := f.CompleteProfiles(cmd, args, toComplete)
	out := comps[:0]
	for _, c := range comps {
		if v, _, _ := strings.Cut(c, "\t"); v != config.SandboxProfile {
			out = append(out, c)
		}
	}
	return out, dir
}

// FixedValues completes a flag or argument from a fixed set.
func FixedValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// CompleteFlag registers a flag's value completion; the flag must exist
// (a typo is a programming error caught by the tests that build the tree).
func CompleteFlag(cmd *cobra.Command, flag string, fn cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(flag, fn); err != nil {
		panic(err)
	}
}
