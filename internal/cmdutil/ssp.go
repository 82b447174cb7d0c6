package cmdutil

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ProfileOn resolves the profile and rejects every platform but platform
// (a verb that exists on one platform only: exit 2).
func (f *Factory) ProfileOn(cmd *cobra.Command, platform string) (*config.Resolved, error) {
	p, err := f.Profile()
	if err != nil {
		return nil, err
	}
	if p.Platform != platform {
		return nil, Unsupported(cmd, p.Platform, platform)
	}
	return p, nil
}

// SSPOnly resolves the profile and rejects every platform but SSP (the
// sensor and baremetal nouns).
func (f *Factory) SSPOnly(cmd *cobra.Command) error {
	_, err := f.ProfileOn(cmd, config.SSP)
	return err
}

// SSPClient connects the profile (starting the built-in sandbox if needed)
// and returns the command's context with the SSP client.
func (f *Factory) SSPClient(cmd *cobra.Command) (context.Context, *ssp.Client, error) {
	ctx := Context(cmd)
	c, _, err := f.APIClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ctx, ssp.New(c), nil
}

// OneID reads the single ID argument ("-" reads it from stdin).
func (f *Factory) OneID(cmd *cobra.Command, args []string) (string, error) {
	ids, err := f.ReadIDs(args)
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", exit.Usagef("%s takes one ID; stdin had %d", cmd.CommandPath(), len(ids))
	}
	return ids[0], nil
}

// ShowSSP is the run of the SSP reads of one object that take no ID
// (baremetal summary, sensor mps get): check the platform and -o, connect,
// read the object with one of the client's calls (a method expression:
// (*ssp.Client).GetMPSGlobal), print.
func (f *Factory) ShowSSP(cmd *cobra.Command, kind output.Kind, get func(sc *ssp.Client, ctx context.Context) (json.RawMessage, error)) error {
	return f.showSSP(cmd, kind, nil, func(ctx context.Context, sc *ssp.Client, _ bool) (json.RawMessage, error) {
		return get(sc, ctx)
	})
}

// SSPFetch reads one SSP object by id; table is true when the object is
// printed as a table, which may want fields from another call joined in.
type SSPFetch func(ctx context.Context, sc *ssp.Client, id string, table bool) (json.RawMessage, error)

// SSPGet turns one of the client's reads by id into an SSPFetch (the same
// call whatever the format): SSPGet((*ssp.Client).GetSensor).
func SSPGet(get func(sc *ssp.Client, ctx context.Context, id string) (json.RawMessage, error)) SSPFetch {
	return func(ctx context.Context, sc *ssp.Client, id string, _ bool) (json.RawMessage, error) {
		return get(sc, ctx, id)
	}
}

// ShowSSPByID is the run of the SSP reads of one object given by id or
// name (sensor get, status, signatures, features; baremetal get, status):
// check the platform, -o and problems (the argument's, found before
// anything is sent), connect, resolve a name with the lookup, fetch by id,
// print.
func (f *Factory) ShowSSPByID(cmd *cobra.Command, kind output.Kind, arg string, problems []exit.Problem, lookup func(sc *ssp.Client) NameLookup, fetch SSPFetch) error {
	return f.showSSP(cmd, kind, problems, func(ctx context.Context, sc *ssp.Client, table bool) (json.RawMessage, error) {
		n, err := f.ResolveID(ctx, arg, lookup(sc))
		if err != nil {
			return nil, err
		}
		return fetch(ctx, sc, n.ID, table)
	})
}

func (f *Factory) showSSP(cmd *cobra.Command, kind output.Kind, problems []exit.Problem, fetch func(ctx context.Context, sc *ssp.Client, table bool) (json.RawMessage, error)) error {
	if err := f.SSPOnly(cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return err
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(cmd)
	if err != nil {
		return err
	}
	raw, err := fetch(ctx, sc, o.IsTable())
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, kind)
}
