package reconcile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/reconcile"
)

// TestParseRefuses: each bad document is refused with a problem naming the
// document, the field and the rule.
func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name, platform, doc string
		// want are "FIELD: RULE-FRAGMENT" that must all be reported.
		want []string
	}{
		{"no kind", config.SSP, "display_name: x\n", []string{"kind: required: one of SensorToken"}},
		{"unknown kind", config.SSP, "kind: Token\n", []string{`kind: unknown kind "Token"`}},
		{"kind in the wrong case", config.SSP, "kind: sensortoken\n", []string{"did you mean SensorToken?"}},
		{"nsx", config.SSP, "kind: NSXToken\n", []string{"NSX registration tokens have no natural key", "tokenctl token create"}},
		{"sdwan", config.SSP, "kind: SDWANAuthToken\n", []string{"SD-WAN auth tokens have no natural key", "tokenctl authtoken create"}},
		{"platform", config.Agent, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\n", []string{"kind: SensorToken is a document for ssp profiles; the profile's platform is agent"}},
		{"unknown field", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\ndescripton: y\n", []string{`descripton: unknown field (did you mean "description"?)`}},
		{"expiry on a sensor token", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nexpiry_time_since_creation_mins: 60\n", []string{"expiry_time_since_creation_mins: unknown field"}},
		{"no passphrase source", config.SSP, "kind: SensorToken\ndisplay_name: x\n", []string{"passphrase_file: required: passphrase_file or passphrase_env"}},
		{"two passphrase sources", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\npassphrase_file: pp\n", []string{"passphrase: give one of"}},
		{"unset env", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: NOT_SET_ANYWHERE\n", []string{"passphrase_env: $NOT_SET_ANYWHERE is not set"}},
		{"missing file", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_file: nope.pp\n", []string{"passphrase_file: ", "nope.pp: no such file"}},
		{"weak inline passphrase", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase: short\n", []string{"passphrase: must be 15 to 128 characters"}},
		{"min_lifetime of a sensor token", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nmin_lifetime: 30m\n", []string{"min_lifetime: 30m0s can never hold: a sensor token lives 30 minutes"}},
		{"min_lifetime of a baremetal token", config.SSP, "kind: BaremetalToken\ndisplay_name: xyz\npassphrase_env: POOL_PP\nexpiry_time_since_creation_mins: 60\nmin_lifetime: 2h\n", []string{"min_lifetime: 2h0m0s can never hold: a new token lives expiry_time_since_creation_mins, 60 minutes"}},
		{"min_lifetime not a duration", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nmin_lifetime: 600\n", []string{"min_lifetime: must be a duration such as 10m"}},
		{"min_remaining above allowed", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nallowed_instance_count: 2\nmin_remaining: 3\n", []string{"min_remaining: 3 can never hold: allowed_instance_count is 2"}},
		{"min_remaining without allowed", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nmin_remaining: 3\n", []string{"min_remaining: 3 needs allowed_instance_count of at least 3"}},
		{"allowed below 1", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\nallowed_instance_count: 0\n", []string{"allowed_instance_count: must be at least 1 (the vendor sets no limit"}},
		{"expiry below 1", config.SSP, "kind: BaremetalToken\ndisplay_name: xyz\npassphrase_env: POOL_PP\nexpiry_time_since_creation_mins: 0\n", []string{"expiry_time_since_creation_mins: must be at least 1 minute"}},
		{"baremetal name too short", config.SSP, "kind: BaremetalToken\ndisplay_name: xy\npassphrase_env: POOL_PP\n", []string{"display_name: must be 3 to 64 characters"}},
		{"no display_name", config.SSP, "kind: SensorToken\npassphrase_env: POOL_PP\n", []string{"display_name: required"}},
		{"agent without name", config.Agent, "kind: AgentToken\nread: true\n", []string{"name: required"}},
		{"agent read not a bool", config.Agent, "kind: AgentToken\nname: ci\nread: yes please\n", []string{"read: must be true or false"}},
		{"features without selector", config.SSP, "kind: SensorFeatures\nmps_enabled: true\n", []string{"selector: required"}},
		{"features empty selector", config.SSP, "kind: SensorFeatures\nselector: {}\nmps_enabled: true\n", []string{"selector: selects nothing"}},
		{"features unknown selector field", config.SSP, "kind: SensorFeatures\nselector: {helth: ok}\nmps_enabled: true\n", []string{"selector.helth: unknown field"}},
		{"features bad selector values", config.SSP, "kind: SensorFeatures\nselector: {health: fine, sensor_ids: [nope], software_versions: ['5']}\nmps_enabled: true\n",
			[]string{`selector.health: "fine" is not one of`, `selector.sensor_ids: not sensor UUIDs`, `selector.software_versions: "5"`}},
		{"features all with filters", config.SSP, "kind: SensorFeatures\nselector: {all: true, health: ok}\nmps_enabled: true\n", []string{"selector.all: all: true selects every sensor"}},
		{"features nothing wanted", config.SSP, "kind: SensorFeatures\nselector: {all: true}\n", []string{"give at least one"}},
		{"features pcap without ids", config.SSP, "kind: SensorFeatures\nselector: {all: true}\nids_config: {pcap_enabled: true}\n", []string{"ids_config.pcap_enabled: needs ids_enabled: true"}},
		{"features ids without pcap", config.SSP, "kind: SensorFeatures\nselector: {all: true}\nids_enabled: true\n", []string{"ids_config.pcap_enabled: required with ids_enabled: true"}},
		{"features unknown ids_config field", config.SSP, "kind: SensorFeatures\nselector: {all: true}\nids_enabled: true\nids_config: {pcap: true}\n", []string{"ids_config.pcap: unknown field"}},
		{"mps nothing", config.SSP, "kind: MPSConfig\n", []string{"give at least one of the seven switches"}},
		{"mps unknown switch", config.SSP, "kind: MPSConfig\nvideo_file_type: true\n", []string{"video_file_type: unknown field"}},
		{"two pools of one name", config.SSP, "kind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\n---\nkind: SensorToken\ndisplay_name: x\npassphrase_env: POOL_PP\n", []string{`docs.yaml#2: display_name: "x" is also the display_name of the SensorToken in docs.yaml#1`}},
		{"two MPS documents", config.SSP, "kind: MPSConfig\nmedia_file_type: true\n---\nkind: MPSConfig\nmedia_file_type: false\n", []string{"only one MPSConfig document"}},
		{"two agent documents", config.Agent, "kind: AgentToken\nname: ci\n---\nkind: AgentToken\nname: ci\n", []string{`name: "ci" is also the name in docs.yaml#1`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.platform, tc.doc)
			var ve *exit.ValidationError
			if !errors.As(err, &ve) || exit.CodeOf(err) != exit.Usage {
				t.Fatalf("err = %v, want a validation error (exit 2)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\ndoes not report %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "docs.yaml#") {
				t.Errorf("%v does not name the document", err)
			}
		})
	}
}

// TestParseEveryProblemAtOnce: the problems of every document come in one
// error.
func TestParseEveryProblemAtOnce(t *testing.T) {
	_, err := parse(t, config.SSP, "kind: SensorToken\ndisplay_name: x\n---\nkind: Bogus\n---\nkind: MPSConfig\n---\nkind: SensorToken\ndisplay_name: ok\npassphrase_env: POOL_PP\nallowed_instance_count: 0\n")
	var ve *exit.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	sources := map[string]bool{}
	for _, p := range ve.Problems {
		sources[p.Source] = true
	}
	if len(sources) != 4 {
		t.Fatalf("problems of %d documents, want 4: %v", len(sources), err)
	}
}

func TestParseSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pool.pp"), []byte(testPassphrase+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	docs := "kind: SensorToken\ndisplay_name: x\npassphrase_file: pool.pp\n---\nkind: SensorToken\ndisplay_name: y\npassphrase: " + testPassphrase + "\n"
	// passphrase_file is relative to the document's directory.
	in := inputsIn(t, dir, docs)
	set, err := reconcile.Parse(in, reconcile.ParseOptions{Platform: config.SSP, Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "docs.yaml#2: the passphrase is inline") {
		t.Errorf("warnings %q, want one about the inline passphrase", set.Warnings)
	}
	for _, w := range set.Warnings {
		if strings.Contains(w, testPassphrase) {
			t.Errorf("a warning shows the passphrase: %s", w)
		}
	}
	// Without Secrets (diff), an unset variable or a missing file is not
	// read, so not an error; the source is still required.
	in = inputsIn(t, t.TempDir(), "kind: SensorToken\ndisplay_name: x\npassphrase_file: missing.pp\n---\nkind: SensorToken\ndisplay_name: y\npassphrase_env: UNSET_VAR_X\n")
	if _, err := reconcile.Parse(in, reconcile.ParseOptions{Platform: config.SSP}); err != nil {
		t.Fatalf("diff needs no secrets: %v", err)
	}
	// A passphrase file that breaks the rules is named, its content not.
	if err := os.WriteFile(filepath.Join(dir, "weak.pp"), []byte("weak-but-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in = inputsIn(t, dir, "kind: SensorToken\ndisplay_name: x\npassphrase_file: weak.pp\n")
	_, err = reconcile.Parse(in, reconcile.ParseOptions{Platform: config.SSP, Secrets: true})
	if err == nil || !strings.Contains(err.Error(), "passphrase_file: the passphrase it gives must be 15 to 128") || strings.Contains(err.Error(), "weak-but-secret") {
		t.Fatalf("err = %v", err)
	}
}

func inputsIn(t *testing.T, dir, docs string) []reconcile.Input {
	t.Helper()
	path := filepath.Join(dir, "docs.yaml")
	if err := os.WriteFile(path, []byte(docs), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := reconcile.Read(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestReadDirectory: -f DIR reads *.yaml, *.yml and *.json in name order,
// skipping other files and subdirectories; FILE#N names each document.
func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.yml":       "kind: MPSConfig\nmedia_file_type: true\n",
		"a.yaml":      "kind: AgentToken\nname: one\n---\nkind: AgentToken\nname: two\n",
		"c.json":      `{"kind": "AgentToken", "name": "three"}`,
		"README.md":   "not a document",
		"notes.txt":   "kind: Nothing",
		"sub/d.yaml":  "kind: Nothing\n",
		"z.yaml.orig": "kind: Nothing\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in, err := reconcile.Read(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range in {
		got = append(got, d.Source)
	}
	if want := "a.yaml#1 a.yaml#2 b.yml#1 c.json#1"; strings.Join(got, " ") != want {
		t.Fatalf("documents %v, want %s", got, want)
	}
	if _, err := reconcile.Read(t.TempDir(), nil); exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "no .yaml, .yml, .json files") {
		t.Fatalf("empty directory: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "1.yaml"), []byte("a: [\n"), 0o600)
	os.WriteFile(filepath.Join(bad, "2.yaml"), []byte("b: {\n"), 0o600)
	if _, err := reconcile.Read(bad, nil); exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "1.yaml#1") || !strings.Contains(err.Error(), "2.yaml#1") {
		t.Fatalf("two broken files: %v, want both named", err)
	}
}
