package sensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// FeaturesSetOptions are `sensor features set`'s inputs.
type FeaturesSetOptions struct {
	cmdutil.Verb

	IDs         []string
	IDS         string // --ids action
	Flows       string // --flows action
	MPS         string // --mps action
	Concurrency int
}

// NewCmdFeaturesSet builds `sensor features set` (the three POST
// /sensors/feature-config/* calls).
func NewCmdFeaturesSet(f *cmdutil.Factory, runF func(*FeaturesSetOptions) error) *cobra.Command {
	opts := &FeaturesSetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "set [--ids ACTION] [--flows ACTION] [--mps ACTION] ID...",
		Short: "Switch IDS, flow and MPS reporting on many sensors (ssp)",
		Long: `Switch IDS events (with or without packet capture), flow collection and malware-prevention
(MPS) file events on any number of sensors. The vendor takes at most 25 sensors per call,
so the ids are sent in batches of 25, one call per feature per batch
(UpdateSensorIdsFeatureConfig, UpdateSensorFlowFeatureConfig, UpdateSensorMpsFeatureConfig);
the first call goes alone (refused credentials cost one request), then --concurrency calls
run at once (default 4), with a progress bar on a terminal's stderr.
Every id must be a sensor UUID; they are checked before anything is sent. A repeated id is
sent once. "-" reads ids from stdin; an empty stdin changes nothing and exits 0.

Each call's answer lists the sensors it updated (successful_sensor_ids) and those it could
not (failed_sensor_ids); tokenctl reports per sensor what the answers say:
  successful  listed in successful_sensor_ids
  failed      listed in failed_sensor_ids
  unreported  in neither list (counted as a failure)
  error       the call itself failed (its error is printed once, and is in -o json)
  not_sent    not sent, because an earlier call was refused (credentials) or interrupted
Exit 0 when every change succeeded, 8 when some did and some did not, else the failure's
code. -o json prints [{"sensor_id", "ok", "features": [{"feature", "action", "result",
"error"}]}]; -o id prints the sensors whose every change succeeded.`,
		Example: `  tokenctl sensor features set --ids enable_with_pcap --flows enable 8c147e21-7410-4f77-a3a6-e7aa6034992f
  tokenctl sensor details --mps-enabled=false -o id | tokenctl sensor features set --mps enable -`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.IDs, runF, featuresSetRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.IDS, "ids", "", "IDS events: "+strings.Join(ssp.FeatureIDS.Actions, ", "))
	fl.StringVar(&opts.Flows, "flows", "", "flow collection: "+strings.Join(ssp.FeatureFlows.Actions, ", "))
	fl.IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many calls run at once")
	fl.StringVar(&opts.MPS, "mps", "", "malware-prevention file events: "+strings.Join(ssp.FeatureMPS.Actions, ", "))
	cmd.ValidArgsFunction = f.CompleteSensorIDsOnly
	cmdutil.CompleteFlag(cmd, "ids", cmdutil.FixedValues(ssp.FeatureIDS.Actions...))
	cmdutil.CompleteFlag(cmd, "flows", cmdutil.FixedValues(ssp.FeatureFlows.Actions...))
	cmdutil.CompleteFlag(cmd, "mps", cmdutil.FixedValues(ssp.FeatureMPS.Actions...))
	return cmd
}

// Per-sensor results of one feature change.
const (
	resultSuccessful = "successful"
	resultFailed     = "failed"
	resultUnreported = "unreported"
	resultError      = "error"
	resultNotSent    = "not_sent"
	// resultDryRun: --dry-run recorded the call instead of sending it.
	resultDryRun = "dry_run"
)

type featureOutcome struct {
	Feature string       `json:"feature"`
	Action  string       `json:"action"`
	Result  string       `json:"result"`
	Error   *exit.Detail `json:"error,omitempty"`
}

type sensorOutcome struct {
	SensorID string           `json:"sensor_id"`
	OK       bool             `json:"ok"`
	Features []featureOutcome `json:"features"`
}

// featureChange is one requested feature and its action.
type featureChange struct {
	feature ssp.Feature
	action  string
}

// changes validates the three flags and returns the requested changes in
// the order they are sent: IDS, flows, MPS.
func (opts *FeaturesSetOptions) changes() ([]featureChange, []exit.Problem) {
	var chs []featureChange
	var ps []exit.Problem
	for _, c := range []struct {
		flag, value string
		feature     ssp.Feature
	}{{"ids", opts.IDS, ssp.FeatureIDS}, {"flows", opts.Flows, ssp.FeatureFlows}, {"mps", opts.MPS, ssp.FeatureMPS}} {
		if !cmdutil.Changed(opts.Cmd, c.flag) {
			continue
		}
		if p := cmdutil.EnumFlag(c.flag, c.value, c.feature.Actions...); p != nil {
			ps = append(ps, *p)
			continue
		}
		chs = append(chs, featureChange{c.feature, c.value})
	}
	if len(chs) == 0 && len(ps) == 0 {
		ps = append(ps, exit.Problem{Field: "--ids, --flows, --mps", Rule: "give at least one"})
	}
	return chs, ps
}

