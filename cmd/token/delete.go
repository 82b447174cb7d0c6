package token

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// DeleteOptions are `token delete`'s inputs.
type DeleteOptions struct {
	cmdutil.Verb

	IDs         []string
	Type        string
	Concurrency int
}

var deleteFlags = map[string][]string{
	"type": {config.SSP},
}

// NewCmdDelete builds `token delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "delete ID... --yes",
		Aliases: []string{"rm"},
		Short:   "Delete tokens (ssp, nsx; agent explains its alternative)",
		Long: `Delete tokens by id, or by name (ssp: display_name; agent: name; see "token get" for how
a name is looked up). Asks for confirmation on a terminal; elsewhere --yes is required.
An id that is already gone counts as deleted (the vendors' deletes are idempotent).
"-" reads ids from stdin, one per line; an empty stdin deletes nothing and exits 0, so
"... -o id | tokenctl token delete - --yes" is safe when the list is empty.

ssp: without --type, each id is looked up as a sensor token, then as a baremetal token.

nsx: each ID is a token; "-" reads them from stdin. Uses the 4.x delete call, or DELETE
on managers without it.

agent: tries DELETE, which the plugin does not document; a server without it is told so,
with the alternative: tokenctl token update UUID --read=false --change=false.`,
		Example: `  tokenctl token delete 366a0c3f-6a06-4c46-8de1-476ec7858c64 --yes
  tokenctl token list --status EXPIRED -o id | tokenctl token delete - --yes`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.IDs, runF, deleteRun),
	}
	cmd.Flags().StringVar(&opts.Type, "type", "", "ssp: sensor or baremetal (default: look the id up)")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many deletes run at once")
	cmd.ValidArgsFunction = f.CompleteTokenIDs
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	return cmd
}

func deleteRun(opts *DeleteOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if err := cmdutil.OnlyFor(opts.Cmd, p.Platform, deleteFlags); err != nil {
		return err
	}
	if err := exit.Problems(cmdutil.ConcurrencyProblems(opts.Concurrency)); err != nil {
		return err
	}
	switch p.Platform {
	case config.SSP:
		return deleteSSP(opts, p)
	case config.NSX:
		return deleteNSX(opts)
	case config.Agent:
		return deleteAgent(opts)
	default:
		return cmdutil.Unsupported(opts.Cmd, p.Platform, config.SSP, config.NSX, config.Agent)
	}
}

func deleteSSP(opts *DeleteOptions, p *config.Resolved) error {
	f := opts.Factory
	o, err := f.OutputFor(cmdutil.DeletedKind("registration token"), output.Many)
	if err != nil {
		return err
	}
	typ, explicit, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	noun := "registration token"
	if explicit {
		noun = typ + " registration token"
	}
	var sc *ssp.Client
	ns, err := f.ConfirmTargets(opts.Cmd, cmdutil.Destructive{
		Verb: "Delete", Noun: noun, Consequence: "This cannot be undone.", Done: "deleted",
		Name: func(ctx context.Context, id string) string {
			found, err := findSSPToken(ctx, sc, id, typ, explicit)
			if err != nil {
				return ""
			}
			var info ssp.TokenInfo
			json.Unmarshal(found.raw, &info)
			return info.DisplayName
		},
	}, opts.IDs, func() (_ cmdutil.NameLookup, err error) {
		_, sc, err = f.SSPClient(opts.Cmd)
		return sspTokenLookup(sc, typ, explicit), err
	})
	if err != nil || len(ns) == 0 {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	typeOf := map[string]string{} // what a name's lookup found
	for _, n := range ns {
		if n.Type != "" {
			typeOf[n.ID] = n.Type
		}
	}
	return f.DeleteEach(ctx, o, cmdutil.IDsOf(ns), opts.Concurrency, noun, func(id string) string { return id },
		func(ctx context.Context, id string) (cmdutil.Deleted, error) {
			t := typ
			if found := typeOf[id]; found != "" {
				t = found
			} else if !explicit {
				found, err := findSSPToken(ctx, sc, id, typ, false)
				if err != nil {
					if exit.CodeOf(err) == exit.NotFound {
						return cmdutil.Deleted{ID: id, Gone: true}, nil
					}
					return cmdutil.Deleted{}, err
				}
				t = found.typ
			}
			gone, err := deleteSSPToken(ctx, sc, t, id)
			return cmdutil.Deleted{ID: id, Type: t, Gone: gone}, err
		})
}

func deleteSSPToken(ctx context.Context, sc *ssp.Client, typ, id string) (bool, error) {
	if typ == ssp.Baremetal {
		return sc.DeleteBaremetalToken(ctx, id)
	}
	return sc.DeleteSensorToken(ctx, id)
}

// secretDeleter is a client whose token ids are secrets (NSX, agent).
type secretDeleter interface {
	HTTP() *client.Client
	DeleteToken(ctx context.Context, id string) (gone bool, err error)
}

// deleteSecretTokens deletes tokens whose ids are secrets (NSX tokens, agent
// uuids). Prompts, notices and per-id results name each one by its masked
// label only; -o id is refused, as it could only print masked labels; every
// id is registered with the redactor before anything is sent.
func deleteSecretTokens(opts *DeleteOptions, noun, secretNoun string, connect func(context.Context) (secretDeleter, cmdutil.NameLookup, error)) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	if o.Format == output.ID && !o.DropEnvFormat() {
		return exit.Usagef("-o id: %s are secrets, and token delete does not print them back; -o json gives per-token results with masked labels", secretNoun)
	}
	if err := o.Check(cmdutil.DeletedKind(noun), output.Many); err != nil {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	var d secretDeleter
	ns, err := f.ConfirmTargets(opts.Cmd, cmdutil.Destructive{
		Verb: "Delete", Noun: noun, Consequence: "This cannot be undone.", Done: "deleted", Secret: true,
	}, opts.IDs, func() (lookup cmdutil.NameLookup, err error) {
		if d, lookup, err = connect(ctx); err != nil {
			return lookup, err
		}
		for _, id := range opts.IDs {
			if lookup.IDShaped(id) { // names are not secrets
				d.HTTP().Redactor().AddSecret(id)
			}
		}
		return lookup, nil
	})
	if err != nil || len(ns) == 0 {
		return err
	}
	return f.DeleteEach(ctx, o, cmdutil.IDsOf(ns), opts.Concurrency, noun, output.Mask,
		func(ctx context.Context, id string) (cmdutil.Deleted, error) {
			gone, err := d.DeleteToken(ctx, id)
			return cmdutil.Deleted{ID: output.Mask(id), Gone: gone}, err
		})
}
