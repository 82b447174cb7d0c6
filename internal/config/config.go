// Package config reads and writes tokenctl's profiles: a YAML file, mode
// 0600, written atomically under a lock, refused when others can read it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// Platforms tokenctl speaks.
const (
	SSP   = "ssp"
	NSX   = "nsx"
	SDWAN = "sdwan"
	Agent = "agent"
)

// Platforms lists them in the order help text shows them.
var Platforms = []string{SSP, NSX, SDWAN, Agent}

// SandboxProfile is the built-in profile that runs the emulator in-process.
const SandboxProfile = "sandbox"

// Auth methods a profile can name.
const (
	AuthBasic   = "basic"   // ssp, nsx, agent
	AuthSession = "session" // nsx: /api/session/create, JSESSIONID + X-XSRF-TOKEN
	AuthCert    = "cert"    // nsx: principal identity client certificate
	AuthToken   = "token"   // sdwan legacy: static X-Auth-Token
	AuthOAuth   = "oauth"   // sdwan unified: client credentials, Bearer
)

// Profile is one server of one platform, as stored in the config file.
// Secrets are stored inline, or better as *_env (an environment variable's
// name) or *_command (a command whose stdout is the secret).
type Profile struct {
	Platform string `yaml:"platform" json:"platform,omitempty" mapstructure:"platform"`
	Server   string `yaml:"server,omitempty" json:"server,omitempty" mapstructure:"server"`
	Auth     string `yaml:"auth,omitempty" json:"auth,omitempty" mapstructure:"auth"`

	Username        string `yaml:"username,omitempty" json:"username,omitempty" mapstructure:"username"`
	Password        string `yaml:"password,omitempty" json:"password,omitempty" mapstructure:"password"`
	PasswordEnv     string `yaml:"password_env,omitempty" json:"password_env,omitempty" mapstructure:"password_env"`
	PasswordCommand string `yaml:"password_command,omitempty" json:"password_command,omitempty" mapstructure:"password_command"`
	// SecretCommandTimeout bounds every *_command (a duration; default 30s).
	SecretCommandTimeout string `yaml:"secret_command_timeout,omitempty" json:"secret_command_timeout,omitempty" mapstructure:"secret_command_timeout"`

	// sdwan legacy static token
	Token        string `yaml:"token,omitempty" json:"token,omitempty" mapstructure:"token"`
	TokenEnv     string `yaml:"token_env,omitempty" json:"token_env,omitempty" mapstructure:"token_env"`
	TokenCommand string `yaml:"token_command,omitempty" json:"token_command,omitempty" mapstructure:"token_command"`

	// sdwan unified OAuth client credentials
	ClientID            string `yaml:"client_id,omitempty" json:"client_id,omitempty" mapstructure:"client_id"`
	ClientSecret        string `yaml:"client_secret,omitempty" json:"client_secret,omitempty" mapstructure:"client_secret"`
	ClientSecretEnv     string `yaml:"client_secret_env,omitempty" json:"client_secret_env,omitempty" mapstructure:"client_secret_env"`
	ClientSecretCommand string `yaml:"client_secret_command,omitempty" json:"client_secret_command,omitempty" mapstructure:"client_secret_command"`
	TSGID               string `yaml:"tsg_id,omitempty" json:"tsg_id,omitempty" mapstructure:"tsg_id"`
	AuthURL             string `yaml:"auth_url,omitempty" json:"auth_url,omitempty" mapstructure:"auth_url"`

	// nsx principal identity
	CertFile string `yaml:"cert_file,omitempty" json:"cert_file,omitempty" mapstructure:"cert_file"`
	KeyFile  string `yaml:"key_file,omitempty" json:"key_file,omitempty" mapstructure:"key_file"`

	CAFile     string `yaml:"ca_file,omitempty" json:"ca_file,omitempty" mapstructure:"ca_file"`
	Insecure   bool   `yaml:"insecure,omitempty" json:"insecure,omitempty" mapstructure:"insecure"`
	Thumbprint string `yaml:"thumbprint,omitempty" json:"thumbprint,omitempty" mapstructure:"thumbprint"`
	Timeout    string `yaml:"timeout,omitempty" json:"timeout,omitempty" mapstructure:"timeout"`
	// RPS caps requests per second to this server from one process (--rps).
	RPS float64 `yaml:"rps,omitempty" json:"rps,omitempty" mapstructure:"rps"`

	// ssp: default --type of token verbs (sensor or baremetal)
	TokenType string `yaml:"token_type,omitempty" json:"token_type,omitempty" mapstructure:"token_type"`
	// sdwan: legacy or unified
	APIGeneration string `yaml:"api_generation,omitempty" json:"api_generation,omitempty" mapstructure:"api_generation"`
	// sdwan: v2.1 (default) or v2.0; agent: current or legacy (detected when empty)
	APIVersion string `yaml:"api_version,omitempty" json:"api_version,omitempty" mapstructure:"api_version"`
	// sdwan ids; discovered and cached when empty
	TenantID   string `yaml:"tenant_id,omitempty" json:"tenant_id,omitempty" mapstructure:"tenant_id"`
	OperatorID string `yaml:"operator_id,omitempty" json:"operator_id,omitempty" mapstructure:"operator_id"`
}

