package cmdutil

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func TestStatusLineOnATerminalOnly(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	if l := NewFactory(ios, BuildInfo{}).NewStatusLine(); l != nil {
		t.Fatal("a status line without a terminal")
	}
	var nilLine *StatusLine
	nilLine.Set("x")
	nilLine.Clear()
	ios.SetTTY(false, false, true)
	l := NewFactory(ios, BuildInfo{}).NewStatusLine()
	l.Set("%d/%d registered", 1, 2)
	l.Set("%d/%d registered", 2, 2)
	l.Set("token %s", "EXPIRED\033[2J") // the server's words are escaped
	l.Clear()
	l.Clear()
	if got, want := stderr.String(), "\r\033[K1/2 registered\r\033[K2/2 registered\r\033[Ktoken EXPIRED\\x1b[2J\r\033[K"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

func TestWaitFlags(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	var w WaitFlags
	w.Register(cmd)
	if err := cmd.ParseFlags([]string{"--interval", "0s"}); err != nil {
		t.Fatal(err)
	}
	if ps := w.Validate(cmd, true); len(ps) != 1 || ps[0].Field != "--interval" {
		t.Errorf("problems %v", ps)
	}
	if ps := w.Validate(cmd, false); len(ps) != 2 || ps[1].Rule != "applies only with --wait" {
		t.Errorf("problems without --wait %v", ps)
	}
}
