package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/tokenctl/tokenctl/cmd"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// Generated directories, relative to the module root. Generate owns them:
// files it did not write are removed, so a deleted command loses its page.
const (
	ReferenceDir   = "docs/reference"
	ManDir         = "docs/man"
	CompletionsDir = "completions"
)

// manDate is the date in every man page's footer. A fixed date keeps the
// pages byte-reproducible; the version is in `tokenctl version`.
var manDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewRoot builds the command tree as users see it, including cobra's
// default `completion` command, with build information that does not vary.
func NewRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "dev", Commit: "none", Date: "unknown"})
	root := cmd.NewCmdRoot(f)
	root.InitDefaultCompletionCmd()
	disableAutoGenTag(root)
	return root
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// Files renders every generated file: path (slash-separated, relative to
// the module root) to contents.
func Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	if err := reference(NewRoot(), files); err != nil {
		return nil, err
	}
	if err := manPages(NewRoot(), files); err != nil {
		return nil, err
	}
	if err := completions(NewRoot(), files); err != nil {
		return nil, err
	}
	return files, nil
}

// Generate writes the files under dir (the module root) and removes stale
// ones from the generated directories.
func Generate(dir string) error {
	files, err := Files()
	if err != nil {
		return err
	}
	for _, d := range []string{ReferenceDir, ManDir, CompletionsDir} {
		abs := filepath.Join(dir, filepath.FromSlash(d))
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(abs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			rel := d + "/" + e.Name()
			if _, ok := files[rel]; !ok && !e.IsDir() {
				if err := os.Remove(filepath.Join(abs, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// visible lists the commands that get a page, as cobra/doc decides.
func visible(c *cobra.Command, fn func(*cobra.Command) error) error {
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := visible(sub, fn); err != nil {
			return err
		}
	}
	return fn(c)
}

func reference(root *cobra.Command, files map[string][]byte) error {
	link := func(name string) string { return name } // pages link to each other in one folder
	return visible(root, func(c *cobra.Command) error {
		var buf bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &buf, link); err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		files[ReferenceDir+"/"+name] = buf.Bytes()
		return nil
	})
}

func manPages(root *cobra.Command, files map[string][]byte) error {
	date := manDate
	return visible(root, func(c *cobra.Command) error {
		header := &doc.GenManHeader{
			Title:   strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-")),
			Section: "1",
			Date:    &date,
			Source:  "tokenctl",
			Manual:  "tokenctl manual",
		}
		var buf bytes.Buffer
		if err := doc.GenMan(c, header, &buf); err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		files[ManDir+"/"+name] = withSections(buf.Bytes(), manSections(root))
		return nil
	})
}

func completions(root *cobra.Command, files map[string][]byte) error {
	gens := []struct {
		name string
		gen  func(io.Writer) error
	}{
		{"tokenctl.bash", func(w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
		{"tokenctl.zsh", root.GenZshCompletion},
		{"tokenctl.fish", func(w io.Writer) error { return root.GenFishCompletion(w, true) }},
		{"tokenctl.ps1", root.GenPowerShellCompletionWithDesc},
	}
	for _, g := range gens {
		var buf bytes.Buffer
		if err := g.gen(&buf); err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
		files[CompletionsDir+"/"+g.name] = buf.Bytes()
	}
	return nil
}

// manSections are the EXIT STATUS and ENVIRONMENT sections every man page
// gets (cobra/doc writes neither), from the same tables as `tokenctl help
// exit-codes` and `tokenctl help environment`.
func manSections(root *cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString(".SH EXIT STATUS\n")
	for _, m := range exit.Table {
		fmt.Fprintf(&b, ".TP\n\\fB%d\\fP\n%s\n", m.Code, roff(m.Meaning))
	}
	b.WriteString(".SH ENVIRONMENT\n")
	b.WriteString("Secrets come only from the environment, a prompt or files, never from a flag value.\n")
	groups := [][]cmdutil.EnvVar{cmdutil.SecretEnv, cmdutil.FlagEnv(root), cmdutil.OtherEnv}
	for _, vars := range groups {
		for _, v := range vars {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roff(v.Name), roff(v.Description))
		}
	}
	b.WriteString(".PP\nPrecedence: flag > environment > profile > default.\n")
	return b.Bytes()
}

// withSections inserts sections before SEE ALSO (or at the end).
func withSections(page, sections []byte) []byte {
	marker := []byte(".SH SEE ALSO\n")
	i := bytes.Index(page, marker)
	if i < 0 {
		return append(page, sections...)
	}
	out := make([]byte, 0, len(page)+len(sections))
	out = append(out, page[:i]...)
	out = append(out, sections...)
	return append(out, page[i:]...)
}

// roff escapes text for a man page line: backslashes, and a leading dot or
// quote that roff would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\e")
	s = strings.ReplaceAll(s, "-", "\\-")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\\&" + s
	}
	return s
}
