package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/escape"
)

// Progress is a one-line progress bar for a batch, drawn on stderr only when
// stderr is a terminal (and not --quiet), so scripts and logs never see it.
// Its methods are safe for concurrent use; a nil *Progress does nothing.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	verb   string
	total  int
	done   int
	failed int
	drawn  bool
}

// NewProgress returns a progress bar for total items of a batch ("created",
// "deleted"), or nil when nothing should be drawn: stderr is not a terminal,
// --quiet, or a single item.
func (f *Factory) NewProgress(verb string, total int) *Progress {
	if total < 2 || !f.IOStreams.IsStderrTTY() || f.Bool(FlagQuiet) {
		return nil
	}
	p := &Progress{w: f.IOStreams.ErrOut, verb: verb, total: total}
	p.mu.Lock()
	p.draw()
	p.mu.Unlock()
	return p
}

// Item counts one finished item.
func (p *Progress) Item(ok bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if !ok {
		p.failed++
	}
	p.draw()
}

// Println prints a line above the bar (a per-item notice).
func (p *Progress) Println(line string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s\n", line)
	p.draw()
}

// Finish erases the bar.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		io.WriteString(p.w, "\r\033[K")
		p.drawn = false
	}
}

const progressWidth = 24

func (p *Progress) draw() {
	filled := progressWidth * p.done / p.total
	var b strings.Builder
	b.WriteString("\r\033[K[")
	b.WriteString(strings.Repeat("#", filled))
	b.WriteString(strings.Repeat(".", progressWidth-filled))
	fmt.Fprintf(&b, "] %d/%d %s", p.done-p.failed, p.total, p.verb)
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d failed", p.failed)
	}
	io.WriteString(p.w, b.String())
	p.drawn = true
}

// RunBulk runs a batch with bulk.Run, at most concurrency items at a time,
// with a progress bar on a terminal's stderr. verb is the past tense of what
// an item does ("created"). When ctx is cancelled (Ctrl-C), items not yet
// started are marked interrupted; the results of finished items are kept.
func (f *Factory) RunBulk(ctx context.Context, verb string, sources []string, concurrency int,
	fn func(ctx context.Context, i int, pr *Progress) (json.RawMessage, error)) []bulk.Result {
	pr := f.NewProgress(verb, len(sources))
	results := bulk.Run(ctx, sources, concurrency, func(ctx context.Context, i int) (json.RawMessage, error) {
		v, err := fn(ctx, i, pr)
		pr.Item(err == nil)
		return v, err
	})
	pr.Finish()
	return results
}

// NoticeAbove prints a notice like Notice, above a progress bar if one is
// drawn.
func (f *Factory) NoticeAbove(pr *Progress, format string, args ...any) {
	if f.Bool(FlagQuiet) {
		return
	}
	if pr != nil {
		pr.Println(fmt.Sprintf(format, escape.Args(args)...))
		return
	}
	f.Notice(format, args...)
}
