package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// The page's sign-in, history and import detail (web/static/app.js, history.js), driven in
// chromium against a real daemon. The imports are set up through the API, as another client
// would make them; what the page shows is compared with what the API answers and with
// hand-written figures.

// prospectsFile is a CSV of n prospects, personNNNNN@domain, every 100th of them (the data
// rows 100, 200, …) with an invalid email instead: n - n/100 are created, n/100 skipped.
func prospectsFile(domain string, n int) string {
	var sb strings.Builder
	sb.WriteString("Email,First Name,Last Name\n")
	for i := 1; i <= n; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&sb, "not-an-email-%d,Skip,Me\n", i)
		} else {
			fmt.Fprintf(&sb, "person%05d@%s,First%d,Last%d\n", i, domain, i, i)
		}
	}
	return sb.String()
}

// skippedOf is prospectsFile's skipped-rows report, as GET /v1/imports/ID/skipped.csv gives it:
// the header, then each invalid row with its row number (the file's line), reason and detail.
func skippedOf(n int) string {
	var sb strings.Builder
	sb.WriteString("Email,First Name,Last Name,row_number,skip_reason,skip_detail\n")
	for i := 100; i <= n; i += 100 {
		fmt.Fprintf(&sb, "not-an-email-%d,Skip,Me,%d,invalid_email,\"\"\"not-an-email-%d\"\" is not a valid email address\"\n", i, i+1, i)
	}
	return sb.String()
}

// queueImport uploads a file of a kind through the API and returns its import's id.
func queueImport(t *testing.T, d *daemon, kind, name, content string) int64 {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("kind", kind) //nolint:errcheck // a bytes.Buffer does not fail
	part, _ := mw.CreateFormFile("file", name)
	part.Write([]byte(content)) //nolint:errcheck // a bytes.Buffer does not fail
	mw.Close()
	status, b := d.call("POST", "/v1/imports", mw.FormDataContentType(), &body)
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &queued) != nil || queued.ImportID == 0 {
		t.Fatalf("POST /v1/imports (%s, %s): %d %s", kind, name, status, b)
	}
	return queued.ImportID
}

// apiJSON makes an API request with the account's token and decodes its JSON answer, which
// must have the status want.
func apiJSON(t *testing.T, d *daemon, method, path string, want int) map[string]any {
	t.Helper()
	status, b := d.call(method, path, "", nil)
	var m map[string]any
	if status != want || json.Unmarshal(b, &m) != nil {
		t.Fatalf("%s %s: %d %s, want %d and JSON", method, path, status, b, want)
	}
	return m
}

