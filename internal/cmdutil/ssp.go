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

// SSPOnly resolves the profile and rejects every platform but SSP (the
// sensor and baremetal nouns).
func (f *Factory) SSPOnly(cmd *cobra.Command) error {
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if p.Platform != config.SSP {
		return Unsupported(cmd, p.Platform, config.SSP)
	}
	return nil
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

// ShowSSP is the run of the single-object SSP reads (sensor get, status,
// signatures, baremetal get, status, summary ...): check the platform and
// -o, connect, fetch, print.
func (f *Factory) ShowSSP(cmd *cobra.Command, kind output.Kind, fetch func(ctx context.Context, sc *ssp.Client) (json.RawMessage, error)) error {
	if err := f.SSPOnly(cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(cmd)
	if err != nil {
		return err
	}
	raw, err := fetch(ctx, sc)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, kind)
}
