package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/fsutil"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// `tokenctl sandbox vdefend-cli` stands in for the vendor's host installer
// (ssp.md, "On the host"). It does on one machine what the vendor's does on a
// baremetal host, against the sandbox only: the vendor's manifest format is
// not published, so it reads the sandbox's manifests, and it registers over
// HTTP through the sandbox's control route at the manifest's URL.
//
// Host layout (INFERRED: the vendor documents the commands and the default
// install path, not what they write), every path under
// $TOKENCTL_SANDBOX_HOST_ROOT:
//
//	/etc/vmware/vdefend/installer.json     the installer's install and log paths
//	<install-path>/installer/VERSION       written by `install bms installer`
//	<install-path>/agent/registration.json the server this host registered as (no passphrase)
//	<log-path>/vdefend-cli.log             one line per action (no passphrase)

// Environment of the stand-in.
const (
	// EnvHostRoot prefixes every path vdefend-cli writes, so many "hosts"
	// can share one machine.
	EnvHostRoot = "TOKENCTL_SANDBOX_HOST_ROOT"
	// EnvHostname replaces os.Hostname() as the name the host registers
	// with (its server's display_name).
	EnvHostname = "TOKENCTL_SANDBOX_HOSTNAME"
)

// The vendor's documented default install path, and the log path and
// installer config the stand-in uses.
const (
	DefaultInstallPath  = "/opt/vmware/vdefend"
	DefaultLogPath      = "/var/log/vmware/vdefend"
	installerConfigPath = "/etc/vmware/vdefend/installer.json"
)

// NewCmdVdefend builds `tokenctl sandbox vdefend-cli`.
func NewCmdVdefend(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vdefend-cli <command>",
		Short: "Stand-in for the vendor's baremetal host installer (vdefend-cli), against the sandbox",
		Long: `A stand-in for the vendor's host installer, vdefend-cli, for demos and tests against the
sandbox. It does on this machine what the vendor's does on a baremetal host, and registers
over HTTP at the URL in the registration manifest, through the sandbox's register route. It
is emulation only: the vendor's manifest format is not published, so it reads sandbox
manifests only, and it installs nothing but a few small files.

  vdefend-cli install bms installer [--install-path /opt/vmware/vdefend] [--log-path P]
  vdefend-cli install bms ssp --mf=MANIFEST-FILE --pp=PASSPHRASE
  vdefend-cli uninstall bms

Put it on PATH as vdefend-cli with a two-line shim (the sandbox's linux installer bundle,
GET /baremetal/download-linux-installer, carries the same file):

  #!/bin/sh
  exec tokenctl sandbox vdefend-cli "$@"

Many hosts on one machine: $` + EnvHostRoot + ` prefixes every path it writes (the
installer's config /etc/vmware/vdefend/installer.json, the install path, the log path; a path
already inside it, such as an install script's --install-path in a demo, is taken as is), and
$` + EnvHostname + ` replaces the hostname it registers with, which becomes the server's
display_name (INFERRED: the vendor does not say how a host names itself).

--pp mirrors the vendor's installer, which takes the passphrase as an argument, visible in
ps on the host while the install runs: the vendor's limitation, kept on purpose. It is the
one tokenctl argument exempt from the rule that secrets never go in argv.`,
		Example: `  export TOKENCTL_SANDBOX_HOST_ROOT=$PWD/host-1 TOKENCTL_SANDBOX_HOSTNAME=web-1
  tokenctl sandbox vdefend-cli install bms installer
  tokenctl sandbox vdefend-cli install bms ssp --mf=manifest.txt --pp="$(cat pp)"`,
	}
	installBMS := cmdutil.Group(&cobra.Command{
		Use:   "bms <command>",
		Short: "Install the baremetal server installer, or the agent registered with SSP",
		Example: `  tokenctl sandbox vdefend-cli install bms installer
  tokenctl sandbox vdefend-cli install bms ssp --mf=manifest.txt --pp="$(cat pp)"`,
	}, NewCmdVdefendInstaller(f, nil), NewCmdVdefendSSP(f, nil))
	install := cmdutil.Group(&cobra.Command{
		Use:   "install <component>",
		Short: "Install a vDefend component on this host",
		Example: `  tokenctl sandbox vdefend-cli install bms installer
  tokenctl sandbox vdefend-cli install bms ssp --mf=manifest.txt --pp="$(cat pp)"`,
	}, installBMS)
	uninstall := cmdutil.Group(&cobra.Command{
		Use:     "uninstall <component>",
		Short:   "Remove a vDefend component from this host",
		Example: `  tokenctl sandbox vdefend-cli uninstall bms`,
	}, NewCmdVdefendUninstall(f, nil))
	return cmdutil.Group(cmd, install, uninstall)
}