// waitStatus polls an import through the API until its status is want.
func waitStatus(t *testing.T, d *daemon, id int64, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		imp := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", id), http.StatusOK)
		if imp["status"] == want {
			return imp
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d: status %v, want %s", id, imp["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commas writes a count as the page does: 19,800.
func commas(v any) string {
	n := int64(v.(float64))
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// textOf is the text of the element a CSS selector names ("" when there is none).
func textOf(b *browser, selector string) string {
	b.t.Helper()
	var s string
	b.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, selector), &s)
	return strings.TrimSpace(s)
}

// countsOf reads a table of counts of the page: each row's data attribute (data-count,
// data-reason, …) and the number it shows.
func countsOf(b *browser, table, attr string) map[string]string {
	b.t.Helper()
	m := map[string]string{}
	b.eval(fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%q)].map((tr) => [tr.getAttribute(%q), tr.querySelector("td").textContent]))`,
		table+" tr["+attr+"]", attr), &m)
	return m
}

// choose sets a filter's control as a person would (a select's option, a date, a checkbox),
// firing its change.
func choose(b *browser, selector, value string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%s offering %q", selector, value), fmt.Sprintf(`((el, v) => el.tagName !== "SELECT" || [...el.options].some((o) => o.value === v))(document.querySelector(%q), %q)`, selector, value))
	var ok bool
	b.eval(fmt.Sprintf(`((el, v) => {
		if (el.type === "checkbox") el.checked = v === "on"; else el.value = v;
		el.dispatchEvent(new Event("change", { bubbles: true }));
		return el.type === "checkbox" || el.value === v;
	})(document.querySelector(%q), %q)`, selector, value), &ok)
	if !ok {
		b.shot("failed")
		b.t.Fatalf("%s has no choice %q", selector, value)
	}
}

// historyIDs waits for the history at route to be shown and returns the imports it lists, in
// order. It marks the view it read, so that the next call waits for the view of its route: the
// address changes a moment before the page shows what it names.
func historyIDs(b *browser, route string) []int64 {
	b.t.Helper()
	b.waitJS("the history at "+route, fmt.Sprintf(`location.hash === %q && document.querySelector("main h1")?.textContent === "Imports"
		&& !document.querySelector("main h1").dataset.read
		&& !document.querySelector("main .loading") && !!document.querySelector("#history, main .empty, main .error")`, route))
	var ids []int64
	b.eval(`(() => {
		document.querySelector("main h1").dataset.read = "yes";
		return [...document.querySelectorAll("#history tbody tr")].map((tr) => Number(tr.dataset.id));
	})()`, &ids)
	return ids
}

// apiIDs is the ids of the imports GET /v1/imports lists with a query.
func apiIDs(t *testing.T, d *daemon, q string) []int64 {
	t.Helper()
	var list struct {
		Imports []struct {
			ID int64 `json:"id"`
		} `json:"imports"`
	}
	status, b := d.call("GET", "/v1/imports"+q, "", nil)
	if status != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("GET /v1/imports%s: %d %s", q, status, b)
	}
	ids := []int64{}
	for _, imp := range list.Imports {
		ids = append(ids, imp.ID)
	}
	return ids
}

// TestPageSignIn: a wrong token is refused with what to paste instead; the right one signs in
// and the header names the account, with no token kept in the page; a session ended on the
// server asks to sign in again and leads back where it was; signing out ends the session.
func TestPageSignIn(t *testing.T) {
	d := startDaemon(t)
	b := startBrowser(t, d)
	acct := accountID(t, storetest.Pool(t), d.account)
	b.open("#/imports")
	b.waitJS("the sign-in form", `location.hash === "#/sign-in" && !!document.getElementById("token")`)
	if label := textOf(b, `label[for="token"]`); label != "API token" {
		t.Errorf("the token field's label reads %q, want API token", label)
	}
	var headerHidden bool
	b.eval(`document.getElementById("top").hidden`, &headerHidden)
	if !headerHidden {
		t.Error("the header (account, sign-out) is shown before signing in")
	}
	b.shot("sign-in")

	b.run(chromedp.SendKeys("#token", "lp_not-a-token", chromedp.ByID), chromedp.Click("#sign-in", chromedp.ByID))
	b.waitJS("the refusal", `!!document.querySelector(".sign-in [role=alert]")`)
	refusal := textOf(b, ".sign-in [role=alert]")
	if !strings.Contains(refusal, "invalid token") || !strings.Contains(refusal, "leadpipe token create --account NAME") {
		t.Errorf("a wrong token is refused with %q, want invalid token and how to make one", refusal)
	}
	b.shot("wrong-token")

	b.run(chromedp.Evaluate(`document.getElementById("token").value = ""`, nil), chromedp.SendKeys("#token", d.token, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID))
	b.waitJS("the history, signed in", `location.hash === "#/imports" && !!document.getElementById("sign-out")`)
	if name := textOf(b, ".account-name"); name != "Signed in as "+d.account {
		t.Errorf("the header says %q, want Signed in as %s", name, d.account)
	}
	var kept bool
	b.eval(fmt.Sprintf(`localStorage.length + sessionStorage.length > 0 || document.cookie !== "" || document.documentElement.outerHTML.includes(%q)`, d.token), &kept)
	if kept {
		t.Error("the page keeps the token or the session where scripts can read it")
	}
	b.shot("signed-in")

	// The session ends on the server: the next request of the page asks to sign in again.
	if _, err := storetest.Pool(t).Exec(context.Background(), "DELETE FROM sessions WHERE account_id = $1", acct); err != nil {
		t.Fatal(err)
	}
	b.open("#/imports?status=completed")
	b.waitJS("the sign-in form saying why", `location.hash === "#/sign-in" && !!document.getElementById("token")`)
	if note := textOf(b, "main .note"); note != "Your session has ended: sign in again to go on." {
		t.Errorf("after the session ended the sign-in form says %q", note)
	}
	b.shot("session-ended")
	b.run(chromedp.SendKeys("#token", d.token, chromedp.ByID), chromedp.Click("#sign-in", chromedp.ByID))
	b.waitJS("the history it was on", `location.hash === "#/imports?status=completed" && !!document.getElementById("sign-out")`)

	b.run(chromedp.Click("#sign-out", chromedp.ByID))
	b.waitJS("the sign-in form after signing out", `location.hash === "#/sign-in" && !!document.getElementById("token")`)
	if note := textOf(b, "main .note"); note != "You have signed out." {
		t.Errorf("after signing out the sign-in form says %q", note)
	}
	var sessions int
	if err := storetest.Pool(t).QueryRow(context.Background(), "SELECT count(*) FROM sessions WHERE account_id = $1", acct).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Errorf("%d sessions left after signing out, want 0", sessions)
	}
	b.run(chromedp.Reload())
	b.waitJS("the sign-in form after a reload", `location.hash === "#/sign-in" && !!document.getElementById("token")`)
	b.shot("signed-out")
}

// TestPageImportProgress: the detail of a running import shows its bar growing to 100% live,
// without a reload; leaving it and coming back shows it still running; cancel stops another;
// the counts are the API's; the skipped rows download as the API gives them; the records it
// touched are listed.
func TestPageImportProgress(t *testing.T) {
	t.Setenv("LEADPIPE_BATCH_SIZE", "500") // 40 batches: steps for the bar to show
	d := startDaemon(t)
	ctx := context.Background()
	hold := holdAccount(t, d)
	const rows = 20000
	id := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("fair.example", rows))
	wrong := queueImport(t, d, "prospects", "wrong-list.csv", prospectsFile("wrong.example", 300))
	waitStatus(t, d, id, "running")
	waitStatus(t, d, wrong, "running")

	b := startBrowser(t, d)
	b.signIn(d.token)
	b.waitJS("both imports running in the history", fmt.Sprintf(`document.querySelector('#history tr[data-id="%d"]')?.dataset.status === "running"
		&& document.querySelector('#history tr[data-id="%d"]')?.dataset.status === "running"`, id, wrong))
	b.shot("history-running")

	// Cancel the wrong list from its detail.
	b.run(chromedp.Click(fmt.Sprintf(`#history a[href="#/imports/%d"]`, wrong), chromedp.ByQuery))
	b.waitJS("its cancel button", `!!document.getElementById("cancel") && !document.getElementById("cancel").hidden`)
	b.run(chromedp.Click("#cancel", chromedp.ByID))
	b.waitJS("it cancelled", `document.querySelector(".status-line .badge")?.textContent === "cancelled" && document.getElementById("cancel").hidden`)
	b.shot("cancelled")

	// The big import's detail: running, its bar at 0 of 20,000.
	b.run(chromedp.Click(`#top nav a[href="#/imports"]`, chromedp.ByQuery))
	historyIDs(b, "#/imports")
	b.run(chromedp.Click(fmt.Sprintf(`#history a[href="#/imports/%d"]`, id), chromedp.ByQuery))
	b.waitJS("the bar at 0 of 20,000", `document.getElementById("progress")?.getAttribute("max") === "20000"
		&& document.getElementById("progress").getAttribute("value") === "0"`)
	if h1, badge, text := textOf(b, "main h1"), textOf(b, ".status-line .badge"), textOf(b, "#progress-text"); h1 != "spring-fair.csv" || badge != "running" || text != "0 of 20,000 rows" {
		t.Errorf("the detail shows %q, %q, %q; want spring-fair.csv, running, 0 of 20,000 rows", h1, badge, text)
	}
	b.shot("detail-waiting")
	// Leave it and come back: the same import, still running.
	b.run(chromedp.Click(`#top nav a[href="#/imports"]`, chromedp.ByQuery))
	historyIDs(b, "#/imports")
	b.run(chromedp.Evaluate("history.back()", nil))
	b.waitJS("the same import still running", fmt.Sprintf(`location.hash === "#/imports/%d" && document.querySelector(".status-line .badge")?.textContent === "running"
		&& document.getElementById("progress")?.getAttribute("max") === "20000"`, id))
	b.shot("detail-again")

	// Every value the page gives the bar from now on, in the same page (no reload).
	var watching bool
	b.eval(`(() => {
		window.samePage = true;
		window.barValues = [];
		const bar = document.getElementById("progress");
		new MutationObserver(() => window.barValues.push(Number(bar.getAttribute("value")))).observe(bar, { attributes: true, attributeFilter: ["value"] });
		return true;
	})()`, &watching)
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Once the import has done a batch, hold the lock again: it waits part-way, for the page to
	// show. (Should it finish first, the bar has no step to show, only its end.)
	midway := holdMidway(t, d, id, rows)
	if midway != nil {
		b.waitJS("the bar part-way", `(() => { const v = Number(document.getElementById("progress").getAttribute("value")); return v > 0 && v < 20000; })()`)
		b.shot("detail-running")
		if text := textOf(b, "#progress-text"); !regexp.MustCompile(`^[1-9][0-9,]* of 20,000 rows · [1-9][0-9,]* rows/s · ([0-9]+ min )?[0-9]+ s left$`).MatchString(text) {
			t.Errorf("part-way the progress reads %q", text)
		}
		if err := midway.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(stepTimeout)
	for done := false; !done; {
		if time.Now().After(deadline) {
			b.shot("failed")
			t.Fatal("the import did not complete on the page")
		}
		var bar struct {
			Value  int    `json:"value"`
			Status string `json:"status"`
		}
		b.eval(`({ value: Number(document.getElementById("progress").getAttribute("value")), status: document.querySelector(".status-line .badge").textContent })`, &bar)
		done = bar.Status == "completed"
		time.Sleep(20 * time.Millisecond)
	}
	var seen struct {
		SamePage bool  `json:"samePage"`
		Values   []int `json:"values"`
	}
	b.eval(`({ samePage: window.samePage === true, values: window.barValues })`, &seen)
	if !seen.SamePage {
		t.Error("the page was reloaded while the import ran")
	}
	if len(seen.Values) == 0 || seen.Values[len(seen.Values)-1] != rows || !slices.IsSorted(seen.Values) {
		t.Errorf("the bar took the values %v, want them growing to %d", seen.Values, rows)
	}
	between := 0
	for _, v := range seen.Values {
		if v > 0 && v < rows {
			between++
		}
	}
	if midway != nil && between == 0 {
		t.Errorf("the bar took the values %v, none part-way though the import waited part-way", seen.Values)
	}
	t.Logf("the bar took %d values between 0 and %d on its way: %v", between, rows, seen.Values)
	if text := textOf(b, "#progress-text"); !strings.HasPrefix(text, "20,000 of 20,000 rows · took ") {
		t.Errorf("the progress reads %q once completed", text)
	}
	b.shot("detail-completed")

	// The counts are the API's, and the API's are what the file holds.
	imp := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", id), http.StatusOK)
	wantCounts := map[string]string{"rows": "20,000", "created": "19,800", "updated": "0", "unchanged": "0", "skipped": "200"}
	apiCounts := map[string]string{}
	for k := range wantCounts {
		apiCounts[k] = commas(imp[k])
	}
	if page := countsOf(b, "#counts", "data-count"); !maps.Equal(page, wantCounts) || !maps.Equal(apiCounts, wantCounts) {
		t.Errorf("counts: the page shows %v, the API %v; want %v", page, apiCounts, wantCounts)
	}
	reasons := map[string]string{}
	for k, v := range imp["skipped_by_reason"].(map[string]any) {
		reasons[k] = commas(v)
	}
	if page, want := countsOf(b, "#skip-reasons", "data-reason"), map[string]string{"invalid_email": "200"}; !maps.Equal(page, want) || !maps.Equal(reasons, want) {
		t.Errorf("skip reasons: the page shows %v, the API %v; want %v", page, reasons, want)
	}
	counters := map[string]string{"organizations_created": commas(imp["organizations_created"]), "organizations_linked": commas(imp["organizations_linked"])}
	if page := countsOf(b, "#counters", "data-counter"); !maps.Equal(page, counters) {
		t.Errorf("the kind's counters: the page shows %v, the API %v", page, counters)
	}
	if len(imp["warnings_by_kind"].(map[string]any)) != 0 || textOf(b, "#warnings") != "" {
		t.Errorf("warnings: the API has %v and the page shows %q, want none", imp["warnings_by_kind"], textOf(b, "#warnings"))
	}

	// The skipped rows download through the link, with the session's cookie.
	got := download(b, "#download-skipped")
	_, fromAPI := d.call("GET", fmt.Sprintf("/v1/imports/%d/skipped.csv", id), "", nil)
	if string(got) != skippedOf(rows) || !bytes.Equal(got, fromAPI) {
		t.Errorf("the skipped rows downloaded from the page:\n%.300s…\nwant the API's and the file's invalid rows:\n%.300s…", got, skippedOf(rows))
	}

	// The records it touched: the API's first page, with their values.
	b.waitJS("the records", `document.querySelectorAll("#records tbody tr").length > 0`)
	var pageEmails []string
	b.eval(`(() => {
		const col = [...document.querySelectorAll("#records thead th")].findIndex((th) => th.textContent === "Email");
		return [...document.querySelectorAll("#records tbody tr")].map((tr) => tr.children[col].textContent);
	})()`, &pageEmails)
	var records struct {
		Records []struct {
			Values map[string]string `json:"values"`
		} `json:"records"`
	}
	_, page := d.call("GET", fmt.Sprintf("/v1/imports/%d/records?limit=25", id), "", nil)
	if err := json.Unmarshal(page, &records); err != nil {
		t.Fatal(err)
	}
	var apiEmails []string
	for _, r := range records.Records {
		apiEmails = append(apiEmails, r.Values["email"])
	}
	if len(apiEmails) != 25 || !slices.Equal(pageEmails, apiEmails) || !strings.HasSuffix(apiEmails[0], "@fair.example") {
		t.Errorf("the records listed: %v, want the API's first page %v", pageEmails, apiEmails)
	}

	cancelled := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", wrong), http.StatusOK)
	if cancelled["status"] != "cancelled" {
		t.Errorf("the import cancelled on the page is %v", cancelled["status"])
	}
}

