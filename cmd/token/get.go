package token

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// GetOptions are `token get`'s inputs.
type GetOptions struct {
	cmdutil.Verb

	ID   string
	Type string
}

var getFlags = map[string][]string{
	"type": {config.SSP},
}

// NewCmdGet builds `token get`.
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one token (ssp, nsx, agent)",
		Long: `Show one token. "-" as ID reads it from stdin (typed at a terminal: asked with hidden
input).

ssp: ID is a token id (a UUID) or a display_name, looked up with one list scan: a name
with several tokens is refused (exit 2, listing them) unless exactly one of them is
AVAILABLE, which is then used; no match is exit 4. Without --type the id is looked up as a
sensor token, then as a baremetal token.

nsx: ID is the token itself; pass "-" and the token on stdin to keep it out of argv and
shell history. Shows the token's roles and user; the token is not printed back. Uses the
4.x retrieve call, or GET on managers without it.

agent: ID is the token's uuid (also a secret; "-" reads it from stdin), or its name, found
in the list.`,
		Example: `  tokenctl token get 366a0c3f-6a06-4c46-8de1-476ec7858c64 -o json
  tokenctl token get edge-01 -o manifest
  printf '%s\n' "$TOKEN" | tokenctl --profile nsx1 token get -`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, getRun),
	}
	cmd.Flags().StringVar(&opts.Type, "type", "", "ssp: sensor or baremetal (default: look the id up)")
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteTokenIDs)
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	return cmd
}

func getRun(opts *GetOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if err := cmdutil.OnlyFor(opts.Cmd, p.Platform, getFlags); err != nil {
		return err
	}
	switch p.Platform {
	case config.SSP:
		return getSSP(opts, p)
	case config.NSX:
		return getNSX(opts)
	case config.Agent:
		return getAgent(opts)
	default:
		return cmdutil.Unsupported(opts.Cmd, p.Platform, config.SSP, config.NSX, config.Agent)
	}
}

func getSSP(opts *GetOptions, p *config.Resolved) error {
	f := opts.Factory
	// Sensor and baremetal tokens print the same formats (-o manifest of a
	// baremetal token comes from its status).
	o, err := f.OutputFor(sensorTokenKind(), output.One)
	if err != nil {
		return err
	}
	typ, explicit, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	found, err := lookupSSPToken(ctx, f, sc, opts.ID, typ, explicit, getSSPToken)
	if err != nil {
		return err
	}
	kind := sspKind(found.typ)
	if o.Format == output.Manifest {
		raw := found.raw
		if found.typ == ssp.Baremetal {
			// A RegistrationToken has no manifest; its status has.
			if raw, err = sc.GetBaremetalTokenStatus(ctx, found.id); err != nil {
				return err
			}
		}
		return printManifestOf(f, o, raw, kind.Noun)
	}
	if found.typ == ssp.Baremetal && o.IsTable() {
		// A table shows the token's status, from one more call.
		st, err := sc.GetBaremetalTokenStatus(ctx, found.id)
		if err != nil {
			return err
		}
		var state baremetalState
		if err := json.Unmarshal(st, &state); err != nil {
			return fmt.Errorf("get baremetal registration token status %s: unexpected response (not the documented JSON): %w", found.id, err)
		}
		kind = baremetalTokenKind(map[string]baremetalState{found.id: state})
	}
	return f.Printer(o).Object(found.raw, kind)
}
