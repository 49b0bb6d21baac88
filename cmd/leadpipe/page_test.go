package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The page's tests drive Debian's chromium with chromedp v0.14.2, not the v0.20+ line: v0.20
// (2026) replaced the API with generic actions and iterators (Action[T], Events), while every
// example, answer and colleague knows v0.14's Run/Tasks/ListenTarget, and these tests need
// nothing the new line adds. Test code only: the binary does not link it.

// browser is a headless Debian chromium, driven through the DevTools protocol (chromedp), on
// the page of a test's daemon. Every step it runs is bounded (stepTimeout); a step that fails
// ends the test with a screenshot of the page as it was. Whatever the page logs as an error —
// an uncaught exception, console.error, a Content-Security-Policy violation — fails the test
// when it ends; failed requests (a 401 the page expects) are not errors of the page.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // where screenshots go
	n    int    // screenshots taken, numbering the files in order

	mu     sync.Mutex
	errors []string
}

// stepTimeout bounds one browser step: the page answers in milliseconds, a queued import in
// seconds.
const stepTimeout = 30 * time.Second

// startBrowser starts a chromium for the test, at 1280×800, on the daemon's page. The
// screenshots go to $LEADPIPE_ARTIFACTS_DIR/page/TEST, else .data/artifacts/page/TEST at the
// repository's root (git-ignored): test artifacts, never committed.
func startBrowser(t *testing.T, d *daemon) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed: run deploy/services.sh up (it installs Debian's chromium), or apt-get install chromium")
	}
	// The profile is not a t.TempDir: chromium's helper processes may still write to it for a
	// moment after the browser has exited, and t.TempDir's removal fails the test on that.
	profile, err := os.MkdirTemp("", "leadpipe-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root, where chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, base: d.base, dir: artifactsDir(t)}
	chromedp.ListenTarget(ctx, b.listen)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		removeProfile(t, profile)
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.errors) > 0 {
			t.Errorf("the page logged errors:\n%s", strings.Join(b.errors, "\n"))
		}
	})
	if err := chromedp.Run(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// removeProfile removes a browser profile once the browser's processes have stopped writing to
// it, trying for up to 5 s; one still busy then is left in the temporary directory and said.
func removeProfile(t *testing.T, dir string) {
	var err error
	for try := 0; try < 50; try++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the browser profile %s is left behind: %v", dir, err)
}

// artifactsDir is the test's folder of screenshots, emptied of an earlier run's.
func artifactsDir(t *testing.T) string {
	root := os.Getenv("LEADPIPE_ARTIFACTS_DIR")
	if root == "" {
		root = filepath.Join("..", "..", ".data", "artifacts")
	}
	dir := filepath.Join(root, "page", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// listen keeps what the page reports as an error.
func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.APITypeError {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		msg = "console.error: " + strings.Join(args, " ")
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.LevelError || ev.Entry.Source == log.SourceNetwork {
			return
		}
		msg = fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

// run runs browser actions, each step bounded by stepTimeout; on failure it takes a
// screenshot and ends the test.
func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := b.try(actions...); err != nil {
		b.shot("failed")
		b.t.Fatalf("browser: %v", err)
	}
}

// try runs browser actions, bounded by stepTimeout, and returns their error.
func (b *browser) try(actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// shot saves a screenshot of the viewport as NN-name.png in the test's artifacts folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	var png []byte
	if err := b.try(chromedp.CaptureScreenshot(&png)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// open loads the page at a route ("#/imports") and waits for it to be shown.
func (b *browser) open(route string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+"/"+route), chromedp.WaitReady("body"))
}

// signIn signs in on the page's sign-in form with an API token and waits for the header's
// sign-out button, which only a signed-in page shows.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.open("#/sign-in")
	b.run(
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", token, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#sign-out", chromedp.ByID),
	)
}

// phone makes the viewport a 390×844 phone screen (touch, mobile); desktop makes it 1280×800.
func (b *browser) phone() {
	b.t.Helper()
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
}

func (b *browser) desktop() {
	b.t.Helper()
	b.run(chromedp.EmulateViewport(1280, 800))
}

// fitsWidth reports whether the page needs no horizontal scrolling at the viewport's width:
// its content is no wider than the document's visible width (clientWidth; on an emulated phone
// innerWidth grows with the content, so it cannot tell).
func (b *browser) fitsWidth() bool {
	b.t.Helper()
	var fits bool
	b.run(chromedp.Evaluate(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`, &fits))
	return fits
}

// eval runs a JavaScript expression in the page and stores its value in out.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	b.run(chromedp.Evaluate(expr, out))
}

// waitJS waits until a JavaScript expression is true in the page; what says what it shows then.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	if err := b.try(chromedp.Poll(expr, nil, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		b.shot("failed")
		b.t.Fatalf("the page never showed %s (%s): %v", what, expr, err)
	}
}

// TestPageShell checks that `leadpipe serve` serves the page and that the browser runs it
// under the daemon's Content-Security-Policy without an error: its scripts are modules of its
// own origin, with no inline script the policy would refuse.
func TestPageShell(t *testing.T) {
	d := startDaemon(t)
	b := startBrowser(t, d)
	b.open("")
	var title string
	b.run(chromedp.Title(&title), chromedp.WaitNotPresent(".loading", chromedp.ByQuery))
	if title != "leadpipe" {
		t.Errorf("title %q, want leadpipe", title)
	}
	b.shot("shell")
	// An inline script, as an injected one would be, is refused by the policy: the page
	// reports the violation, which the browser's error log shows.
	var ran bool
	b.run(chromedp.Evaluate(`(() => { const s = document.createElement("script"); s.textContent = "window.inlineRan = true"; document.body.append(s); return !!window.inlineRan; })()`, &ran))
	if ran {
		t.Error("an inline script ran: the Content-Security-Policy does not apply")
	}
	time.Sleep(200 * time.Millisecond) // the violation's report arrives asynchronously
	b.mu.Lock()
	violations := b.errors
	b.errors = nil
	b.mu.Unlock()
	if len(violations) != 1 || !strings.Contains(violations[0], "Content Security Policy") {
		t.Errorf("the refused inline script was reported as %q, want one Content Security Policy violation", violations)
	}
}