// holdMidway waits until an import has done some of its rows and locks its account's row
// again, which stops it at its next batch; nil when the import ended first.
func holdMidway(t *testing.T, d *daemon, id int64, rows int) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(stepTimeout)
	for {
		imp := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", id), http.StatusOK)
		done := int(imp["progress"].(map[string]any)["rows_done"].(float64))
		if done >= rows || imp["status"] != "running" {
			t.Logf("import %d ended (%v) before the test could hold it part-way", id, imp["status"])
			return nil
		}
		if done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d did not start", id)
		}
	}
	tx := holdAccount(t, d)
	imp := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", id), http.StatusOK)
	if imp["status"] != "running" || int(imp["progress"].(map[string]any)["rows_done"].(float64)) >= rows {
		t.Logf("import %d did all its rows (%v) before the test could hold it part-way", id, imp["status"])
		tx.Rollback(ctx) //nolint:errcheck // nothing was written
		return nil
	}
	return tx
}

// holdAccount locks the test account's row until the returned transaction ends (rolled back at
// the latest when the test ends). Every batch of a prospects import first locks it (the prospect
// room): held, its imports start and wait before their next batch, as long as the test needs.
func holdAccount(t *testing.T, d *daemon) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := storetest.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) }) //nolint:errcheck // released by the test; a no-op then
	if _, err := tx.Exec(ctx, "SELECT FROM accounts WHERE name = $1 FOR NO KEY UPDATE", d.account); err != nil {
		t.Fatal(err)
	}
	return tx
}

