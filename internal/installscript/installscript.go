// Package installscript renders `-o install-script`: a POSIX sh script that
// registers one baremetal host with SSP through the vendor's host installer,
// vdefend-cli (DESIGN.md, Output). The script needs no SSP credentials: it
// carries the token's registration manifest, and the passphrase either
// embedded or read on the host from a file.
package installscript

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// DefaultInstallPath is where the vendor's installer installs by default
// (vdefend-cli install bms installer --install-path).
const DefaultInstallPath = "/opt/vmware/vdefend"

// MarkerName is the file the script writes into the install path after a
// successful install. The vendor documents no command that says whether a
// host is installed, so this marker is tokenctl's own, INFERRED guard.
const MarkerName = ".tokenctl-registered"

// Script is what the rendered script does.
type Script struct {
	// TokenID and DisplayName name the token in comments and messages.
	TokenID     string
	DisplayName string
	// Manifest is the registration manifest, written byte for byte to the
	// temporary file the installer reads.
	Manifest string
	// Passphrase is embedded when set; otherwise the script reads the first
	// line of HostPassphraseFile on the host.
	Passphrase         string
	HostPassphraseFile string
	// InstallPath is the default install path ("" for DefaultInstallPath);
	// `sh -s -- --install-path DIR` overrides it on the host.
	InstallPath string
}

// Render returns the script.
func (s Script) Render() ([]byte, error) {
	if s.Manifest == "" {
		return nil, errors.New("install script: the token has no registration manifest")
	}
	if s.Passphrase == "" && s.HostPassphraseFile == "" {
		return nil, errors.New("install script: needs a passphrase or a passphrase file on the host")
	}
	for name, v := range map[string]string{"manifest": s.Manifest, "passphrase": s.Passphrase, "passphrase file": s.HostPassphraseFile, "install path": s.InstallPath} {
		if strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("install script: the %s contains a NUL byte, which no shell can carry", name)
		}
	}
	if strings.ContainsAny(s.Passphrase, "\r\n") {
		return nil, errors.New("install script: the passphrase contains a line break")
	}
	if s.InstallPath == "" {
		s.InstallPath = DefaultInstallPath
	}
	var buf bytes.Buffer
	err := scriptTemplate.Execute(&buf, map[string]any{
		"TokenID":     oneLine(s.TokenID),
		"DisplayName": oneLine(s.DisplayName),
		"Manifest":    quote(s.Manifest),
		"Passphrase":  quote(s.Passphrase),
		"HasPP":       s.Passphrase != "",
		"PPFile":      quote(s.HostPassphraseFile),
		"InstallPath": quote(s.InstallPath),
		"TokenQ":      quote(s.TokenID),
		"Marker":      MarkerName,
	})
	return buf.Bytes(), err
}

// quote makes s one single-quoted sh word: everything between single quotes
// is literal, and a single quote is written as '\”.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine keeps server-controlled text inside a comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

var scriptTemplate = template.Must(template.New("install").Parse(`#!/bin/sh
# Registers this host with SSP: baremetal registration token {{.TokenID}} ({{.DisplayName}}).
# Written by tokenctl (-o install-script). Run it as root, for example
#   tokenctl ... -o install-script | ssh HOST sudo sh
# Options (piped: sh -s -- OPTIONS):
#   --force              install again although this host's marker says it is done
#   --install-path DIR   where the vendor's installer goes (default below)
# Needs vdefend-cli, the vendor's host installer, on PATH (it comes in the bundle
# that 'tokenctl baremetal installer' downloads); needs no SSP credentials.
# The marker file is tokenctl's own guard: the vendor documents no command that
# tells whether a host is installed (INFERRED).
# vdefend-cli takes the passphrase as --pp=...: while it runs, the passphrase is
# visible in 'ps' on this host. That is how the vendor's installer works.
# vdefend-cli runs with stdin from /dev/null: piped into sh, the rest of this
# script is on stdin.
set -u
say() { printf 'install script: %s\n' "$*" >&2; }
token_id={{.TokenQ}}
install_path={{.InstallPath}}
force=0
while [ "$#" -gt 0 ]; do
	case $1 in
	--force) force=1 ;;
	--install-path)
		if [ "$#" -lt 2 ]; then
			say "--install-path needs a directory"
			exit 2
		fi
		install_path=$2
		shift
		;;
	--install-path=*) install_path=${1#--install-path=} ;;
	*)
		say "unknown option $1 (options: --force, --install-path DIR)"
		exit 2
		;;
	esac
	shift
done
marker="$install_path/{{.Marker}}"
if [ -f "$marker" ] && [ "$force" -eq 0 ]; then
	say "already registered (marker $marker); --force installs again"
	exit 0
fi
if ! command -v vdefend-cli >/dev/null 2>&1; then
	say "vdefend-cli is not on PATH: install the bundle from 'tokenctl baremetal installer' first"
	exit 127
fi
{{- if .HasPP}}
pp={{.Passphrase}}
{{- else}}
pp_file={{.PPFile}}
if [ ! -r "$pp_file" ]; then
	say "cannot read the passphrase file $pp_file"
	exit 2
fi
pp=
IFS= read -r pp <"$pp_file" || :
cr=$(printf '\r')
pp=${pp%"$cr"}
if [ -z "$pp" ]; then
	say "the passphrase file $pp_file is empty"
	exit 2
fi
{{- end}}
umask 077
mf=$(mktemp "${TMPDIR:-/tmp}/tokenctl-manifest.XXXXXX") || exit 1
trap 'rm -f "$mf"' EXIT
trap 'rm -f "$mf"; trap - EXIT; exit 129' HUP
trap 'rm -f "$mf"; trap - EXIT; exit 130' INT
trap 'rm -f "$mf"; trap - EXIT; exit 143' TERM
printf '%s' {{.Manifest}} >"$mf" || exit 1
if [ -d "$install_path" ] && [ -n "$(ls -A "$install_path" 2>/dev/null)" ]; then
	say "the installer is already in $install_path"
else
	vdefend-cli install bms installer --install-path "$install_path" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		say "vdefend-cli install bms installer failed (exit $rc)"
		exit "$rc"
	fi
fi
vdefend-cli install bms ssp --mf="$mf" --pp="$pp" </dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
	say "vdefend-cli install bms ssp failed (exit $rc)"
	exit "$rc"
fi
mkdir -p "$install_path" &&
	printf 'token_id=%s\ninstalled_at=%s\n' "$token_id" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$marker" || {
	say "installed, but the marker $marker could not be written"
	exit 1
}
say "registered with SSP (token $token_id); marker $marker"
`))