// host is the machine vdefend-cli acts on: a root that prefixes its paths.
type host struct {
	root string
}

func hostFromEnv() host { return host{root: os.Getenv(EnvHostRoot)} }

// path is p on this host. A path already inside the root is taken as is:
// the install script passes its --install-path to vdefend-cli and writes
// its marker there itself, and it cannot know it runs on an emulated host,
// so a demo gives it a path inside the host's root.
func (h host) path(p string) string {
	if h.root == "" || h.inside(p) {
		return p
	}
	return filepath.Join(h.root, p)
}

// inside reports whether p already lies within the root.
func (h host) inside(p string) bool {
	rel, err := filepath.Rel(filepath.Clean(h.root), filepath.Clean(p))
	return err == nil && filepath.IsAbs(p) && rel != ".." && !strings.HasPrefix(rel, "../")
}

// describe names p for messages, with the root when there is one.
func (h host) describe(p string) string {
	if h.root == "" || h.inside(p) {
		return p
	}
	return p + " (under " + h.root + ")"
}

// installerConfig is what `install bms installer` records for the others.
type installerConfig struct {
	InstallPath string `json:"install_path"`
	LogPath     string `json:"log_path"`
	Version     string `json:"version"`
}

// agentRegistration is what `install bms ssp` records: the server this host
// is. It never holds the passphrase.
type agentRegistration struct {
	SSP         string `json:"ssp"`
	TokenID     string `json:"token_id"`
	ServerID    string `json:"server_id"`
	DisplayName string `json:"display_name"`
}

func (h host) readConfig() (installerConfig, error) {
	var c installerConfig
	data, err := os.ReadFile(h.path(installerConfigPath))
	if errors.Is(err, fs.ErrNotExist) {
		return c, exit.Errorf(exit.Error, "the vDefend installer is not installed on this host (no %s): run `vdefend-cli install bms installer` first", h.describe(installerConfigPath))
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %v", h.describe(installerConfigPath), err)
	}
	return c, nil
}

// writeFile writes data atomically, creating the directories.
func (h host) writeFile(p string, data []byte, mode os.FileMode) error {
	full := h.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return writeError(h, p, err)
	}
	if err := fsutil.WriteFileAtomic(full, data, mode); err != nil {
		return writeError(h, p, err)
	}
	return nil
}

func writeError(h host, p string, err error) error {
	if errors.Is(err, fs.ErrPermission) && h.root == "" {
		return fmt.Errorf("cannot write %s: %v (emulating a host on this machine? set %s to a directory you own)", p, err, EnvHostRoot)
	}
	return fmt.Errorf("cannot write %s: %v", h.describe(p), err)
}

