package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tableList collects rows (only the shown cells, not the items) and renders
// them at Close, since column widths need every row.
type tableList struct {
	p    *Printer
	kind Kind
	rows [][]string
}

func (l *tableList) Add(raw json.RawMessage) error {
	item, err := ParseItem(raw)
	if err != nil {
		return err
	}
	row := make([]string, len(l.kind.Columns))
	for i, c := range l.kind.Columns {
		row[i] = c.Value(item)
	}
	l.rows = append(l.rows, row)
	return nil
}

func (l *tableList) Count() int { return len(l.rows) }

func (l *tableList) Close() error {
	if len(l.rows) == 0 {
		noun := l.kind.Noun
		if noun == "" {
			noun = "item"
		}
		_, err := fmt.Fprintf(l.p.io.ErrOut, "No %ss found.\n", noun)
		return err
	}
	headers := make([]string, len(l.kind.Columns))
	for i, c := range l.kind.Columns {
		headers[i] = c.Header
	}
	return RenderTable(l.p.io.Out, headers, l.rows)
}

// RenderTable writes rows under headers, kubectl style: no borders, columns
// three spaces apart, no trailing blanks.
func RenderTable(w io.Writer, headers []string, rows [][]string) error {
	pads := make([]tw.Padding, len(headers))
	for i := range pads {
		pads[i] = tw.Padding{Right: "   ", Overwrite: true}
	}
	if len(pads) > 0 {
		pads[len(pads)-1] = tw.Padding{Overwrite: true}
	}
	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderPaddingPerColumn(pads),
		tablewriter.WithRowPaddingPerColumn(pads),
	)
	table.Header(headers)
	for _, r := range rows {
		if err := table.Append(r); err != nil {
			return err
		}
	}
	if err := table.Render(); err != nil {
		return err
	}
	for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		line = bytes.TrimRight(line, " \n")
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// KeyValues prints a two-column NAME/VALUE table (profile show, check).
func KeyValues(w io.Writer, pairs [][2]string) error {
	rows := make([][]string, len(pairs))
	for i, p := range pairs {
		rows[i] = []string{p[0] + ":", p[1]}
	}
	var buf bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&buf, "%-*s %s\n", maxKey(pairs)+1, r[0], r[1])
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func maxKey(pairs [][2]string) int {
	n := 0
	for _, p := range pairs {
		if len(p[0]) > n {
			n = len(p[0])
		}
	}
	return n
}
