package baremetal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// InstallerOptions are `baremetal installer`'s inputs.
type InstallerOptions struct {
	cmdutil.Verb

	BundleVersion string
	Windows       bool
	Output        string // -O FILE; "" or "-" is stdout
}

// NewCmdInstaller builds `baremetal installer` (GetBaremetalServerInstallerBundle,
// GetBaremetalServerWindowsAgentBundle).
func NewCmdInstaller(f *cmdutil.Factory, runF func(*InstallerOptions) error) *cobra.Command {
	opts := &InstallerOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "installer [--bundle-version V] [--windows] [-O FILE]",
		Short: "Download the baremetal installer bundle (ssp)",
		Long: `Download the Linux installer bundle for baremetal servers
(GetBaremetalServerInstallerBundle), or with --windows the Windows agent MSI
(GetBaremetalServerWindowsAgentBundle), of --bundle-version or the latest. The bundle
holds vdefend-cli, the host installer that 'token ... -o install-script' scripts run; ship
it to your hosts (scp, your configuration management); the hosts need no SSP credentials.

The bundle is streamed to -O FILE, never held in memory, with a progress bar on a
terminal's stderr. tokenctl writes a temporary file beside FILE and moves it into place
only when the download is complete, so an interrupted download leaves nothing behind. An
existing FILE is never replaced: when it already holds the same bytes the download is
discarded and the command succeeds (running it again is a no-op); when it holds other bytes
(another version), exit 5 and FILE is left as it is. With --dry-run nothing is downloaded or
written; it says what would be. Without -O (or with -O -) the bundle
goes to stdout, which must not be a terminal.`,
		Example: `  tokenctl baremetal installer -O vdefend-installer.tar.gz
  tokenctl baremetal installer --bundle-version 5.2.1.0.0.25821907 -O - | ssh host 'cat > vdefend-installer.tar.gz'
  tokenctl baremetal installer --windows -O vdefend-agent.msi`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, installerRun),
	}
	cmd.Flags().StringVar(&opts.BundleVersion, "bundle-version", "", "bundle_version to download (default: the latest)")
	cmd.Flags().BoolVar(&opts.Windows, "windows", false, "download the Windows agent bundle (MSI) instead of the Linux installer")
	cmd.Flags().StringVarP(&opts.Output, "output-file", "O", "", "write the bundle to this new file (- for stdout)")
	return cmd
}

func installerRun(opts *InstallerOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	var problems []exit.Problem
	if o.FilterFromEnv {
		o.DropEnvFilter()
	}
	if (o.Format != output.Table || o.Filtered()) && !o.DropEnvFormat() {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "does not apply: the bundle is written as is, to -O FILE or stdout"})
	}
	if cmdutil.Changed(opts.Cmd, "bundle-version") && strings.TrimSpace(opts.BundleVersion) == "" {
		problems = append(problems, exit.Problem{Field: "--bundle-version", Rule: "must not be empty (leave it out for the latest)"})
	}
	toStdout := opts.Output == "" || opts.Output == "-"
	if toStdout && f.IOStreams.IsStdoutTTY() {
		problems = append(problems, exit.Problem{Field: "-O", Rule: "the bundle is binary and stdout is a terminal: give -O FILE or redirect stdout"})
	}
	var dir string
	if !toStdout {
		dir = filepath.Dir(opts.Output)
		if st, err := os.Lstat(opts.Output); err == nil && !st.Mode().IsRegular() {
			problems = append(problems, exit.Problem{Field: "-O", Rule: fmt.Sprintf("%s exists and is not a regular file; tokenctl never replaces it: choose another name", opts.Output)})
		} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			problems = append(problems, exit.Problem{Field: "-O", Rule: fmt.Sprintf("the folder %s does not exist", dir)})
		}
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	what := "installer bundle"
	if opts.Windows {
		what = "Windows agent bundle"
	}
	if f.DryRun() {
		// A dry run writes no local file, and a bundle to stdout would be
		// that file: say what would be fetched, fetch nothing.
		version, dest := "the latest", "stdout"
		if opts.BundleVersion != "" {
			version = "version " + opts.BundleVersion
		}
		if !toStdout {
			dest = opts.Output
		}
		f.Notice("dry run: would download the %s (%s) to %s; nothing downloaded or written", what, version, dest)
		return nil
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	line := f.NewStatusLine()
	lastPct, lastMiB := int64(-1), int64(-1)
	progress := func(written, total int64) {
		if total > 0 {
			if pct := written * 100 / total; pct != lastPct {
				lastPct = pct
				filled := int(pct) * barWidth / 100
				line.Set("[%s%s] %3d%% %s of %s (%s)", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), pct, size(written), size(total), what)
			}
		} else if mib := written >> 20; mib != lastMiB {
			lastMiB = mib
			line.Set("downloading the %s: %s", what, size(written))
		}
	}
	if toStdout {
		n, err := sc.DownloadBaremetalInstaller(ctx, opts.BundleVersion, opts.Windows, f.IOStreams.Out, progress)
		line.Clear()
		if err != nil {
			return err
		}
		f.Notice("Wrote the %s (%s) to stdout.", what, size(n))
		return nil
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(opts.Output)+".part-*")
	if err != nil {
		return exit.Usagef("-O %s: %v", opts.Output, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := sc.DownloadBaremetalInstaller(ctx, opts.BundleVersion, opts.Windows, tmp, progress)
	line.Clear()
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A hard link fails when the name exists, so an existing file (or one
	// that appeared meanwhile) is never replaced: the same bytes make a
	// re-run a no-op, other bytes a conflict.
	if err := os.Link(tmp.Name(), opts.Output); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			err = renameNoReplace(tmp.Name(), opts.Output)
		}
		if errors.Is(err, fs.ErrExist) {
			same, cerr := sameContent(tmp.Name(), opts.Output)
			if cerr != nil {
				return exit.Usagef("-O %s: %v", opts.Output, cerr)
			}
			if !same {
				return exit.Errorf(exit.Conflict, "-O %s exists and holds other bytes than this %s (another version?); it was left as it is and the download discarded: remove it or choose another name", opts.Output, what)
			}
			f.Notice("%s already holds this %s (%s); left as it is.", opts.Output, what, size(n))
			return nil
		}
		if err != nil {
			return err
		}
	}
	os.Remove(tmp.Name())
	done = true
	f.Notice("Saved the %s (%s) to %s.", what, size(n), opts.Output)
	return nil
}

// sameContent reports whether two files hold the same bytes, reading both
// in step so that a large bundle is never held whole.
func sameContent(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	sa, err := fa.Stat()
	if err != nil {
		return false, err
	}
	sb, err := fb.Stat()
	if err != nil {
		return false, err
	}
	if !sb.Mode().IsRegular() || sa.Size() != sb.Size() {
		return false, nil
	}
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, errA := io.ReadFull(fa, bufA)
		nb, errB := io.ReadFull(fb, bufB)
		if !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if errA == io.EOF || errA == io.ErrUnexpectedEOF {
			return errB == io.EOF || errB == io.ErrUnexpectedEOF, nil
		}
		if errA != nil {
			return false, errA
		}
		if errB != nil {
			return false, errB
		}
	}
}

// barWidth is the width of the download's progress bar.
const barWidth = 24

// renameNoReplace moves src to dst where hard links are not supported,
// after checking once more that dst does not exist (fs.ErrExist if it does).
func renameNoReplace(src, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return fs.ErrExist
	}
	return os.Rename(src, dst)
}

// size renders a byte count: 512 B, 3.4 KiB, 45.0 MiB.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