// download clicks a download link of the page and returns the file the browser saved.
func download(b *browser, selector string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	done := make(chan string, 1)
	chromedp.ListenTarget(b.ctx, func(ev any) {
		if e, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && e.State == cdpbrowser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	})
	b.run(cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dir).WithEventsEnabled(true),
		chromedp.Click(selector, chromedp.ByQuery))
	select {
	case guid := <-done:
		got, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			b.t.Fatal(err)
		}
		return got
	case <-time.After(stepTimeout):
		b.t.Fatalf("clicking %s downloaded nothing", selector)
		return nil
	}
}

// TestPageHistoryFilters: the history lists every import of every kind, newest first; its
// filters by kind, status and date go into the address (back and forward walk them) and list
// what the API lists; undos show with their toggle; older imports come page by page. It also
// saves the README's screenshot.
func TestPageHistoryFilters(t *testing.T) {
	d := startDaemon(t)
	orgs := queueImport(t, d, "organizations", "companies.csv", "Name,Domain\nAcme Corp,acme.example\nGlobex,globex.example\n")
	d.waitImport(orgs)
	fair := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("fair.example", 500))
	d.waitImport(fair)
	webinar := queueImport(t, d, "prospects", "webinar-leads.csv", prospectsFile("webinar.example", 250))
	d.waitImport(webinar)
	undo := int64(apiJSON(t, d, "POST", fmt.Sprintf("/v1/imports/%d/undo", webinar), http.StatusAccepted)["id"].(float64))
	waitStatus(t, d, webinar, "undone")

	b := startBrowser(t, d)
	b.signIn(d.token)
	if ids, want := historyIDs(b, "#/imports"), []int64{webinar, fair, orgs}; !slices.Equal(ids, want) || !slices.Equal(apiIDs(t, d, ""), want) {
		t.Errorf("the history lists %v, want %v, newest first", ids, want)
	}
	if cells := textOf(b, fmt.Sprintf(`#history tr[data-id="%d"]`, fair)); !strings.Contains(cells, "spring-fair.csv") || !strings.Contains(cells, "completed") || !strings.Contains(cells, "495") {
		t.Errorf("the history's row of spring-fair.csv reads %q", cells)
	}
	readmeShot(b)
	b.shot("history")

	steps := []struct {
		control, value, route string
		want                  []int64
		api                   string
	}{
		{"#filter-kind", "organizations", "#/imports?kind=organizations", []int64{orgs}, "?kind=organizations"},
		{"#filter-status", "completed", "#/imports?kind=organizations&status=completed", []int64{orgs}, "?kind=organizations&status=completed"},
		{"#filter-kind", "", "#/imports?status=completed", []int64{fair, orgs}, "?status=completed"},
		{"#filter-status", "undone", "#/imports?status=undone", []int64{webinar}, "?status=undone"},
		{"#filter-kind", "prospects", "#/imports?kind=prospects&status=undone", []int64{webinar}, "?kind=prospects&status=undone"},
		{"#filter-status", "failed", "#/imports?kind=prospects&status=failed", nil, "?kind=prospects&status=failed"},
	}
	for _, s := range steps {
		choose(b, s.control, s.value)
		if ids, api := historyIDs(b, s.route), apiIDs(t, d, s.api); !slices.Equal(ids, s.want) || !slices.Equal(api, ids) {
			t.Errorf("%s: the history lists %v, the API %v; want %v", s.route, ids, api, s.want)
		}
	}
	if empty := textOf(b, "main .empty"); empty != "No import matches these filters." {
		t.Errorf("with no import to list the history says %q", empty)
	}
	b.shot("filtered-empty")

	// Back and forward walk the filters, controls included. One step at a time: with two
	// history.back() at once the address names the second view while the first is still shown,
	// which a wait on the address cannot tell apart.
	b.run(chromedp.Evaluate("history.back()", nil))
	if ids := historyIDs(b, "#/imports?kind=prospects&status=undone"); !slices.Equal(ids, []int64{webinar}) {
		t.Errorf("back to kind=prospects&status=undone: the history lists %v", ids)
	}
	b.run(chromedp.Evaluate("history.back()", nil))
	if ids := historyIDs(b, "#/imports?status=undone"); !slices.Equal(ids, []int64{webinar}) {
		t.Errorf("back to status=undone: the history lists %v", ids)
	}
	var controls []string
	b.eval(`[document.getElementById("filter-kind").value, document.getElementById("filter-status").value]`, &controls)
	if !slices.Equal(controls, []string{"", "undone"}) {
		t.Errorf("back to status=undone, the filters read %v", controls)
	}
	b.run(chromedp.Evaluate("history.forward()", nil))
	if ids := historyIDs(b, "#/imports?kind=prospects&status=undone"); !slices.Equal(ids, []int64{webinar}) {
		t.Errorf("forward to kind=prospects&status=undone: the history lists %v", ids)
	}

	// Undos show with their toggle.
	b.open("#/imports")
	historyIDs(b, "#/imports")
	choose(b, "#filter-undos", "on")
	if ids, api := historyIDs(b, "#/imports?undos=include"), apiIDs(t, d, "?undos=include"); !slices.Equal(ids, []int64{undo, webinar, fair, orgs}) || !slices.Equal(api, ids) {
		t.Errorf("with undos the history lists %v, the API %v; want %v", ids, api, []int64{undo, webinar, fair, orgs})
	}
	if cell := textOf(b, fmt.Sprintf(`#history tr[data-id="%d"] a`, undo)); cell != fmt.Sprintf("Undo of import %d", webinar) {
		t.Errorf("the undo's row is named %q", cell)
	}
	b.shot("undos")

	// Dates: whole days of the browser's time zone, both ends included.
	var days struct{ Yesterday, Today, Tomorrow string }
	b.eval(`(() => { const d = (n) => { const x = new Date(); x.setDate(x.getDate() + n); return x.toLocaleDateString("en-CA"); };
		return { Yesterday: d(-1), Today: d(0), Tomorrow: d(1) }; })()`, &days)
	b.open("#/imports")
	historyIDs(b, "#/imports")
	all := []int64{webinar, fair, orgs}
	for _, s := range []struct {
		control, value, route string
		want                  []int64
	}{
		{"#filter-from", days.Today, "#/imports?from=" + days.Today, all},
		{"#filter-to", days.Today, "#/imports?from=" + days.Today + "&to=" + days.Today, all},
		{"#filter-from", "", "#/imports?to=" + days.Today, all},
		{"#filter-to", days.Yesterday, "#/imports?to=" + days.Yesterday, nil},
		{"#filter-to", "", "#/imports", all},
		{"#filter-from", days.Tomorrow, "#/imports?from=" + days.Tomorrow, nil},
	} {
		choose(b, s.control, s.value)
		if ids := historyIDs(b, s.route); !slices.Equal(ids, s.want) {
			t.Errorf("%s: the history lists %v, want %v", s.route, ids, s.want)
		}
	}
	b.open("#/imports?from=" + days.Tomorrow + "&to=" + days.Today)
	historyIDs(b, "#/imports?from="+days.Tomorrow+"&to="+days.Today)
	if msg := textOf(b, "main .error"); !strings.Contains(msg, "the “To” date is before the “From” date") {
		t.Errorf("with the dates the wrong way round the history says %q", msg)
	}
	b.shot("dates-wrong-way")

	// Older imports come a page (25) at a time.
	var more []int64
	for i := 0; i < 24; i++ {
		more = append(more, queueImport(t, d, "organizations", fmt.Sprintf("batch-%02d.csv", i), fmt.Sprintf("Name\nCompany %d\n", i)))
	}
	b.open("#/imports")
	if ids := historyIDs(b, "#/imports"); len(ids) != 25 || ids[0] != more[23] || ids[24] != webinar {
		t.Errorf("the history's first page lists %v, want 25 imports from %d to %d", ids, more[23], webinar)
	}
	b.run(chromedp.Click(`//button[text()="Older imports"]`, chromedp.BySearch))
	b.waitJS("the older imports", `document.querySelectorAll("#history tbody tr").length === 27`)
	var focused string
	b.eval(`document.activeElement.getAttribute("href")`, &focused)
	if focused != fmt.Sprintf("#/imports/%d", fair) {
		t.Errorf("after loading older imports the focus is on %q, want the first of them (#/imports/%d)", focused, fair)
	}
	var older bool
	b.eval(`[...document.querySelectorAll("button")].some((el) => el.textContent === "Older imports")`, &older)
	if older {
		t.Error("the last page still offers older imports")
	}
	b.shot("older")
}

