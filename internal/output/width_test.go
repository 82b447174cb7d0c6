package output

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestTableWidthsOfWideCharacters: names in CJK script, with emoji or
// combining marks take their display width, not their byte or rune count,
// so the next column still starts in one place; a cut keeps whole
// characters and the line within the terminal's width.
func TestTableWidthsOfWideCharacters(t *testing.T) {
	for s, want := range map[string]int{"edge-01": 7, "東京-センサー": 13, "café": 4, "cafe\u0301": 4, "ok 🙂": 5} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
	items := []string{
		tok("東京-センサー-第一データセンター", "366a0c3f-6a06-4c46-8de1-476ec7858c64", "AVAILABLE", 12*time.Minute, ""),
		tok("edge-01", "0aa0fddf-3caf-4ac1-bbef-44812825465c", "USED", 90*time.Minute, ""),
		tok("cafe\u0301 🙂", "8aca8d22-93e9-47b8-9f23-d95c0328ab67", "EXPIRED", -3*time.Minute, ""),
	}
	for _, width := range []int{0, 70} {
		got := table(t, Options{Width: width}, tokenKind, items...)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		col := -1
		for _, line := range lines {
			i := strings.Index(line, "  ")
			for i < len(line) && line[i] == ' ' {
				i++
			}
			// The ID column starts at the same display column in every row.
			at := ansi.StringWidth(line[:i])
			if col >= 0 && at != col {
				t.Errorf("width %d: the second column starts at %d, not %d:\n%s", width, at, col, got)
			}
			col = at
			if width > 0 && ansi.StringWidth(line) > width {
				t.Errorf("width %d: a line of %d cells: %q", width, ansi.StringWidth(line), line)
			}
		}
		if width > 0 && !strings.Contains(got, "\n東京-セン…  ") {
			t.Errorf("width %d: the long name is not cut at a whole character:\n%s", width, got)
		}
		if width == 0 && !strings.Contains(got, "東京-センサー-第一データセンター  ") {
			t.Errorf("no width limit: the name was cut:\n%s", got)
		}
	}
}
