package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/tokenctl/tokenctl/internal/escape"
)

// Tables for people: kubectl's layout (no borders, left-aligned, two spaces
// between columns, no trailing blanks), streamed with bounded memory.
//
// The table holds the rows of the first page (at most sizingRows) to size
// its columns, prints them, and prints every later row as it arrives with
// the same widths, as kubectl does with chunks: memory stays flat however
// long the list. A later cell wider than its column pushes the rest of its
// row right (kubectl's behaviour) rather than being lost; free text is cut
// to fit the terminal instead.
//
// Widths: with a width limit (the terminal's; -o wide has none) and a table
// too wide for it, the free-text columns (Column.Text: names, descriptions)
// are shortened, the widest first, down to a minimum, and their cells end
// in "…". ids, states, numbers and times are never cut: when they alone are
// wider than the terminal, lines run over.
//
// Cells are server text, so they are escaped (Escape) before they are
// measured; colours are added after padding, so they never count as width.
//
// The rows are laid out here rather than by tablewriter's streaming mode:
// at 60 µs and 150 allocations a row it took 6 s for 100,000 sensors,
// three times -o json's whole run. Display widths and ellipsis cuts come
// from charmbracelet/x/ansi (grapheme clusters, wide characters), which the
// prompts link anyway; tablewriter's twwidth did the same but its package
// init allocated a 650 KB cache in every tokenctl process (7% of `tokenctl
// version`).

const (
	// columnGap separates columns.
	columnGap = 2
	// sizingRows caps the rows held to size the columns when no page end
	// comes first.
	sizingRows = 1000
	// minTextWidth is the narrowest a free-text column is cut to (or its
	// header's width, if wider).
	minTextWidth = 8
	ellipsis     = "…"
)

type tableList struct {
	p       *Printer
	noun    string
	cols    []Column
	wide    bool
	clock   func() time.Time
	now     time.Time // clock at the first row: relative times of one table agree
	item    Item
	pending [][]string // rows held until the columns are sized
	widths  []int      // nil until sized
	w       *streamWriter
	n       int
	line    []byte
}

func newTableList(p *Printer, kind Kind) *tableList {
	wide := p.opts.Format == Wide
	var cols []Column
	for _, c := range kind.Columns {
		if wide || !c.Wide {
			cols = append(cols, c)
		}
	}
	now := time.Now
	if p.opts.Now != nil {
		now = p.opts.Now
	}
	return &tableList{p: p, noun: kind.noun(), cols: cols, wide: wide, clock: now, w: newStreamWriter(p.io.Out)}
}

func (l *tableList) Add(raw json.RawMessage) error {
	if err := l.item.parse(raw); err != nil {
		return err
	}
	if l.now.IsZero() {
		// Read at the first row, not when the table was made: the clock
		// may be the server's, known from its first answer.
		l.now = l.clock()
	}
	row := make([]string, len(l.cols))
	for i, c := range l.cols {
		row[i] = escape.Text(c.cell(l.item, l.wide, l.now))
	}
	l.n++
	if l.widths == nil {
		l.pending = append(l.pending, row)
		if len(l.pending) >= sizingRows {
			return l.EndPage()
		}
		return nil
	}
	return l.writeRow(row, false)
}

func (l *tableList) Count() int { return l.n }

// EndPage sizes the columns on the rows so far, once, and prints them.
func (l *tableList) EndPage() error {
	if l.widths != nil || len(l.pending) == 0 {
		return nil
	}
	l.size()
	if !l.p.opts.NoHeaders {
		hdr := make([]string, len(l.cols))
		for i, c := range l.cols {
			hdr[i] = c.Header
		}
		if err := l.writeRow(hdr, true); err != nil {
			return err
		}
	}
	for _, r := range l.pending {
		if err := l.writeRow(r, false); err != nil {
			return err
		}
	}
	l.pending = nil
	return nil
}

func (l *tableList) Close() error {
	if l.n == 0 {
		_, err := fmt.Fprintf(l.p.io.ErrOut, "No %ss found.\n", l.noun)
		return err
	}
	return errors.Join(l.EndPage(), l.w.Flush())
}

// size sets the column widths from the held rows (and the headers), then
// fits them into the width limit.
func (l *tableList) size() {
	l.widths = make([]int, len(l.cols))
	minW := make([]int, len(l.cols))
	for i, c := range l.cols {
		if !l.p.opts.NoHeaders {
			l.widths[i] = displayWidth(c.Header)
		}
		minW[i] = max(l.widths[i], minTextWidth)
	}
	for _, r := range l.pending {
		for i, cell := range r {
			l.widths[i] = max(l.widths[i], displayWidth(cell))
		}
	}
	limit := l.p.opts.Width
	if limit <= 0 || l.wide {
		return
	}
	total := columnGap * (len(l.widths) - 1)
	for _, w := range l.widths {
		total += w
	}
	// Shorten the widest free-text column by one until the table fits or
	// every free-text column is at its minimum.
	for ; total > limit; total-- {
		widest := -1
		for i, c := range l.cols {
			if c.Text && l.widths[i] > minW[i] && (widest < 0 || l.widths[i] > l.widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return
		}
		l.widths[widest]--
	}
}

// writeRow writes one line: cells padded to their columns, the last one
// unpadded, free text cut with an ellipsis where the table was narrowed,
// states coloured.
func (l *tableList) writeRow(cells []string, header bool) error {
	b := l.line[:0]
	pad := 0
	for i, cell := range cells {
		for range pad {
			b = append(b, ' ')
		}
		w := displayWidth(cell)
		if w > l.widths[i] && l.cols[i].Text && !l.wide && l.p.opts.Width > 0 {
			cell = ansi.Truncate(cell, l.widths[i], ellipsis)
			w = displayWidth(cell)
		}
		if color := l.color(i, cell, header); color != "" {
			b = append(b, color...)
			b = append(b, cell...)
			b = append(b, colorReset...)
		} else {
			b = append(b, cell...)
		}
		pad = max(l.widths[i]-w, 0) + columnGap
	}
	// No trailing blanks: drop the padding of empty last cells.
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	b = append(b, '\n')
	l.line = b
	_, err := l.w.Write(b)
	return err
}

func (l *tableList) color(i int, cell string, header bool) string {
	if header || !l.p.opts.Color || !l.cols[i].State {
		return ""
	}
	return StateColor(cell)
}

// displayWidth is the number of terminal cells s takes: its length for
// ASCII (the common case, measured without a lookup), else its grapheme
// clusters' widths.
func displayWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// KeyValues prints "key: value" lines, the values aligned (profile show,
// check). Values are escaped: they may quote what a server said.
func KeyValues(w io.Writer, pairs [][2]string) error {
	n := 0
	for _, p := range pairs {
		n = max(n, displayWidth(p[0]))
	}
	var b []byte
	for _, p := range pairs {
		b = append(b, p[0]...)
		b = append(b, ':')
		if v := escape.Text(p[1]); v != "" {
			for range n - displayWidth(p[0]) + 1 {
				b = append(b, ' ')
			}
			b = append(b, v...)
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}