// readmeShot saves the README's picture of the page: the history at 1280×800, as readme.png in
// the test's artifacts (docs/page.png is a copy of it).
func readmeShot(b *browser) {
	b.t.Helper()
	b.desktop()
	var png []byte
	b.run(chromedp.Evaluate(`document.activeElement.blur()`, nil), chromedp.CaptureScreenshot(&png))
	if err := os.WriteFile(filepath.Join(b.dir, "readme.png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestPageUndo: undo shows the dry run's report first, with the API's numbers and the record
// kept because it changed since; confirming undoes the import, whose records leave Postgres
// but the kept one. An undo refused meanwhile shows why.
func TestPageUndo(t *testing.T) {
	d := startDaemon(t)
	id := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("undo.example", 300))
	d.waitImport(id)
	acct := accountID(t, storetest.Pool(t), d.account)
	ctx := context.Background()
	pool := storetest.Pool(t)
	// Someone edits one of its prospects after the import: the undo keeps that one.
	if _, err := pool.Exec(ctx, "UPDATE prospects SET first_name = 'Edited', updated_at = now() WHERE account_id = $1 AND email = 'person00007@undo.example'", acct); err != nil {
		t.Fatal(err)
	}
	dry := apiJSON(t, d, "POST", fmt.Sprintf("/v1/imports/%d/undo?dry_run=true", id), http.StatusOK)
	if dry["deleted"] != 296.0 || dry["kept_changed_since"] != 1.0 || dry["restored"] != 0.0 {
		t.Fatalf("the API's dry run: %v, want 296 deleted and 1 kept", dry)
	}

	b := startBrowser(t, d)
	b.signIn(d.token)
	b.open(fmt.Sprintf("#/imports/%d", id))
	b.waitJS("the undo button", `!!document.getElementById("undo")`)
	b.run(chromedp.Click("#undo", chromedp.ByID))
	b.waitJS("the dry run's report", `!!document.getElementById("undo-report")`)
	want := map[string]string{}
	for _, k := range []string{"deleted", "restored", "kept_changed_since", "fields_kept", "unchanged"} {
		want[k] = commas(dry[k])
	}
	got := countsOf(b, "#undo-dry-run", "data-count")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("the report shows %s %q, the API's dry run %q", k, got[k], v)
		}
	}
	var keptRow float64
	for _, r := range dry["row_results"].([]any) {
		if r := r.(map[string]any); r["outcome"] == "kept_changed_since" {
			keptRow = r["row_number"].(float64)
		}
	}
	var kept []string
	b.eval(`[...document.querySelectorAll("#undo-kept tbody td")].map((td) => td.textContent)`, &kept)
	if keptRow != 8 || len(kept) != 4 || kept[0] != "8" || kept[2] != "the whole record" {
		t.Errorf("the report's kept rows read %q; the API keeps row %v, want row 8 (person00007) kept whole", kept, keptRow)
	}
	var onReport bool
	b.eval(`document.activeElement === document.querySelector("#undo-report h3")`, &onReport)
	if !onReport {
		t.Error("the focus did not move to the report")
	}
	b.shot("undo-report")

	b.run(chromedp.Click("#undo-confirm", chromedp.ByID))
	b.waitJS("the import undone", `document.querySelector(".status-line .badge")?.textContent === "undone"`)
	imp := apiJSON(t, d, "GET", fmt.Sprintf("/v1/imports/%d", id), http.StatusOK)
	if said := textOf(b, "#h-undo + div p"); said != fmt.Sprintf("This import was undone by undo %v on %s.", imp["undone_by"], textOf(b, "#h-undo + div time")) {
		t.Errorf("the undo section says %q (undone_by %v)", said, imp["undone_by"])
	}
	var left []string
	rows, err := pool.Query(ctx, "SELECT email FROM prospects WHERE account_id = $1", acct)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e string
		rows.Scan(&e) //nolint:errcheck // checked by rows.Err
		left = append(left, e)
	}
	if rows.Err() != nil || !slices.Equal(left, []string{"person00007@undo.example"}) {
		t.Errorf("after the undo the account's prospects are %v (%v), want only the one edited since", left, rows.Err())
	}
	b.shot("undone")

	// An undo refused: another client undoes the import while its report is shown.
	other := queueImport(t, d, "prospects", "second.csv", prospectsFile("second.example", 50))
	d.waitImport(other)
	b.open(fmt.Sprintf("#/imports/%d", other))
	b.waitJS("the undo button", `!!document.getElementById("undo")`)
	b.run(chromedp.Click("#undo", chromedp.ByID))
	b.waitJS("the dry run's report", `!!document.getElementById("undo-confirm")`)
	apiJSON(t, d, "POST", fmt.Sprintf("/v1/imports/%d/undo", other), http.StatusAccepted)
	b.run(chromedp.Click("#undo-confirm", chromedp.ByID))
	b.waitJS("the refusal", `!!document.querySelector("#undo-report [role=alert]")`)
	if msg := textOf(b, "#undo-report [role=alert]"); !strings.Contains(msg, "the import cannot be undone now") || !strings.Contains(msg, fmt.Sprintf("import %d", other)) {
		t.Errorf("the refused undo says %q", msg)
	}
	b.shot("undo-refused")
}

