package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestConcurrentProfileSet starts 20 `tokenctl profile set` processes at
// once, each adding its own profile: the config file ends up valid YAML,
// mode 0600, with all 20 profiles and their fields.
func TestConcurrentProfileSet(t *testing.T) {
	pe := newProcEnv(t)
	const n = 20
	names := make([]string, n)
	results := make([]run, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		names[i] = fmt.Sprintf("p%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = pe.Run(t, "", "profile", "set", names[i], "--platform", "ssp",
				"--server", fmt.Sprintf("https://ssp-%02d.example.com", i), "--username", "user-"+names[i], "--password-env", "PW_"+names[i])
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.Code != 0 {
			t.Errorf("profile set %s: exit %d: %s", names[i], r.Code, r.Stderr)
		}
	}
	checkConfigFile(t, pe.ConfigPath(), names...)
	data, err := os.ReadFile(pe.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Profiles map[string]struct {
			Platform    string `yaml:"platform"`
			Server      string `yaml:"server"`
			Username    string `yaml:"username"`
			PasswordEnv string `yaml:"password_env"`
		} `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		p := cfg.Profiles[name]
		if p.Platform != "ssp" || p.Server != fmt.Sprintf("https://ssp-%02d.example.com", i) || p.Username != "user-"+name || p.PasswordEnv != "PW_"+name {
			t.Errorf("profile %s: %+v", name, p)
		}
	}
	if list := pe.Run(t, "", "profile", "list"); list.Code != 0 || strings.Count(list.Stdout, "ssp-") != n {
		t.Errorf("profile list: %+v", list)
	}
}
