package progressbar

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	for _, c := range []struct {
		name  string
		state State
		width int
		want  string
	}{
		{"no row yet", State{Label: "import 7", Total: 1000}, 60,
			"import 7 [............]     0/1,000   0%  0 rows/s  -- left"},
		{"half", State{Label: "import 7", Done: 500, Total: 1000, Elapsed: 2 * time.Second}, 60,
			"import 7 [#####.....]   500/1,000  50%  250 rows/s  2s left"},
		{"done", State{Label: "import 7", Done: 1000, Total: 1000, Elapsed: 4 * time.Second}, 60,
			"import 7 [##########] 1,000/1,000 100%  250 rows/s  0s left"},
		{"resumed: the rate counts this run's rows", State{Label: "import 7", Done: 500, Total: 1000, Start: 400, Elapsed: time.Second}, 60,
			"import 7 [#####.....]   500/1,000  50%  100 rows/s  5s left"},
		{"wide", State{Label: "undo 9", Done: 250, Total: 1000, Elapsed: time.Second}, 80,
			"undo 9 [########........................]   250/1,000  25%  250 rows/s  3s left"},
		{"unknown total", State{Label: "import 7", Done: 12345, Elapsed: 10 * time.Second}, 60,
			"import 7  12,345 rows  1,234 rows/s"},
		{"no room for the bar", State{Label: "import 7", Done: 500, Total: 1000, Elapsed: 2 * time.Second}, 48,
			"import 7  500/1,000  50%  250 rows/s  2s left"},
		{"no room for the label", State{Label: "import 7", Done: 500, Total: 1000, Elapsed: 2 * time.Second}, 40,
			"500/1,000  50%  250 rows/s  2s left"},
		{"narrow terminal", State{Label: "import 7", Done: 500, Total: 1000, Elapsed: 2 * time.Second}, 20,
			"500/1,000  50%  250"},
		{"width unknown", State{Label: "import 7", Done: 1_234_567, Total: 2_000_000, Elapsed: 100 * time.Second}, 0,
			"import 7 [#########.......] 1,234,567/2,000,000  61%  12,345 rows/s  1m03s left"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Line(c.state, c.width)
			if got != c.want {
				t.Errorf("Line(%+v, %d) =\n%q, want\n%q", c.state, c.width, got, c.want)
			}
			if w := max(c.width, DefaultWidth*boolInt(c.width == 0)); len(got) > w-1 {
				t.Errorf("line is %d columns, more than %d", len(got), w-1)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestTimeLeft(t *testing.T) {
	for _, c := range []struct {
		rows int
		rate float64
		want string
	}{
		{0, 0, "0s"}, {10, 0, "--"}, {10, 3, "4s"}, {185, 1, "3m05s"}, {3720, 1, "1h02m"}, {7200 * 3, 0.5, "12h00m"},
	} {
		if got := timeLeft(c.rows, c.rate); got != c.want {
			t.Errorf("timeLeft(%d, %v) = %q, want %q", c.rows, c.rate, got, c.want)
		}
	}
}

// clock is a settable time for a bar.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newBar(out *bytes.Buffer) (*Bar, *clock) {
	c := &clock{t: time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC)}
	b := New(out, func() int { return 60 })
	b.now = c.now
	return b, c
}

func TestBarRedrawsInPlaceAtMostEveryInterval(t *testing.T) {
	var out bytes.Buffer
	b, c := newBar(&out)
	b.Update("import 7", 0, 1000)
	c.add(100 * time.Millisecond)
	b.Update("import 7", 100, 1000) // too soon: not drawn
	c.add(1900 * time.Millisecond)
	b.Update("import 7", 500, 1000)
	b.Write([]byte("level=INFO msg=\"something\"\n"))
	c.add(100 * time.Millisecond)
	b.Update("import 7", 1000, 1000) // too soon, but Finish draws it
	c.add(1900 * time.Millisecond)
	b.Finish()
	b.Finish() // nothing more

	want := "\rimport 7 [............]     0/1,000   0%  0 rows/s  -- left" +
		"\rimport 7 [#####.....]   500/1,000  50%  250 rows/s  2s left" +
		"\r" + strings.Repeat(" ", 59) + "\r" + "level=INFO msg=\"something\"\n" +
		"\rimport 7 [#####.....]   500/1,000  50%  250 rows/s  2s left" +
		"\rimport 7 [##########] 1,000/1,000 100%  250 rows/s  0s left\n"
	if out.String() != want {
		t.Errorf("the terminal got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestBarEndsALineForEachTask(t *testing.T) {
	var out bytes.Buffer
	b, c := newBar(&out)
	b.Update("import 7", 0, 0)
	c.add(time.Second)
	b.Update("import 7", 300, 0)
	b.Update("import 8", 0, 10) // a workbook's next sheet: the line of the first ends
	c.add(time.Second)
	b.Update("import 8", 10, 10)
	b.Finish()

	want := "\rimport 7  0 rows  0 rows/s" +
		"\rimport 7  300 rows  300 rows/s" +
		"\rimport 7  300 rows  300 rows/s\n" +
		"\rimport 8 [..................]  0/10   0%  0 rows/s  -- left" +
		"\rimport 8 [#################] 10/10 100%  10 rows/s  0s left" +
		"\rimport 8 [#################] 10/10 100%  10 rows/s  0s left\n"
	if out.String() != want {
		t.Errorf("the terminal got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestBarWritesLinesAsTheyAreWithNoTask(t *testing.T) {
	var out bytes.Buffer
	b, _ := newBar(&out)
	b.Write([]byte("one\n"))
	b.Finish()
	if out.String() != "one\n" {
		t.Errorf("the terminal got %q, want the line alone", out.String())
	}
}