// log appends one line to the log (best effort: a log that cannot be
// written does not fail an install).
func (h host) log(logPath, format string, args ...any) {
	full := h.path(filepath.Join(logPath, "vdefend-cli.log"))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return
	}
	fh, err := os.OpenFile(full, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer fh.Close()
	fmt.Fprintf(fh, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// ---- install bms installer ----

// VdefendInstallerOptions are `vdefend-cli install bms installer`'s inputs.
type VdefendInstallerOptions struct {
	Factory     *cmdutil.Factory
	Host        host
	InstallPath string
	LogPath     string
}

// NewCmdVdefendInstaller builds `vdefend-cli install bms installer`.
func NewCmdVdefendInstaller(f *cmdutil.Factory, runF func(*VdefendInstallerOptions) error) *cobra.Command {
	opts := &VdefendInstallerOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "installer",
		Short: "Install the baremetal server installer on this host (sandbox stand-in)",
		Long: `Install the baremetal server installer: records the install and log paths in
/etc/vmware/vdefend/installer.json and writes <install-path>/installer/VERSION, every path
under $` + EnvHostRoot + ` when set. Running it again is harmless.`,
		Example: `  tokenctl sandbox vdefend-cli install bms installer
  TOKENCTL_SANDBOX_HOST_ROOT=$PWD/host-2 tokenctl sandbox vdefend-cli install bms installer --install-path /srv/vdefend`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = hostFromEnv()
			if runF != nil {
				return runF(opts)
			}
			return vdefendInstallerRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.InstallPath, "install-path", DefaultInstallPath, "absolute directory to install into")
	cmd.Flags().StringVar(&opts.LogPath, "log-path", DefaultLogPath, "absolute directory for the installer's log")
	return cmd
}

func vdefendInstallerRun(opts *VdefendInstallerOptions) error {
	var problems []exit.Problem
	for _, p := range []struct{ flag, v string }{{"--install-path", opts.InstallPath}, {"--log-path", opts.LogPath}} {
		if !filepath.IsAbs(p.v) {
			problems = append(problems, exit.Problem{Field: p.flag, Rule: fmt.Sprintf("%q must be an absolute path", p.v)})
		}
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	f, h := opts.Factory, opts.Host
	version := "tokenctl-sandbox-" + f.Build.Version
	if err := h.writeFile(filepath.Join(opts.InstallPath, "installer", "VERSION"), []byte(version+"\n"), 0o644); err != nil {
		return err
	}
	cfg, _ := json.MarshalIndent(installerConfig{InstallPath: opts.InstallPath, LogPath: opts.LogPath, Version: version}, "", "  ")
	if err := h.writeFile(installerConfigPath, append(cfg, '\n'), 0o644); err != nil {
		return err
	}
	h.log(opts.LogPath, "install bms installer: installed %s in %s", version, opts.InstallPath)
	f.Notice("vdefend-cli: installed the baremetal server installer in %s", h.describe(opts.InstallPath))
	return nil
}

// ---- install bms ssp ----

// VdefendSSPOptions are `vdefend-cli install bms ssp`'s inputs.
type VdefendSSPOptions struct {
	Factory      *cmdutil.Factory
	Host         host
	ManifestFile string
	// Passphrase comes from --pp, as the vendor's installer takes it.
	Passphrase string
	Hostname   string
}

// NewCmdVdefendSSP builds `vdefend-cli install bms ssp`.
func NewCmdVdefendSSP(f *cmdutil.Factory, runF func(*VdefendSSPOptions) error) *cobra.Command {
	opts := &VdefendSSPOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "ssp --mf=FILE --pp=PASSPHRASE",
		Short: "Install the agent and register this host with SSP (sandbox stand-in)",
		Long: `Install the baremetal agent and register this host with the SSP named in the registration
manifest: reads the sandbox manifest from --mf (as given, not under $` + EnvHostRoot + `), then
registers over HTTP at the manifest's URL with the passphrase and this host's name
($` + EnvHostname + `, else the machine's hostname). SSP starts the agent install
(ACCEPTED -> RUNNING -> SUCCESS on the sandbox clock). The server's id is recorded in
<install-path>/agent/registration.json; the passphrase is written nowhere.

Running it again on the same host with the same token does not register a second server;
an install that FAILED is started again.

--pp takes the passphrase as an argument because the vendor's installer does (it is visible
in ps while this runs: the vendor's limitation, the one exemption from tokenctl's rule that
secrets never go in argv). Global --ca-file and --insecure apply to a --tls sandbox.

Exit codes: 0 registered (or already), 1 the installer is not installed or another failure,
2 bad arguments or not a sandbox baremetal manifest, 3 wrong passphrase, 4 the token no
longer exists, 5 the token is EXPIRED or USED (or this host's server is being uninstalled),
6 SSP busy after retries, 7 SSP unreachable at the manifest's URL.`,
		Example: `  tokenctl sandbox vdefend-cli install bms ssp --mf=./manifest.txt --pp="$(cat pp)"`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = hostFromEnv()
			opts.Hostname = os.Getenv(EnvHostname)
			if runF != nil {
				return runF(opts)
			}
			return vdefendSSPRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.ManifestFile, "mf", "", "file holding the registration manifest")
	cmd.Flags().StringVar(&opts.Passphrase, "pp", "", "the registration token's passphrase (as the vendor's installer takes it; visible in ps)")
	return cmd
}

func vdefendSSPRun(cmd *cobra.Command, opts *VdefendSSPOptions) error {
	f, h := opts.Factory, opts.Host
	var problems []exit.Problem
	if opts.ManifestFile == "" {
		problems = append(problems, exit.Problem{Field: "--mf", Rule: "is required (the registration manifest file)"})
	}
	if opts.Passphrase == "" {
		problems = append(problems, exit.Problem{Field: "--pp", Rule: "is required (the registration token's passphrase)"})
	}
	var m ssp.Manifest
	if opts.ManifestFile != "" {
		data, err := readSmall(opts.ManifestFile)
		if err != nil {
			problems = append(problems, exit.Problem{Field: "--mf", Rule: err.Error()})
		} else if m, err = ssp.ParseManifest(data); err != nil {
			problems = append(problems, exit.Problem{Field: "--mf " + opts.ManifestFile, Rule: err.Error()})
		} else if m.DeviceType != "BAREMETAL" {
			problems = append(problems, exit.Problem{Field: "--mf " + opts.ManifestFile, Rule: fmt.Sprintf("the manifest is for a %s token; vdefend-cli installs baremetal servers", m.DeviceType)})
		}
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	cfg, err := h.readConfig()
	if err != nil {
		return err
	}
	hostname := opts.Hostname
	if hostname == "" {
		if hostname, err = os.Hostname(); err != nil {
			return fmt.Errorf("this host's name: %v (set %s)", err, EnvHostname)
		}
	}
	osName, osVersion := h.osRelease()
	c, err := registerClient(f, m.SSP, opts.Passphrase)
	if err != nil {
		return err
	}
	f.Notice("vdefend-cli: registering %s with SSP at %s", hostname, m.SSP)
	resp, err := c.Do(cmdutil.Context(cmd), client.Call{
		Operation: fmt.Sprintf("register host %s with SSP at %s", hostname, m.SSP),
		Method:    http.MethodPost,
		Path:      "/_sandbox/ssp/register",
		Body: map[string]any{
			"token_id": m.TokenID, "passphrase": opts.Passphrase, "hostname": hostname,
			"os_name": osName, "os_version": osVersion, "cpu_core_count": runtime.NumCPU(),
		},
		// The same hostname registers once, however often it is sent.
		Idempotent: client.True(),
	})
	if err != nil {
		h.log(cfg.LogPath, "install bms ssp: registering %s with %s failed: %v", hostname, m.SSP, exit.DetailOf(err).Message)
		return err
	}
	var ans struct {
		ServerID    string `json:"server_id"`
		DisplayName string `json:"display_name"`
		Created     bool   `json:"created"`
		LCMStatus   string `json:"lcm_status"`
	}
	if err := resp.JSON(&ans); err != nil {
		return err
	}
	reg, _ := json.MarshalIndent(agentRegistration{SSP: m.SSP, TokenID: m.TokenID, ServerID: ans.ServerID, DisplayName: ans.DisplayName}, "", "  ")
	if err := h.writeFile(filepath.Join(cfg.InstallPath, "agent", "registration.json"), append(reg, '\n'), 0o600); err != nil {
		return err
	}
	what := "registered"
	if !ans.Created {
		what = "already registered"
	}
	h.log(cfg.LogPath, "install bms ssp: %s %s with %s as baremetal server %s (install %s)", what, hostname, m.SSP, ans.ServerID, ans.LCMStatus)
	f.Notice("vdefend-cli: %s %s as baremetal server %s; agent install %s", what, ans.DisplayName, ans.ServerID, ans.LCMStatus)
	return nil
}

// registerClient is an HTTP client for the sandbox at baseURL, with the
// global TLS, timeout and --debug settings; the passphrase is redacted.
func registerClient(f *cmdutil.Factory, baseURL, passphrase string) (*client.Client, error) {
	var timeout time.Duration
	if v := f.String(cmdutil.FlagTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, exit.Usagef("--timeout %q: must be a positive duration such as 30s", v)
		}
		timeout = d
	}
	retryWait, err := cmdutil.RetryBaseWait()
	if err != nil {
		return nil, err
	}
	red := client.NewRedactor()
	red.AddSecret(passphrase)
	return client.New(client.Options{
		BaseURL:       baseURL,
		Timeout:       timeout,
		UserAgent:     "vdefend-cli (tokenctl sandbox " + f.Build.Version + ")",
		Debug:         f.DebugWriter(),
		Redactor:      red,
		DecodeError:   decodeControlError,
		RetryBaseWait: retryWait,
		TLS:           client.TLSOptions{CAFile: f.String(cmdutil.FlagCAFile), Insecure: f.Bool(cmdutil.FlagInsecure)},
	}, nil)
}

// decodeControlError reads the sandbox control routes' {"error": "..."}.
func decodeControlError(_ int, body []byte) *client.VendorError {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return nil
	}
	return &client.VendorError{Message: e.Error}
}