// File is the whole config file.
type File struct {
	CurrentProfile string              `yaml:"current_profile,omitempty" json:"current_profile,omitempty" mapstructure:"current_profile"`
	Profiles       map[string]*Profile `yaml:"profiles,omitempty" json:"profiles,omitempty" mapstructure:"profiles"`
}

// Names returns the profile names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ValidateName checks a profile name. Names are lower case because the
// config is read with viper, whose keys are case-insensitive.
func ValidateName(name string) error {
	if name == SandboxProfile {
		return exit.Usagef("profile name %q is reserved for the built-in sandbox", name)
	}
	if !validName(name) {
		return exit.Usagef("profile name %q: use 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	return nil
}

// validName is ^[a-z0-9][a-z0-9_-]{0,62}$, without a regexp compiled at
// start-up.
func validName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Path is the config file: $TOKENCTL_CONFIG, else
// $XDG_CONFIG_HOME/tokenctl/config.yaml, else ~/.config/tokenctl/config.yaml.
func Path() (string, error) {
	if p := os.Getenv("TOKENCTL_CONFIG"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the config directory: set XDG_CONFIG_HOME or TOKENCTL_CONFIG (%v)", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tokenctl", "config.yaml"), nil
}

// StateDir is $XDG_STATE_HOME/tokenctl, else ~/.local/state/tokenctl.
func StateDir() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the state directory: set XDG_STATE_HOME (%v)", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "tokenctl"), nil
}

// checkPerm refuses a config file that group or others can read, as ssh
// refuses a private key: it may hold passwords.
func checkPerm(path string, fi fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return exit.Usagef("config file %s has mode %04o: it may hold secrets and must be private; run: chmod 600 %s", path, perm, path)
	}
	return nil
}

// Load reads the config file. A missing file is an empty config.
func Load(path string) (*File, error) {
	v, err := read(path)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return &File{Profiles: map[string]*Profile{}}, nil
	}
	f := &File{}
	err = v.Unmarshal(f, func(c *mapstructure.DecoderConfig) { c.ErrorUnused = true })
	if err != nil {
		return nil, exit.Usagef("config file %s: %v", path, cleanDecodeError(err))
	}
	if f.Profiles == nil {
		f.Profiles = map[string]*Profile{}
	}
	return f, nil
}

// read reads the config file through viper after checking that it is a
// file only its owner can read; a missing file is (nil, nil).
func read(path string) (*viper.Viper, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, dirError(path)
	}
	if err := checkPerm(path, fi); err != nil {
		return nil, err
	}
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		return nil, exit.Usagef("config file %s: %v", path, err)
	}
	return v, nil
}

func cleanDecodeError(err error) string {
	s := err.Error()
	s = strings.ReplaceAll(s, "decoding failed due to the following error(s):\n\n", "")
	return strings.TrimSpace(s)
}