// sensorIDs drops repeated ids (UUIDs compare case-insensitively) and
// reports every id that is not a UUID of the spec's pattern.
func sensorIDs(ids []string) ([]string, []exit.Problem) {
	var out []string
	var bad []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !ssp.SensorIDPattern().MatchString(id) {
			bad = append(bad, fmt.Sprintf("%q", id))
			continue
		}
		key := strings.ToLower(id)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, id)
	}
	if len(bad) > 0 {
		return nil, []exit.Problem{{Field: "ID", Rule: fmt.Sprintf("not a sensor UUID (the vendor's sensor_ids pattern): %s", strings.Join(bad, ", "))}}
	}
	return out, nil
}

func featuresSetRun(opts *FeaturesSetOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(outcomeKind(nil), output.Many)
	if err != nil {
		return err
	}
	chs, problems := opts.changes()
	problems = append(problems, cmdutil.ConcurrencyProblems(opts.Concurrency)...)
	ids, idProblems := sensorIDs(opts.IDs)
	if err := exit.Problems(append(problems, idProblems...)); err != nil {
		return err
	}
	if len(ids) == 0 {
		return f.NothingToDo(opts.Cmd)
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	outcomes, stats := applyFeatures(ctx, f, sc, ids, chs, opts.Concurrency)
	if err := printOutcomes(f, o, chs, outcomes); err != nil {
		return err
	}
	if f.DryRun() {
		f.Notice("dry run: %d of %d sensors would be updated (%s of at most %d sensors each).", stats.okSensors, len(ids), calls(stats.calls), ssp.MaxFeatureBatch)
	} else {
		f.Notice("%d of %d sensors updated (%s of at most %d sensors each).", stats.okSensors, len(ids), calls(stats.calls), ssp.MaxFeatureBatch)
	}
	switch {
	case stats.failed == 0:
		return nil
	case stats.ok > 0:
		return exit.ErrPartial
	default:
		return &exit.SilentError{Code: stats.code}
	}
}

type applyStats struct {
	ok, failed int // (sensor, feature) pairs
	okSensors  int
	calls      int
	code       int // exit code when nothing succeeded
}

// featureCall is one call: one feature's action for one batch of ids.
type featureCall struct {
	batch []string
	ch    featureChange

	res     *ssp.FeatureResult
	err     error
	notSent *exit.Detail // set when the call was not sent
}

// applyFeatures sends the changes, one call per feature per batch of 25,
// at most concurrency calls at a time (with the bulk progress bar on a
// terminal), and merges the answers per sensor in call order. A call
// refused for its credentials, or an interrupt, keeps the calls not yet
// started from being sent: they would fail the same way.
func applyFeatures(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, ids []string, chs []featureChange, concurrency int) ([]sensorOutcome, applyStats) {
	var calls []*featureCall
	var sources []string
	for _, batch := range ssp.Batches(ids, ssp.MaxFeatureBatch) {
		for _, ch := range chs {
			calls = append(calls, &featureCall{batch: batch, ch: ch})
			sources = append(sources, fmt.Sprintf("%s %s (%d sensors)", ch.feature.Name, ch.action, len(batch)))
		}
	}
	var mu sync.Mutex
	var stop *exit.Detail
	errNotSent := errors.New("not sent")
	// The first call goes alone: when the credentials are refused, it is
	// the only request sent. The others then run concurrently.
	first := 1
	if len(calls) <= 1 {
		first = len(calls)
	}
	results := make([]bulk.Result, 0, len(calls))
	run := func(ctx context.Context, i int, _ *cmdutil.Progress) (json.RawMessage, error) {
		c := calls[i]
		mu.Lock()
		c.notSent = stop
		mu.Unlock()
		if c.notSent != nil {
			return nil, errNotSent
		}
		c.res, c.err = sc.SetFeature(ctx, c.ch.feature, c.ch.action, c.batch)
		if code := exit.CodeOf(c.err); c.err != nil && (code == exit.Auth || code == exit.Interrupted) {
			mu.Lock()
			if stop == nil {
				stop = &exit.Detail{ExitCode: code, Message: "not sent: an earlier call failed: " + exit.DetailOf(c.err).Message}
			}
			mu.Unlock()
		}
		return nil, c.err
	}
	results = append(results, bulk.Run(ctx, sources[:first], 1, func(ctx context.Context, i int) (json.RawMessage, error) {
		return run(ctx, i, nil)
	})...)
	if len(calls) > first {
		rest := f.RunBulk(ctx, "feature calls done", sources[first:], concurrency, func(ctx context.Context, i int, pr *cmdutil.Progress) (json.RawMessage, error) {
			return run(ctx, first+i, pr)
		})
		results = append(results, rest...)
	}
	for i, r := range results {
		if r.NotStarted() && calls[i].res == nil && calls[i].err == nil {
			d := exit.DetailOf(r.Err)
			d.Message = "not sent: interrupted"
			calls[i].notSent = &d
		}
	}

	outcomes := make([]sensorOutcome, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		outcomes[i] = sensorOutcome{SensorID: id, OK: true}
		index[strings.ToLower(id)] = i
	}
	st := applyStats{code: exit.Error}
	record := func(id string, ch featureChange, result string, detail *exit.Detail) {
		i := index[strings.ToLower(id)]
		outcomes[i].Features = append(outcomes[i].Features, featureOutcome{Feature: ch.feature.Name, Action: ch.action, Result: result, Error: detail})
		if result == resultSuccessful || result == resultDryRun {
			st.ok++
			return
		}
		st.failed++
		outcomes[i].OK = false
	}
	firstErr := true
	for _, c := range calls {
		switch {
		case c.notSent != nil:
			for _, id := range c.batch {
				record(id, c.ch, resultNotSent, c.notSent)
			}
			continue
		case client.IsNotSent(c.err):
			st.calls++
			for _, id := range c.batch {
				record(id, c.ch, resultDryRun, nil)
			}
			continue
		case c.err != nil:
			st.calls++
			fmt.Fprintf(f.IOStreams.ErrOut, "tokenctl: %v\n", c.err)
			d := exit.DetailOf(c.err)
			if firstErr {
				st.code, firstErr = d.ExitCode, false
			}
			for _, id := range c.batch {
				record(id, c.ch, resultError, &d)
			}
			continue
		}
		st.calls++
		succ, failed := lowerSet(c.res.Successful), lowerSet(c.res.Failed)
		for _, id := range c.batch {
			key := strings.ToLower(id)
			switch {
			case succ[key]:
				record(id, c.ch, resultSuccessful, nil)
			case failed[key]:
				fmt.Fprintf(f.IOStreams.ErrOut, "sensor %s: %s %s failed (the SSP listed it in failed_sensor_ids)\n", id, c.ch.feature.Name, c.ch.action)
				record(id, c.ch, resultFailed, nil)
			default:
				fmt.Fprintf(f.IOStreams.ErrOut, "sensor %s: %s %s: the SSP reported neither success nor failure\n", id, c.ch.feature.Name, c.ch.action)
				record(id, c.ch, resultUnreported, nil)
			}
		}
	}
	for _, o := range outcomes {
		if o.OK {
			st.okSensors++
		}
	}
	return outcomes, st
}

func lowerSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[strings.ToLower(id)] = true
	}
	return m
}

