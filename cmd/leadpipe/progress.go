package main

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/internal/progressbar"
)

// progressBar shows how the runs of im go on a progress bar on stderr when stderr is a
// terminal: im tells the bar, and the log lines are written above it. It returns the function
// that ends the bar's line, to be called once the runs end and before the summary is printed.
// When stderr is not a terminal nothing changes: im logs its progress every few seconds.
func (e *env) progressBar(im *importer.Importer) (finish func()) {
	tty, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(tty.Fd())) {
		return func() {}
	}
	bar := progressbar.New(tty, func() int {
		width, _, err := term.GetSize(int(tty.Fd()))
		if err != nil {
			return progressbar.DefaultWidth
		}
		return width
	})
	e.log = e.logger(bar)
	im.Log = e.log
	im.Progress = func(p importer.Progress) { bar.Update(progressLabel(p), p.Done, p.Total) }
	return bar.Finish
}

// progressLabel names the run a progress bar shows: "import 12", "undo 13", "dry run of
// prospects" (a dry run's import is rolled back: its id names nothing).
func progressLabel(p importer.Progress) string {
	switch {
	case p.DryRun:
		return "dry run of " + p.Kind
	case p.Undo:
		return fmt.Sprintf("undo %d", p.ImportID)
	default:
		return fmt.Sprintf("import %d", p.ImportID)
	}
}