// TestPageOtherAccount: another account's session sees none of the first account's imports:
// its history is empty and the first account's import is not found, nor its files.
func TestPageOtherAccount(t *testing.T) {
	d := startDaemon(t)
	id := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("mine.example", 120))
	d.waitImport(id)
	other := uniqueName(t)
	mustCLI(t, "account", "create", other)
	token := strings.TrimSpace(mustCLI(t, "token", "create", "--account", other))

	b := startBrowser(t, d)
	b.signIn(token)
	if ids := historyIDs(b, "#/imports"); len(ids) != 0 || textOf(b, "main .empty") != "No imports yet. Start a new import to bring a list in." {
		t.Errorf("another account's history lists %v and says %q", ids, textOf(b, "main .empty"))
	}
	b.shot("other-history")
	b.open(fmt.Sprintf("#/imports/%d", id))
	b.waitJS("not found", `document.querySelector("main h1")?.textContent === "Import not found"`)
	if msg := textOf(b, "main [role=alert]"); !strings.Contains(msg, fmt.Sprintf("Import %d: not found", id)) {
		t.Errorf("another account's detail says %q", msg)
	}
	var statuses []int
	b.run(chromedp.Evaluate(fmt.Sprintf(`Promise.all(["file", "skipped.csv", "records"].map((p) => fetch("/v1/imports/%d/" + p).then((r) => r.status)))`, id),
		&statuses, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !slices.Equal(statuses, []int{404, 404, 404}) {
		t.Errorf("another account's session fetches the import's file, skipped rows and records with %v, want 404s", statuses)
	}
	b.shot("other-detail")
}

// TestPagePhone: on a 390-pixel-wide phone the history, the detail and the undo report need
// no horizontal scrolling.
func TestPagePhone(t *testing.T) {
	d := startDaemon(t)
	id := queueImport(t, d, "prospects", "SpringTradeFair2026AttendeesFullExportFromTheBadgeScanners.csv", prospectsFile("phone.example", 300))
	d.waitImport(id)
	b := startBrowser(t, d)
	b.phone()
	b.signIn(d.token)
	historyIDs(b, "#/imports")
	if !b.fitsWidth() {
		t.Error("the history scrolls sideways on a phone")
	}
	b.shot("phone-history")
	b.open(fmt.Sprintf("#/imports/%d", id))
	b.waitJS("the detail with its records", `document.querySelectorAll("#records tbody tr").length > 0`)
	if !b.fitsWidth() {
		t.Error("the detail scrolls sideways on a phone")
	}
	b.shot("phone-detail")
	b.run(chromedp.Click("#undo", chromedp.ByID))
	b.waitJS("the dry run's report", `!!document.getElementById("undo-report")`)
	if !b.fitsWidth() {
		t.Error("the undo report scrolls sideways on a phone")
	}
	b.shot("phone-undo-report")
}

// TestPageKeyboard: with the keyboard alone, sign in, open an import from the history and undo
// it; the focus follows each step and is visible on the controls.
func TestPageKeyboard(t *testing.T) {
	d := startDaemon(t)
	id := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("keys.example", 150))
	d.waitImport(id)
	b := startBrowser(t, d)
	b.open("#/sign-in")
	b.waitJS("the sign-in form", `!!document.getElementById("token")`)

	tabTo(b, `document.activeElement.id === "token"`)
	b.run(chromedp.KeyEvent(d.token), chromedp.KeyEvent(kb.Enter))
	b.waitJS("the history, its heading focused", `document.activeElement === document.querySelector("main h1") && document.activeElement.textContent === "Imports"`)
	historyIDs(b, "#/imports")
	checkStructure(b)
	b.shot("keys-history")

	tabTo(b, fmt.Sprintf(`document.activeElement.getAttribute("href") === "#/imports/%d"`, id))
	b.run(chromedp.KeyEvent(kb.Enter))
	b.waitJS("the detail, its heading focused", `document.activeElement === document.querySelector("main h1") && document.activeElement.textContent === "spring-fair.csv"`)
	b.waitJS("the detail's records", `document.querySelectorAll("#records tbody tr").length > 0`)
	checkStructure(b)
	b.shot("keys-detail")

	tabTo(b, `document.activeElement.id === "undo"`)
	var outline string
	b.eval(`getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth`, &outline)
	if outline != "solid 3px" {
		t.Errorf("the focused undo button's outline is %q, want solid 3px", outline)
	}
	b.run(chromedp.KeyEvent(kb.Enter))
	b.waitJS("the report, focused", `document.activeElement === document.querySelector("#undo-report h3")`)
	tabTo(b, `document.activeElement.id === "undo-confirm"`)
	b.shot("keys-undo-report")
	b.run(chromedp.KeyEvent(kb.Enter))
	b.waitJS("the import undone", `document.querySelector(".status-line .badge")?.textContent === "undone"`)
	b.shot("keys-undone")
}

