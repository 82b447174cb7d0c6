package config

import (
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// Profiles is where Resolve finds profiles: a File decoded whole, or a
// config file opened with Open, which decodes only the profile asked for.
type Profiles interface {
	// Current is the current_profile setting ("" when none).
	Current() string
	// Profile returns the named profile; ok is false when there is none.
	Profile(name string) (p *Profile, ok bool, err error)
	// Names lists the profiles, sorted.
	Names() []string
}

// Current implements Profiles.
func (f *File) Current() string { return f.CurrentProfile }

// Profile implements Profiles.
func (f *File) Profile(name string) (*Profile, bool, error) {
	p, ok := f.Profiles[name]
	return p, ok, nil
}

// Lazy is the config file as a command that runs with one profile needs
// it: read and parsed once (by viper, as Load does), with each profile
// decoded only when asked for. A run pays for its own profile, not for
// every profile in the file, and one profile's mistake does not stop a
// command that uses another.
type Lazy struct {
	path     string
	v        *viper.Viper // nil: no config file
	profiles map[string]any
}

// Open reads the config file for Resolve. A missing file has no profiles.
// Like Load it refuses a file others can read and names unknown settings,
// here at the top level and, when it is decoded, in the profile used.
func Open(path string) (*Lazy, error) {
	l := &Lazy{path: path}
	v, err := read(path)
	if err != nil || v == nil {
		return l, err
	}
	var unknown []string
	for _, k := range v.AllKeys() {
		top, _, _ := strings.Cut(k, ".")
		if top != "current_profile" && top != "profiles" && !contains(unknown, top) {
			unknown = append(unknown, top)
		}
	}
	if len(unknown) > 0 {
		return nil, exit.Usagef("config file %s: unknown settings: %s (expected current_profile and profiles)", path, strings.Join(unknown, ", "))
	}
	if raw := v.Get("profiles"); raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, exit.Usagef("config file %s: profiles: expected a map of profile names to settings", path)
		}
		l.profiles = m
	}
	l.v = v
	return l, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Current implements Profiles.
func (l *Lazy) Current() string {
	if l.v == nil {
		return ""
	}
	return l.v.GetString("current_profile")
}

// Profile implements Profiles: it decodes the one profile, strictly.
func (l *Lazy) Profile(name string) (*Profile, bool, error) {
	if _, ok := l.profiles[name]; !ok {
		return nil, false, nil
	}
	p := &Profile{}
	err := l.v.UnmarshalKey("profiles."+name, p, func(c *mapstructure.DecoderConfig) { c.ErrorUnused = true })
	if err != nil {
		// mapstructure names the decoded value '' and puts each problem
		// on a line of its own.
		var problems []string
		for _, line := range strings.Split(cleanDecodeError(err), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				problems = append(problems, strings.Replace(line, "'' has invalid keys:", "unknown settings:", 1))
			}
		}
		return nil, false, exit.Usagef("config file %s: profile %q: %s", l.path, name, strings.Join(problems, "; "))
	}
	return p, true, nil
}

// Names implements Profiles.
func (l *Lazy) Names() []string {
	names := make([]string, 0, len(l.profiles))
	for n := range l.profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