// printOutcomes prints the per-sensor results: JSON/YAML all of them, -o id
// the sensors whose every change succeeded, a table one row per sensor.
func printOutcomes(f *cmdutil.Factory, o output.Options, chs []featureChange, outcomes []sensorOutcome) error {
	l := f.Printer(o).List(outcomeKind(chs))
	for _, oc := range outcomes {
		if o.Format == output.ID && !oc.OK {
			continue
		}
		raw, err := output.MarshalJSON(oc)
		if err != nil {
			return err
		}
		if err := l.Add(raw); err != nil {
			return err
		}
	}
	return l.Close()
}

// outcomeKind prints per-sensor outcomes: a column per change.
func outcomeKind(chs []featureChange) output.Kind {
	kind := output.Kind{Noun: "sensor", IDField: "sensor_id", Columns: []output.Column{output.Field("SENSOR", "sensor_id")}}
	for _, ch := range chs {
		name := ch.feature.Name
		kind.Columns = append(kind.Columns, output.Column{
			Header: strings.ToUpper(name) + " " + ch.action,
			State:  true,
			Value:  func(it output.Item) string { return featureResult(it, name) },
		})
	}
	kind.Columns = append(kind.Columns, output.Column{Header: "RESULT", State: true, Value: func(it output.Item) string {
		if ok, _ := it.Bool("ok"); ok {
			return "ok"
		}
		return "FAILED"
	}})
	return kind
}

// featureResult finds one feature's result in an outcome's features array.
func featureResult(it output.Item, name string) string {
	raw, _ := it.Get("features")
	var list []struct {
		Feature string `json:"feature"`
		Result  string `json:"result"`
	}
	_ = json.Unmarshal(raw, &list)
	for _, e := range list {
		if e.Feature == name {
			return e.Result
		}
	}
	return ""
}

// calls counts vendor calls in a notice: "1 call", "4 calls".
func calls(n int) string {
	if n == 1 {
		return "1 call"
	}
	return fmt.Sprintf("%d calls", n)
}