// tabTo presses Tab until the focused element is the one a JavaScript condition names.
func tabTo(b *browser, focused string) {
	b.t.Helper()
	for range 40 {
		var ok bool
		b.eval(focused, &ok)
		if ok {
			return
		}
		b.run(chromedp.KeyEvent(kb.Tab))
	}
	b.shot("failed")
	b.t.Fatalf("40 presses of Tab never reached the element where %s", focused)
}

// checkStructure checks what a screen reader relies on in the view shown: one main landmark,
// the header's navigation named, headings in order from one h1, and a label on every control.
func checkStructure(b *browser) {
	b.t.Helper()
	var problems []string
	b.eval(`(() => {
		const p = [];
		if (document.querySelectorAll("main").length !== 1) p.push("not one main landmark");
		if (!document.querySelector("header nav[aria-label]")) p.push("no named navigation in the header");
		const levels = [...document.querySelectorAll("h1, h2, h3, h4")].map((h) => Number(h.tagName[1]));
		if (levels.filter((l) => l === 1).length !== 1 || levels[0] !== 1) p.push("not one h1 first: " + levels);
		levels.forEach((l, i) => { if (i > 0 && l > levels[i - 1] + 1) p.push("heading level skipped: " + levels); });
		for (const el of document.querySelectorAll("input, select, textarea")) {
			if (el.labels.length === 0 || !el.labels[0].textContent.trim()) p.push("no label: " + (el.id || el.name));
		}
		for (const el of document.querySelectorAll("button, a")) {
			if (!el.textContent.trim() && !el.getAttribute("aria-label")) p.push("no name: " + el.outerHTML);
		}
		return p;
	})()`, &problems)
	if len(problems) > 0 {
		b.t.Errorf("the view at %s: %v", textOf(b, "main h1"), problems)
	}
}

