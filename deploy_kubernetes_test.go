package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes example (deploy/kubernetes): the fields that matter, as
// Kubernetes reads them.

const k8sDir = "deploy/kubernetes"

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec k8sJobSpec `yaml:"spec"`
	// A Secret would carry these.
	Data       map[string]any `yaml:"data"`
	StringData map[string]any `yaml:"stringData"`
}

type k8sJobSpec struct {
	CompletionMode string `yaml:"completionMode"`
	Completions    *int   `yaml:"completions"`
	Parallelism    *int   `yaml:"parallelism"`
	BackoffLimit   *int   `yaml:"backoffLimit"`
	Template       struct {
		Spec struct {
			RestartPolicy string         `yaml:"restartPolicy"`
			Containers    []k8sContainer `yaml:"containers"`
			Volumes       []struct {
				Name      string `yaml:"name"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
				Secret *struct {
					SecretName  string `yaml:"secretName"`
					DefaultMode *int   `yaml:"defaultMode"`
				} `yaml:"secret"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type k8sContainer struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Env     []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
			ConfigMapKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"configMapKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type kustomization struct {
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name     string   `yaml:"name"`
		Files    []string `yaml:"files"`
		Literals []string `yaml:"literals"`
	} `yaml:"configMapGenerator"`
	SecretGenerator []any `yaml:"secretGenerator"`
}

// readK8sObjects decodes every YAML document of a manifest file.
func readK8sObjects(t *testing.T, path string) []k8sObject {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []k8sObject
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// secretName reports an environment variable that must come from a Secret.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSPHRASE|SECRET|PRIVATE|CREDENTIAL|(^|_)TOKEN$)`)

func TestKubernetesIndexedJob(t *testing.T) {
	var kz kustomization
	data, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kz); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if len(kz.SecretGenerator) > 0 {
		t.Error("kustomization.yaml generates a Secret: credentials would sit in the directory; create Secrets from files instead")
	}
	generated := map[string][]string{} // ConfigMap name -> keys
	for _, g := range kz.ConfigMapGenerator {
		for _, f := range g.Files {
			if _, err := os.Stat(filepath.Join(k8sDir, f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
			generated[g.Name] = append(generated[g.Name], filepath.Base(f))
		}
		for _, l := range g.Literals {
			k, _, _ := strings.Cut(l, "=")
			if secretName.MatchString(k) {
				t.Errorf("configMapGenerator %s: literal %q looks like a credential: it belongs in a Secret", g.Name, k)
			}
			generated[g.Name] = append(generated[g.Name], k)
		}
	}

	var jobs []k8sObject
	for _, r := range kz.Resources {
		for _, o := range readK8sObjects(t, filepath.Join(k8sDir, r)) {
			switch o.Kind {
			case "Job":
				jobs = append(jobs, o)
			case "Secret":
				t.Errorf("%s: a Secret manifest; create Secrets from files (README.md) so no credential sits in the directory", r)
			}
		}
	}
	if len(jobs) != 1 {
		t.Fatalf("want one Job among the resources, got %d", len(jobs))
	}
	job := jobs[0]
	s := job.Spec
	if job.APIVersion != "batch/v1" {
		t.Errorf("apiVersion %q, want batch/v1", job.APIVersion)
	}
	if s.CompletionMode != "Indexed" {
		t.Errorf("completionMode %q, want Indexed (pods get JOB_COMPLETION_INDEX)", s.CompletionMode)
	}
	if s.Completions == nil || *s.Completions < 1 {
		t.Fatal("completions must be set: an Indexed Job needs it")
	}
	if s.Parallelism == nil || *s.Parallelism < 1 || *s.Parallelism > *s.Completions {
		t.Errorf("parallelism %v must be 1..completions (%d)", s.Parallelism, *s.Completions)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit < 1 {
		t.Error("backoffLimit: a failed shard should be retried (its registered hosts are skipped then)")
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != "Never" && pod.RestartPolicy != "OnFailure" {
		t.Errorf("restartPolicy %q: a Job's pods need Never or OnFailure", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !strings.Contains(c.Image, "example.com") || !strings.HasSuffix(c.Image, ":VERSION") {
		t.Errorf("image %q: name a placeholder (registry.example.com/...:VERSION), not a real image", c.Image)
	}

	env := map[string]string{}
	secretRefs := map[string]bool{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			secretRefs[e.ValueFrom.SecretKeyRef.Name] = true
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if !slices.Contains(generated[ref.Name], ref.Key) {
				t.Errorf("env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			if secretName.MatchString(e.Name) {
				t.Errorf("env %s comes from a ConfigMap: credentials come from a Secret", e.Name)
			}
			env[e.Name] = "configmap:" + ref.Name
		case e.Value != nil:
			if secretName.MatchString(e.Name) {
				t.Errorf("env %s has a literal value: credentials come from a Secret (secretKeyRef)", e.Name)
			}
			env[e.Name] = *e.Value
		default:
			t.Errorf("env %s has no value", e.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			secretRefs[ef.SecretRef.Name] = true
		}
	}
	for _, name := range []string{"TOKENCTL_USERNAME", "TOKENCTL_PASSWORD"} {
		if !strings.HasPrefix(env[name], "secret:") {
			t.Errorf("%s must come from a Secret (secretKeyRef), got %q", name, env[name])
		}
	}
	if env["TOKENCTL_SERVER"] == "" || env["TOKENCTL_PLATFORM"] != "ssp" {
		t.Errorf("TOKENCTL_SERVER and TOKENCTL_PLATFORM=ssp name the SSP: got %q, %q", env["TOKENCTL_SERVER"], env["TOKENCTL_PLATFORM"])
	}

	// Volumes: the script from the generated ConfigMap, the passphrase and
	// the ssh key from Secrets, neither readable by others.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	var scriptDir string
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			if _, ok := generated[v.ConfigMap.Name]; !ok {
				t.Errorf("volume %s: ConfigMap %s is not generated by kustomization.yaml", v.Name, v.ConfigMap.Name)
			}
			if slices.Contains(generated[v.ConfigMap.Name], "register-shard.sh") {
				scriptDir = mounts[v.Name]
			}
		case v.Secret != nil:
			secretRefs[v.Secret.SecretName] = true
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o007 != 0 {
				t.Errorf("volume %s: Secret %s files must not be readable by others (defaultMode 0400 or 0440)", v.Name, v.Secret.SecretName)
			}
			if mounts[v.Name] == "" {
				t.Errorf("volume %s is not mounted", v.Name)
			}
		}
	}
	if scriptDir == "" {
		t.Fatal("no volume mounts the ConfigMap with register-shard.sh")
	}
	if len(c.Command) < 2 || c.Command[len(c.Command)-1] != scriptDir+"/register-shard.sh" {
		t.Errorf("command %q does not run %s/register-shard.sh", c.Command, scriptDir)
	}
	script, err := os.ReadFile(filepath.Join(k8sDir, "register-shard.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"JOB_COMPLETION_INDEX", "${PASSPHRASE_FILE:-" + mounts["passphrase"] + "/passphrase}", "${SSH_SECRET_DIR:-" + mounts["ssh"] + "}", "${HOSTS_FILE:-" + scriptDir + "/hosts}"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("register-shard.sh does not use %s (the Job mounts it there)", want)
		}
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		if out, err := exec.Command(sh, "-n", filepath.Join(k8sDir, "register-shard.sh")).CombinedOutput(); err != nil {
			t.Errorf("register-shard.sh: sh -n: %v\n%s", err, out)
		}
	}

	// The shards cover the host list, and no pod is left without hosts.
	size, err := strconv.Atoi(env["SHARD_SIZE"])
	if err != nil || size < 1 {
		t.Fatalf("SHARD_SIZE %q must be a positive number", env["SHARD_SIZE"])
	}
	hosts := countHosts(t, filepath.Join(k8sDir, "hosts"))
	if n := *s.Completions; n*size < hosts || (n-1)*size >= hosts {
		t.Errorf("completions %d x SHARD_SIZE %d does not fit the %d hosts of the list: every host needs a shard and every shard a host", n, size, hosts)
	}

	// Every Secret the Job uses is one the README tells how to create.
	readme, err := os.ReadFile(filepath.Join(k8sDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range secretRefs {
		if !regexp.MustCompile(`kubectl create secret generic ` + regexp.QuoteMeta(name) + `\b`).Match(readme) {
			t.Errorf("README.md does not show how to create the Secret %s", name)
		}
	}
}

// TestKubernetesNoSecretLiteral scans every file of the example for
// something that looks like a credential rather than a reference to one.
func TestKubernetesNoSecretLiteral(t *testing.T) {
	literal := []*regexp.Regexp{
		regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
		regexp.MustCompile(`(?i)^\s*(password|passphrase|token|secret|client_secret)\s*[:=]\s*\S`),
		regexp.MustCompile(`(?i)--(password|passphrase|token)[= ]\S`),
		regexp.MustCompile(`tokenctl-sandbox`),
		regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`), // a base64 blob (a Secret's data)
	}
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" {
			continue
		}
		f, err := os.Open(filepath.Join(k8sDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			for _, re := range literal {
				if re.MatchString(sc.Text()) {
					t.Errorf("%s:%d looks like a secret literal (%s): %s", e.Name(), n, re, sc.Text())
				}
			}
		}
		f.Close()
	}
}

// countHosts counts the host lines of a host list (# comments and blank
// lines aside).
func countHosts(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}
