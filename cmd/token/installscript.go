package token

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/installscript"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ScriptFlags shape -o install-script (DESIGN.md, Output).
type ScriptFlags struct {
	// HostPassphraseFile is where the script reads the passphrase on the
	// host, instead of carrying it.
	HostPassphraseFile string
	// InstallPath is the script's default install path.
	InstallPath string
}

// Register adds --host-passphrase-file and --install-path.
func (s *ScriptFlags) Register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.HostPassphraseFile, "host-passphrase-file", "", "-o install-script: the script reads the passphrase from this file on the host instead of carrying it")
	fl.StringVar(&s.InstallPath, "install-path", installscript.DefaultInstallPath, "-o install-script: the install path on the host (vdefend-cli --install-path; the script's marker goes there)")
}

// Problems checks the flags against the output format, before anything is
// sent.
func (s *ScriptFlags) Problems(cmd *cobra.Command, format string) []exit.Problem {
	var ps []exit.Problem
	if format != output.InstallScript {
		for _, name := range []string{"host-passphrase-file", "install-path"} {
			if cmdutil.Changed(cmd, name) {
				ps = append(ps, exit.Problem{Field: "--" + name, Rule: "applies only with -o install-script"})
			}
		}
		return ps
	}
	if cmdutil.Changed(cmd, "host-passphrase-file") && !path.IsAbs(s.HostPassphraseFile) {
		ps = append(ps, exit.Problem{Field: "--host-passphrase-file", Rule: "must be an absolute path on the host, e.g. /etc/vdefend/passphrase"})
	}
	if !path.IsAbs(s.InstallPath) || strings.ContainsAny(s.InstallPath, "\n\r") {
		ps = append(ps, exit.Problem{Field: "--install-path", Rule: "must be an absolute path on the host, e.g. " + installscript.DefaultInstallPath})
	}
	return ps
}

// printInstallScript prints the install script of a baremetal token from
// its status (TokenStatusInfo): exit 5 and nothing on stdout when the token
// is EXPIRED or USED. passphrase is embedded unless --host-passphrase-file
// was given.
func printInstallScript(f *cmdutil.Factory, o output.Options, statusRaw json.RawMessage, passphrase string, flags ScriptFlags) error {
	var info ssp.TokenInfo
	if err := json.Unmarshal(statusRaw, &info); err != nil {
		return err
	}
	manifest, err := liveManifest(&info, "baremetal registration token")
	if err != nil {
		return err
	}
	s := installscript.Script{
		TokenID:     info.ID,
		DisplayName: info.DisplayName,
		Manifest:    manifest,
		InstallPath: flags.InstallPath,
	}
	if flags.HostPassphraseFile != "" {
		s.HostPassphraseFile = flags.HostPassphraseFile
	} else {
		s.Passphrase = passphrase
	}
	out, err := s.Render()
	if err != nil {
		return err
	}
	_, err = f.IOStreams.Out.Write(out)
	return err
}
