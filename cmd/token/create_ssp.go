package token

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
	"github.com/tokenctl/tokenctl/internal/wait"
)

func createSSP(opts *CreateOptions, p *config.Resolved) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	typ, _, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	var problems []exit.Problem
	problems = append(problems, cmdutil.ConcurrencyProblems(opts.Concurrency)...)
	if o.Format == output.InstallScript && typ != ssp.Baremetal && !o.DropEnvFormat() {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "-o install-script is for baremetal tokens (--type baremetal)"})
	} else if p := o.FormatProblem(createdKind(typ), output.One); p != nil {
		problems = append(problems, *p)
	}
	if o.Format == output.InstallScript && opts.Passphrase.Generate && opts.Passphrase.File == "" {
		problems = append(problems, exit.Problem{Field: "--generate-passphrase", Rule: "with -o install-script needs --passphrase-file PATH: the passphrase is needed again for the pool's other hosts"})
	}
	problems = append(problems, opts.Script.Problems(opts.Cmd, o.Format)...)
	waiting := opts.Wait != ""
	spec := waitSpec{For: opts.Wait, Count: opts.Count, CountGiven: cmdutil.Changed(opts.Cmd, "count"), WaitFlags: opts.WaitFlags}
	if waiting {
		problems = append(problems, spec.problems(opts.Cmd, "--wait")...)
	} else {
		problems = append(problems, opts.WaitFlags.Validate(opts.Cmd, false)...)
		if cmdutil.Changed(opts.Cmd, "count") {
			problems = append(problems, exit.Problem{Field: "--count", Rule: "applies only with --wait"})
		}
	}
	if typ != ssp.Baremetal && cmdutil.Changed(opts.Cmd, "expiry-minutes") {
		problems = append(problems, exit.Problem{Field: "--expiry-minutes", Rule: "applies to --type baremetal only (a sensor token lives 30 minutes)"})
	}
	opts.Passphrase.Reuse = opts.SkipExisting
	problems = append(problems, opts.Passphrase.Validate(f)...)
	if opts.File == "-" && opts.Passphrase.Stdin {
		problems = append(problems, exit.Problem{Field: "--passphrase-stdin", Rule: "stdin already carries the manifest (-f -); use --passphrase-file or a passphrase field"})
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	docs, err := f.ReadDocuments(opts.File, o)
	if err != nil {
		return err
	}
	if waiting && len(docs) > 1 {
		return exit.Usagef("--wait waits for one token; %s has %d documents", opts.File, len(docs))
	}
	flagPassphrase, err := opts.Passphrase.Resolve(f)
	if err != nil {
		return err
	}

	n := max(len(docs), 1)
	reqs := make([]sspRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := newSSPRequest(typ)
		var dps []exit.Problem // the document's own problems: its other checks still run
		if docs != nil {
			sources[i] = docs[i].Source
			if dps = docs[i].Decode(req); manifest.Fatal(dps) {
				problems = append(problems, dps...)
				continue
			}
		}
		applySSPFlags(opts, req)
		_, _, _, passphrase := tokenFields(req)
		if flagPassphrase != "" {
			*passphrase = flagPassphrase
		}
		if docs == nil && f.IOStreams.CanPrompt() {
			if err := askSSP(f, opts, typ, req); err != nil {
				return err
			}
		}
		if *passphrase == "" && len(dps) == 0 {
			if *passphrase, err = Fallback(f); err != nil {
				return err
			}
			flagPassphrase = *passphrase // ask once for all documents
		}
		reqs[i] = req
		checks := req.Validate(sources[i])
		if len(dps) > 0 && *passphrase == "" {
			// Not asked for while the document has other problems.
			checks = slices.DeleteFunc(checks, func(p exit.Problem) bool { return p.Field == "passphrase" })
		}
		problems = append(problems, manifest.Combine(dps, checks)...)
		if _, _, allowed, _ := tokenFields(req); waiting && spec.For != wait.Used && *allowed != nil && **allowed >= 1 && **allowed < int64(spec.Count) {
			problems = append(problems, exit.Problem{Field: "--count", Rule: fmt.Sprintf("%d is more than the token's allowed_instance_count %d: that many hosts can never register with it", spec.Count, **allowed)})
		}
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	kind := sspKind(typ)
	existing := make([]json.RawMessage, n)
	if opts.SkipExisting {
		if existing, err = existingSSPTokens(ctx, sc, typ, reqs); err != nil {
			return err
		}
	}
	toCreate := 0
	for _, e := range existing {
		if e == nil {
			toCreate++
		}
	}
	if err := freshPassphraseProblem(f, opts, o, kind.Noun, existing, n-toCreate); err != nil {
		return err
	}
	// A dry run writes no local file; when every token exists, no
	// passphrase is used.
	if !f.DryRun() && toCreate > 0 {
		if err := opts.Passphrase.Persist(); err != nil {
			return err
		}
	}
	// printOne prints one token (created, or found by --skip-existing) and
	// with --wait closes stdout, so a pipe's reader (sh, ssh) goes ahead,
	// then waits for its hosts.
	printOne := func(raw json.RawMessage, existed bool, req sspRequest) error {
		_, _, _, passphrase := tokenFields(req)
		id, err := printCreatedSSP(ctx, f, sc, o, typ, raw, existed, *passphrase, opts.Script)
		if err != nil || !waiting {
			return err
		}
		return waitAfter(ctx, f, sc, typ, id, spec)
	}
	if docs == nil {
		// From flags alone: the vendor's object.
		if existing[0] != nil {
			opts.Passphrase.Done(f, false, true)
			return printOne(existing[0], true, reqs[0])
		}
		raw, err := createSSPToken(ctx, sc, reqs[0])
		opts.Passphrase.Done(f, err == nil, err != nil && !client.OutcomeUnknown(err))
		if err != nil {
			return client.LookFor(err, lookForSSP(kind.Noun, typ, reqs[0]))
		}
		return printOne(raw, false, reqs[0])
	}
	results := f.RunCreates(ctx, cmdutil.CreateBatch{
		Sources:     sources,
		Concurrency: opts.Concurrency,
		Existing:    func(i int) json.RawMessage { return existing[i] },
		Create: func(ctx context.Context, i int) (json.RawMessage, error) {
			return createSSPToken(ctx, sc, reqs[i])
		},
		LookFor: func(i int) string { return lookForSSP(kind.Noun, typ, reqs[i]) },
		Finish:  finishHint(opts, "display_name"),
	})
	created, unknown := 0, 0
	for _, r := range results {
		switch r.Outcome {
		case bulk.Created:
			created++
		case bulk.Unknown:
			unknown++
		}
	}
	opts.Passphrase.Done(f, created > 0, created == 0 && unknown == 0)
	if cmdutil.SingleValueFormat(o.Format) {
		// One document (checked above): its value, or its error.
		r := results[0]
		if !r.OK {
			return r.Err
		}
		return printOne(r.Value, r.Outcome == bulk.Exists, reqs[0])
	}
	if err := f.PrintBulk(o, kind, results); err != nil || !waiting {
		return err
	}
	// --wait takes one document (checked above).
	var info ssp.TokenInfo
	if err := json.Unmarshal(results[0].Value, &info); err != nil {
		return err
	}
	return waitAfter(ctx, f, sc, typ, info.ID, spec)
}

// freshPassphraseProblem handles the tokens --skip-existing found when
// --generate-passphrase has just made a new passphrase (its file did not
// exist): they were created with another one. An install script would
// embed the new passphrase and fail on the host (exit 5); other formats
// print the existing tokens with a warning that the passphrase is not
// theirs.
func freshPassphraseProblem(f *cmdutil.Factory, opts *CreateOptions, o output.Options, noun string, existing []json.RawMessage, found int) error {
	if found == 0 || !opts.Passphrase.Fresh() {
		return nil
	}
	where := "the new passphrase"
	if opts.Passphrase.File != "" {
		where = fmt.Sprintf("the passphrase generated now (%s did not exist)", opts.Passphrase.File)
	}
	if o.Format == output.InstallScript {
		var info ssp.TokenInfo
		_ = json.Unmarshal(existing[0], &info)
		return exit.Errorf(exit.Conflict, "display_name %q already has a usable %s, %s, made with another passphrase than %s: its install script would fail on the host. Give the file that holds the token's passphrase as --passphrase-file, or delete the token and create it again",
			info.DisplayName, noun, info.ID, where)
	}
	f.Warn("%d existing token(s) kept by --skip-existing were made with another passphrase than %s; register with the passphrase each was made with", found, where)
	return nil
}

// waitAfter is --wait after the create's output: stdout is closed, so a
// pipe's reader (sh, ssh) goes ahead, then the token's hosts are waited for.
func waitAfter(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, typ, id string, spec waitSpec) error {
	if err := f.IOStreams.CloseOut(); err != nil {
		return err
	}
	return waitForHosts(ctx, f, sc, id, func(context.Context) (string, string, error) { return typ, id, nil }, spec, nil)
}

// finishHint is the summary's advice after a batch of creates left some
// documents undone: the same command with --skip-existing finishes it.
func finishHint(opts *CreateOptions, key string) string {
	if opts.SkipExisting {
		return "To finish, run the same command again: with --skip-existing it creates only the documents whose " + key + " has no usable token yet."
	}
	return "To finish without duplicates, run the same command again with --skip-existing: it creates only the documents whose " + key + " has no usable token yet."
}

// lookForSSP names the token a create with an unknown outcome may have made.
func lookForSSP(noun, typ string, req sspRequest) string {
	name, _, _, _ := tokenFields(req)
	return fmt.Sprintf("a %s with display_name %q (tokenctl token list --type %s --display-name %s), or run again with --skip-existing", noun, *name, typ, shellWord(*name))
}

// shellWord quotes s for a shell command line when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// existingSSPTokens finds, with one list scan of the AVAILABLE tokens of the
// type, the usable token each request's display_name already has (nil when
// none): the one with the most instances left, then the latest expiry. Sensor
// tokens come from the token list, baremetal tokens from the statuses list
// (their status view: the token list has no status).
func existingSSPTokens(ctx context.Context, sc *ssp.Client, typ string, reqs []sspRequest) ([]json.RawMessage, error) {
	wanted := map[string]bool{}
	for _, r := range reqs {
		name, _, _, _ := tokenFields(r)
		wanted[*name] = true
	}
	q := ssp.ListQuery{}
	if len(wanted) == 1 {
		for name := range wanted {
			q.DisplayName = name // the server filters; the match below is exact
		}
	}
	type candidate struct {
		raw            json.RawMessage
		left, expiring int64
	}
	best := map[string]candidate{}
	add := func(raw json.RawMessage) error {
		var t struct {
			DisplayName         string `json:"display_name"`
			Status              string `json:"status"`
			NumberAvailable     *int64 `json:"number_available"`
			Remaining           *int64 `json:"remaining_instance_count"`
			Expiration          int64  `json:"expiration"`
			ExpirationTimestamp int64  `json:"expiration_timestamp"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("unexpected response: a token is not the documented JSON: %w", err)
		}
		if !wanted[t.DisplayName] || t.Status != ssp.StatusAvailable {
			return nil
		}
		c := candidate{raw: append(json.RawMessage(nil), raw...), left: 1, expiring: max(t.Expiration, t.ExpirationTimestamp)}
		if t.NumberAvailable != nil {
			c.left = *t.NumberAvailable
		}
		if t.Remaining != nil {
			c.left = *t.Remaining
		}
		if c.left <= 0 {
			return nil
		}
		if cur, ok := best[t.DisplayName]; !ok || c.left > cur.left || (c.left == cur.left && c.expiring > cur.expiring) {
			best[t.DisplayName] = c
		}
		return nil
	}
	var err error
	if typ == ssp.Baremetal {
		_, err = sc.ListBaremetalTokenStatuses(ctx, q, ssp.StatusAvailable, client.Pager{}, add)
	} else {
		_, err = sc.ListSensorTokens(ctx, q, ssp.StatusAvailable, client.Pager{}, add)
	}
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(reqs))
	for i, r := range reqs {
		name, _, _, _ := tokenFields(r)
		if c, ok := best[*name]; ok {
			out[i] = c.raw
		}
	}
	return out, nil
}

// sspRequest is the create body of either token type
// (*ssp.SensorTokenRequest or *ssp.BaremetalTokenRequest).
type sspRequest interface {
	Validate(source string) []exit.Problem
}

func newSSPRequest(typ string) sspRequest {
	if typ == ssp.Baremetal {
		return &ssp.BaremetalTokenRequest{}
	}
	return &ssp.SensorTokenRequest{}
}

// tokenFields points at the fields both token types share.
func tokenFields(req sspRequest) (displayName, description *string, allowed **int64, passphrase *string) {
	switch r := req.(type) {
	case *ssp.BaremetalTokenRequest:
		return &r.DisplayName, &r.Description, &r.AllowedInstanceCount, &r.Passphrase
	case *ssp.SensorTokenRequest:
		return &r.DisplayName, &r.Description, &r.AllowedInstanceCount, &r.Passphrase
	}
	panic(fmt.Sprintf("token: unknown SSP request %T", req))
}

// createSSPToken sends the create call of the request's type.
func createSSPToken(ctx context.Context, sc *ssp.Client, req sspRequest) (json.RawMessage, error) {
	if r, ok := req.(*ssp.BaremetalTokenRequest); ok {
		return sc.CreateBaremetalToken(ctx, r)
	}
	return sc.CreateSensorToken(ctx, req.(*ssp.SensorTokenRequest))
}

// applySSPFlags lets flags override manifest fields.
func applySSPFlags(opts *CreateOptions, req sspRequest) {
	displayName, description, allowed, _ := tokenFields(req)
	if cmdutil.Changed(opts.Cmd, "display-name") {
		*displayName = opts.DisplayName
	}
	if cmdutil.Changed(opts.Cmd, "description") {
		*description = opts.Description
	}
	if cmdutil.Changed(opts.Cmd, "allowed-instances") {
		n := opts.AllowedInstances
		*allowed = &n
	}
	if r, ok := req.(*ssp.BaremetalTokenRequest); ok && cmdutil.Changed(opts.Cmd, "expiry-minutes") {
		n := opts.ExpiryMinutes
		r.ExpiryTimeSinceCreationMins = &n
	}
}

// printCreatedSSP prints a new token, or with existed the usable one
// --skip-existing found, and returns its id; -o manifest prints only its
// registration manifest, exactly, and -o install-script the host script
// with the passphrase just used. A baremetal token is created without a
// manifest (RegistrationToken has none), so its status is fetched for it.
func printCreatedSSP(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, o output.Options, typ string, raw json.RawMessage, existed bool, passphrase string, script ScriptFlags) (string, error) {
	kind := sspKind(typ)
	var info ssp.TokenInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", err
	}
	if existed {
		f.Notice("display_name %q already has a usable %s, %s: nothing created (--skip-existing).", info.DisplayName, kind.Noun, info.ID)
	} else {
		f.Notice("Created %s %s (%s).", kind.Noun, info.ID, info.DisplayName)
	}
	switch {
	case o.Format != output.Manifest && o.Format != output.InstallScript:
		return info.ID, f.Printer(o).Object(raw, kind)
	case typ == ssp.Baremetal:
		st, err := sc.GetBaremetalTokenStatus(ctx, info.ID)
		if err != nil {
			return "", fmt.Errorf("the token was created, but its manifest could not be fetched (retry with `tokenctl token status %s -o %s`): %w", info.ID, o.Format, err)
		}
		if o.Format == output.InstallScript {
			return info.ID, printInstallScript(f, o, st, passphrase, script)
		}
		return info.ID, printManifestOf(f, o, st, kind.Noun)
	}
	return info.ID, printManifestOf(f, o, raw, kind.Noun)
}
