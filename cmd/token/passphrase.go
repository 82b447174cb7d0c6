package token

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// PassphraseFlags are the ways a registration-token passphrase can arrive.
// None of them is a plain flag value: a secret in argv leaks through ps and
// shell history.
type PassphraseFlags struct {
	Stdin    bool   // --passphrase-stdin
	File     string // --passphrase-file: read it, or with Generate write it
	Generate bool   // --generate-passphrase
	// Reuse (--skip-existing) lets --generate-passphrase take the
	// passphrase from an existing --passphrase-file, which an earlier run of
	// the same command generated, so that a re-run gives the tokens it
	// still creates the passphrase of the others.
	Reuse bool

	// reused is set when Reuse found the file.
	reused bool
	// generated is the passphrase made by --generate-passphrase.
	generated string
	// written is true once the generated passphrase is in File.
	written bool
}

// PassphraseEnv supplies a passphrase from the environment.
const PassphraseEnv = "TOKENCTL_PASSPHRASE"

// Validate checks the combination before anything is read or sent.
func (pf *PassphraseFlags) Validate(f *cmdutil.Factory) []exit.Problem {
	var ps []exit.Problem
	if pf.Generate && pf.Stdin {
		ps = append(ps, exit.Problem{Field: "--generate-passphrase", Rule: "cannot be combined with --passphrase-stdin"})
	}
	if pf.Generate {
		if pf.File != "" {
			if _, err := os.Lstat(pf.File); err == nil && pf.Reuse {
				pf.reused = true
			} else if err == nil {
				ps = append(ps, exit.Problem{Field: "--passphrase-file", Rule: fmt.Sprintf("%s already exists; a generated passphrase is never written over a file (choose a new path)", pf.File)})
			}
		} else if !f.IOStreams.IsStderrTTY() {
			ps = append(ps, exit.Problem{Field: "--generate-passphrase", Rule: "needs --passphrase-file PATH when stderr is not a terminal: the passphrase is needed again at registration and would otherwise be lost"})
		}
	}
	return ps
}

// Fresh reports a passphrase that --generate-passphrase has just made
// (not one read back from an earlier run's --passphrase-file): no token
// that exists already can have it.
func (pf *PassphraseFlags) Fresh() bool { return pf.Generate && !pf.reused }

// Resolve returns the passphrase from the flags, or "" when none of them
// gives one (the manifest, TOKENCTL_PASSPHRASE or a prompt may still).
func (pf *PassphraseFlags) Resolve(f *cmdutil.Factory) (string, error) {
	switch {
	case pf.Generate && pf.reused:
		return readPassphraseFile("--passphrase-file", pf.File)
	case pf.Generate:
		if pf.generated == "" {
			p, err := ssp.GeneratePassphrase()
			if err != nil {
				return "", err
			}
			pf.generated = p
		}
		return pf.generated, nil
	case pf.Stdin:
		p, err := f.IOStreams.ReadSecretLine()
		if err != nil {
			return "", exit.Usagef("--passphrase-stdin: %v", err)
		}
		if p == "" {
			return "", exit.Usagef("--passphrase-stdin: stdin was empty")
		}
		return p, nil
	case pf.File != "":
		return readPassphraseFile("--passphrase-file", pf.File)
	}
	return "", nil
}

// readPassphraseFile reads a passphrase file's first line.
func readPassphraseFile(flag, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", exit.Usagef("%s: %v", flag, err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", exit.Usagef("%s %s: empty", flag, path)
	}
	return line, nil
}

// Fallback gives the passphrase when neither flags nor manifest did:
// TOKENCTL_PASSPHRASE, else a form at a terminal (typed twice, checked
// inline against the vendor's rule).
func Fallback(f *cmdutil.Factory) (string, error) {
	if p := os.Getenv(PassphraseEnv); p != "" {
		return p, nil
	}
	if !f.IOStreams.CanPrompt() {
		return "", nil // reported by validation as a missing passphrase
	}
	var p string
	err := f.Ask(&prompt.Form{Fields: passphraseFields(&p, nil)}, "created")
	return p, err
}

// Persist writes a generated passphrase to --passphrase-file (created 0600,
// never overwritten) before the create is sent, so a token never exists
// whose passphrase was lost.
func (pf *PassphraseFlags) Persist() error {
	if !pf.Generate || pf.File == "" || pf.reused {
		return nil
	}
	fh, err := os.OpenFile(pf.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return exit.Usagef("--passphrase-file %s already exists; a generated passphrase is never written over a file", pf.File)
	}
	if err != nil {
		return exit.Usagef("--passphrase-file: %v", err)
	}
	if _, err := fh.WriteString(pf.generated + "\n"); err != nil {
		fh.Close()
		os.Remove(pf.File)
		return err
	}
	if err := fh.Close(); err != nil {
		os.Remove(pf.File)
		return err
	}
	pf.written = true
	return nil
}

// Done reports the generated passphrase after the create: shown once on a
// terminal's stderr when there is no file, or where the file is. When no
// token can have been made (definite is true) a written file is removed.
func (pf *PassphraseFlags) Done(f *cmdutil.Factory, created, definite bool) {
	if !pf.Generate || pf.reused {
		return
	}
	switch {
	case pf.written && !created && definite:
		os.Remove(pf.File)
	case pf.written && !created:
		f.Warn("the generated passphrase stays in %s in case the server created the token anyway", pf.File)
	case pf.written:
		f.Notice("Passphrase written to %s (mode 0600); it is needed again at registration.", pf.File)
	case created:
		fmt.Fprintf(f.IOStreams.ErrOut, "Passphrase (shown once; needed again at registration): %s\n", pf.generated)
	}
}