// TestPagePollDetailOnce: Cancel reads the import again while a read of the detail's polling is
// still under way; the late answer of that read, older than the cancel, is not shown, and one
// polling goes on, about a read a second, not two. The test holds the detail's reads with the
// DevTools Fetch domain (each answer waits until the test lets it through), so that a read is
// certainly under way when Cancel is pressed.
func TestPagePollDetailOnce(t *testing.T) {
	d := startDaemon(t)
	hold := holdAccount(t, d) // the import runs, cancelled it keeps stopping: its detail polls
	id := queueImport(t, d, "prospects", "held.csv", prospectsFile("held.example", 300))
	waitStatus(t, d, id, "running")

	b := startBrowser(t, d)
	b.signIn(d.token)
	answers := make(chan fetch.RequestID, 100)
	chromedp.ListenTarget(b.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			answers <- e.RequestID
		}
	})
	next := func(what string) fetch.RequestID {
		t.Helper()
		select {
		case a := <-answers:
			return a
		case <-time.After(5 * time.Second):
			b.shot("failed")
			t.Fatalf("no read of the import came: %s", what)
			return ""
		}
	}
	b.open(fmt.Sprintf("#/imports/%d", id))
	b.waitJS("the import running", `document.querySelector(".status-line .badge")?.textContent === "running" && !document.getElementById("cancel").hidden`)
	var watching bool
	b.eval(`(() => {
		window.badges = [];
		const line = document.querySelector(".status-line");
		new MutationObserver(() => window.badges.push(line.querySelector(".badge").textContent)).observe(line, { childList: true });
		return true;
	})()`, &watching)
	// From now on the answers to GET /v1/imports/ID wait for the test (not those of
	// …/cancel or …/records).
	b.run(fetch.Enable().WithPatterns([]*fetch.RequestPattern{{
		URLPattern: fmt.Sprintf("*/v1/imports/%d", id), RequestStage: fetch.RequestStageResponse,
	}}))
	t.Cleanup(func() { b.try(fetch.Disable()) }) //nolint:errcheck // the browser may be gone

	stale := next("the polling's next read") // it answers running
	b.run(chromedp.Click("#cancel", chromedp.ByID))
	fresh := next("the read after Cancel") // it answers cancelled
	b.run(fetch.ContinueRequest(fresh))
	b.waitJS("the import cancelled", `document.querySelector(".status-line .badge")?.textContent === "cancelled"`)
	b.run(fetch.ContinueRequest(stale)) // the running of before the cancel arrives late

	// Let every read through for 4 seconds, counting them.
	const window = 4 * time.Second
	reads := 0
	for end := time.After(window); ; {
		select {
		case a := <-answers:
			reads++
			b.run(fetch.ContinueRequest(a))
			continue
		case <-end:
		}
		break
	}
	b.run(fetch.Disable())
	var badges []string
	b.eval(`window.badges`, &badges)
	t.Logf("in %v the page read the import %d times; its status showed %v", window, reads, badges)
	if reads < 2 || reads > 5 {
		t.Errorf("in %v the page read the import %d times, want about one a second (2 to 5)", window, reads)
	}
	if i := slices.Index(badges, "cancelled"); i < 0 || slices.Contains(badges[i:], "running") {
		t.Errorf("the status showed %v: a late answer from before the cancel was shown after it", badges)
	}
	if err := hold.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the import stopped", `document.querySelector(".status-line")?.textContent.includes("stopped on request")`)
}

// TestPagePollOlderPage: an import running on the history's second page (listed by "Older
// imports") shows completed once it completes, without a reload; then, nothing listed
// running, the history reads no more.
func TestPagePollOlderPage(t *testing.T) {
	d := startDaemon(t)
	hold := holdAccount(t, d)
	held := queueImport(t, d, "prospects", "older-fair.csv", prospectsFile("older.example", 300))
	waitStatus(t, d, held, "running")
	// 25 newer imports fill the first page; they wait for the account's row too.
	var newer []int64
	for i := 0; i < 25; i++ {
		newer = append(newer, queueImport(t, d, "organizations", fmt.Sprintf("batch-%02d.csv", i), fmt.Sprintf("Name\nCompany %d\n", i)))
	}

	b := startBrowser(t, d)
	b.signIn(d.token)
	if ids := historyIDs(b, "#/imports"); len(ids) != 25 || ids[0] != newer[24] || ids[24] != newer[0] {
		t.Fatalf("the history's first page lists %v, want the 25 imports from %d to %d", ids, newer[24], newer[0])
	}
	b.run(chromedp.Click(`//button[text()="Older imports"]`, chromedp.BySearch))
	row := fmt.Sprintf(`document.querySelector('#history tr[data-id="%d"]')`, held)
	b.waitJS("the held import running on the second page", row+`?.dataset.status === "running"`)
	b.shot("older-running")
	if err := hold.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(newer, held) {
		d.waitImport(id)
	}
	b.waitJS("the held import completed", row+`.dataset.status === "completed"`)
	if cells := textOf(b, fmt.Sprintf(`#history tr[data-id="%d"]`, held)); !strings.Contains(cells, "older-fair.csv") || !strings.Contains(cells, "completed") || !strings.Contains(cells, "297") {
		t.Errorf("the completed import's row reads %q, want older-fair.csv, completed, 297 created", cells)
	}
	b.shot("older-completed")

	// Nothing listed runs: in 3 seconds (more than a refresh's 2) the history reads no import.
	var cleared bool
	b.eval(`(performance.clearResourceTimings(), true)`, &cleared)
	time.Sleep(3 * time.Second)
	var reads []string
	b.eval(`performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((p) => p.startsWith("/v1/imports"))`, &reads)
	if len(reads) != 0 {
		t.Errorf("with nothing listed running the history still read %v", reads)
	}
}

// TestPageHistoryFollowsUndo: an import listed while its undo runs is read again, as a running
// import is, until it reads undone, without a reload.
func TestPageHistoryFollowsUndo(t *testing.T) {
	d := startDaemon(t)
	id := queueImport(t, d, "prospects", "spring-fair.csv", prospectsFile("follow.example", 150))
	d.waitImport(id)
	hold := holdAccount(t, d)
	undo := int64(apiJSON(t, d, "POST", fmt.Sprintf("/v1/imports/%d/undo", id), http.StatusAccepted)["id"].(float64))
	waitStatus(t, d, undo, "running")

	b := startBrowser(t, d)
	b.signIn(d.token)
	historyIDs(b, "#/imports")
	row := fmt.Sprintf(`document.querySelector('#history tr[data-id="%d"]')`, id)
	b.waitJS("the import listed completed, its undo running", row+`?.dataset.status === "completed"`)
	b.shot("being-undone")
	if err := hold.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.waitImport(undo)
	b.waitJS("the import undone", row+`.dataset.status === "undone"`)
	b.shot("undone")
}
