// Package progressbar draws how far a long task has got on one line of a terminal, redrawn in
// place: rows done of total, percent, rows per second and time left. It knows nothing of what
// the task is; its owner feeds it (Bar.Update) and routes the other lines written to the same
// terminal through it (Bar.Write), so that they are written above the bar.
package progressbar

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/internal/thousands"
)

// State is what a line shows of a task.
type State struct {
	Label string
	Done  int // rows done
	Total int // rows in all; 0 when unknown
	// Start is the rows done when the task (this run of it) began, Elapsed the time since then:
	// they make the rate.
	Start   int
	Elapsed time.Duration
}

// Rate is the rows done per second since the task began; 0 before any time has passed.
func (s State) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done-s.Start) / s.Elapsed.Seconds()
}

// DefaultWidth is the terminal width assumed when it cannot be read.
const DefaultWidth = 80

// minBar is the narrowest bar drawn; with less room the line has no bar.
const minBar = 10

// Line is the state as one line that fits in width columns (one is left free, so that the
// cursor never wraps), e.g.
//
//	import 7 [#########.........]   500/1,000  50%  250 rows/s  2s left
//
// and, when the total is unknown, "import 7  500 rows  250 rows/s". On a narrow terminal the
// bar goes first, then the label; what still does not fit is cut.
func Line(s State, width int) string {
	if width <= 0 {
		width = DefaultWidth
	}
	room := width - 1
	rate := s.Rate()
	if s.Total <= 0 {
		return fit(room, s.Label, thousands.Format(int64(s.Done))+" rows  "+thousands.Format(int64(rate))+" rows/s")
	}
	total := thousands.Format(int64(s.Total))
	pct := min(100, s.Done*100/s.Total)
	stats := fmt.Sprintf("%*s/%s %3d%%  %s rows/s  %s left",
		len(total), thousands.Format(int64(s.Done)), total, pct, thousands.Format(int64(rate)), timeLeft(s.Total-s.Done, rate))
	barWidth := room - utf8.RuneCountInString(s.Label) - len(stats) - 4 // two brackets, two spaces
	if s.Label == "" {
		barWidth++
	}
	if barWidth < minBar {
		return fit(room, s.Label, stats)
	}
	filled := barWidth * min(s.Done, s.Total) / s.Total
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled) + "] "
	return strings.TrimPrefix(s.Label+" "+bar+stats, " ")
}

// fit joins label and stats with two spaces when they fit in room columns, else cuts stats.
func fit(room int, label, stats string) string {
	stats = strings.TrimLeft(stats, " ")
	if line := label + "  " + stats; label != "" && utf8.RuneCountInString(line) <= room {
		return line
	}
	if len(stats) > room {
		stats = stats[:max(0, room)]
	}
	return stats
}

// timeLeft is how long rows take at rate rows per second, rounded up to the second: "12s",
// "3m05s", "1h02m"; "--" when the rate is 0.
func timeLeft(rows int, rate float64) string {
	if rows <= 0 {
		return "0s"
	}
	if rate <= 0 {
		return "--"
	}
	secs := int(math.Ceil(float64(rows) / rate))
	switch {
	case secs >= 3600:
		return fmt.Sprintf("%dh%02dm", secs/3600, secs%3600/60)
	case secs >= 60:
		return fmt.Sprintf("%dm%02ds", secs/60, secs%60)
	default:
		return fmt.Sprintf("%ds", secs)
	}
}

// RedrawInterval is the least time between two draws of a bar's line.
const RedrawInterval = 200 * time.Millisecond

// Bar draws the state of a task on a terminal, its line redrawn in place (carriage return) at
// most every RedrawInterval. It is safe for concurrent use.
type Bar struct {
	out   io.Writer
	width func() int // the terminal's columns
	now   func() time.Time

	mu      sync.Mutex
	state   State
	began   time.Time // when the task began
	drawnAt time.Time
	active  bool // a task is being shown, its line not ended
	shown   int  // columns of the line on the terminal, not ended by a newline
}

// New returns a bar that draws on out, a terminal width() columns wide.
func New(out io.Writer, width func() int) *Bar {
	return &Bar{out: out, width: width, now: time.Now}
}

// Update sets the rows done, of total (0 when unknown), of the task named label. The first
// update of a label begins its task: its clock starts, and the line of the task before ends.
// The line is redrawn unless it was drawn less than RedrawInterval ago.
func (b *Bar) Update(label string, done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.active || label != b.state.Label {
		b.end()
		b.state, b.began, b.active = State{Label: label, Start: done}, now, true
	} else if now.Sub(b.drawnAt) < RedrawInterval {
		b.state.Done, b.state.Total = done, total
		return
	}
	b.state.Done, b.state.Total = done, total
	b.draw(now)
}

// Write writes p, whole lines, above the bar: it clears the bar's line, writes p and draws the
// bar again.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown > 0 {
		if _, err := io.WriteString(b.out, "\r"+strings.Repeat(" ", b.shown)+"\r"); err != nil {
			return 0, err
		}
		b.shown = 0
	}
	n, err := b.out.Write(p)
	if err == nil && b.active {
		b.draw(b.now())
	}
	return n, err
}

// Finish draws the task's last state and ends its line; it does nothing when no task is shown.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.end()
}

// end draws the last state of the task shown, if any, and ends its line.
func (b *Bar) end() {
	if !b.active {
		return
	}
	b.draw(b.now())
	io.WriteString(b.out, "\n") //nolint:errcheck // a terminal gone is no reason to fail the task
	b.active, b.shown = false, 0
}

// draw writes the task's line over the one shown.
func (b *Bar) draw(now time.Time) {
	b.state.Elapsed = now.Sub(b.began)
	line := Line(b.state, b.width())
	n := utf8.RuneCountInString(line)
	io.WriteString(b.out, "\r"+line+strings.Repeat(" ", max(0, b.shown-n))) //nolint:errcheck // as in end
	b.drawnAt, b.shown = now, n
}