// readSmall reads a file of at most 1 MiB.
func readSmall(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s is larger than 1 MiB: not a registration manifest", path)
	}
	return data, nil
}

// osRelease reads NAME and VERSION_ID from the host's /etc/os-release (under
// the root when it has one, else the machine's); else the Go OS name.
func (h host) osRelease() (string, string) {
	for _, p := range []string{h.path("/etc/os-release"), "/etc/os-release"} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		vals := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				vals[k] = strings.Trim(v, `"'`)
			}
		}
		if vals["NAME"] != "" {
			return vals["NAME"], vals["VERSION_ID"]
		}
	}
	return runtime.GOOS, ""
}

// ---- uninstall bms ----

// VdefendUninstallOptions are `vdefend-cli uninstall bms`'s inputs.
type VdefendUninstallOptions struct {
	Factory *cmdutil.Factory
	Host    host
}

// NewCmdVdefendUninstall builds `vdefend-cli uninstall bms`.
func NewCmdVdefendUninstall(f *cmdutil.Factory, runF func(*VdefendUninstallOptions) error) *cobra.Command {
	opts := &VdefendUninstallOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "bms",
		Short: "Remove the baremetal agent and installer from this host (sandbox stand-in)",
		Long: `Remove the baremetal agent and the installer from this host: tells the SSP the host
registered with that its agent was removed locally (the server then shows
is_agent_local_uninstall, connectivity DOWN; uninstall it in SSP with ` + "`tokenctl baremetal uninstall`" + `),
then deletes the install path and the installer's config, under $` + EnvHostRoot + ` when set.
Nothing installed is not an error. An SSP that cannot be reached is a warning: the local
files are removed all the same.`,
		Example: `  tokenctl sandbox vdefend-cli uninstall bms`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = hostFromEnv()
			if runF != nil {
				return runF(opts)
			}
			return vdefendUninstallRun(cmd, opts)
		},
	}
	return cmd
}

func vdefendUninstallRun(cmd *cobra.Command, opts *VdefendUninstallOptions) error {
	f, h := opts.Factory, opts.Host
	cfg, err := h.readConfig()
	if err != nil {
		var coded *exit.CodedError
		if errors.As(err, &coded) {
			f.Notice("vdefend-cli: nothing to uninstall: the installer is not installed on this host")
			return nil
		}
		return err
	}
	regPath := filepath.Join(cfg.InstallPath, "agent", "registration.json")
	if data, err := os.ReadFile(h.path(regPath)); err == nil {
		var reg agentRegistration
		if json.Unmarshal(data, &reg) == nil && reg.ServerID != "" {
			if err := tellLocalUninstall(cmd, f, reg); err != nil {
				f.Warn("vdefend-cli: could not tell SSP at %s that the agent was removed: %v", reg.SSP, err)
			}
		}
	}
	for _, p := range []string{cfg.InstallPath, installerConfigPath} {
		if err := os.RemoveAll(h.path(p)); err != nil {
			return fmt.Errorf("removing %s: %v", h.describe(p), err)
		}
	}
	h.log(cfg.LogPath, "uninstall bms: removed %s", cfg.InstallPath)
	f.Notice("vdefend-cli: removed the baremetal agent and installer from %s", h.describe(cfg.InstallPath))
	return nil
}

func tellLocalUninstall(cmd *cobra.Command, f *cmdutil.Factory, reg agentRegistration) error {
	c, err := registerClient(f, reg.SSP, "")
	if err != nil {
		return err
	}
	_, err = c.Do(cmdutil.Context(cmd), client.Call{
		Operation:  "report the local uninstall of server " + reg.ServerID,
		Method:     http.MethodPost,
		Path:       "/_sandbox/ssp/local-uninstall",
		Body:       map[string]string{"server_id": reg.ServerID},
		Idempotent: client.True(),
	})
	return err
}
