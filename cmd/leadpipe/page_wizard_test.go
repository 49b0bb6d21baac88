package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// wizardPage is the new-import wizard (web/static/wizard.js) on the page of a test's daemon,
// signed in with its account's token.
type wizardPage struct {
	*browser
	d    *daemon
	pool *pgxpool.Pool
	acct store.Account
}

// openWizard starts a daemon and a browser, signs in and opens the wizard at route (#/new,
// #/new?kind=K), at step 1.
func openWizard(t *testing.T, route string) *wizardPage {
	t.Helper()
	d := startDaemon(t)
	b := startBrowser(t, d)
	b.signIn(d.token)
	pool := storetest.Pool(t)
	acct, err := store.AccountByName(context.Background(), pool, d.account)
	if err != nil {
		t.Fatal(err)
	}
	w := &wizardPage{browser: b, d: d, pool: pool, acct: acct}
	w.goTo(route)
	return w
}

// goTo moves the page to a route and waits for the wizard's first step.
func (w *wizardPage) goTo(route string) {
	w.t.Helper()
	w.eval(fmt.Sprintf("location.hash = %q", route), nil)
	w.atStep(1, "Kind")
}

// atStep waits for the wizard's step n, its heading saying so ("Step 3 of 6: Map fields"),
// the focus on that heading and the step marked aria-current in the list of steps; the step
// has what a screen reader relies on (checkStructure).
func (w *wizardPage) atStep(n int, title string) {
	w.t.Helper()
	heading := fmt.Sprintf("Step %d of 6: %s", n, title)
	w.waitJS(heading+" with the focus on its heading", fmt.Sprintf(`(() => {
		const h = document.getElementById("wizard-step");
		const current = document.querySelector('.wizard-steps [aria-current="step"]');
		return !!h && h.textContent === %q && document.activeElement === h && !!current && current.textContent === %q;
	})()`, heading, title))
	checkStructure(w.browser)
}

// next presses Next and waits for step n.
func (w *wizardPage) next(n int, title string) {
	w.t.Helper()
	w.run(chromedp.Click("#next", chromedp.ByID))
	w.atStep(n, title)
}

// value is the value of a control.
func (w *wizardPage) value(selector string) string {
	w.t.Helper()
	var v string
	w.eval(fmt.Sprintf(`document.querySelector(%q).value`, selector), &v)
	return v
}

// text is the text of an element as it is shown, its lines and cells joined by one space
// (textOf joins a list's terms and descriptions with none).
func (w *wizardPage) text(selector string) string {
	w.t.Helper()
	var v string
	w.eval(fmt.Sprintf(`document.querySelector(%q).innerText.replace(/\s+/g, " ").trim()`, selector), &v)
	return v
}

// tableRows are the rows of a table's body, each as its cells' texts joined by " | ".
func (w *wizardPage) tableRows(selector string) []string {
	w.t.Helper()
	var rows []string
	w.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map((tr) =>
		[...tr.cells].map((c) => c.innerText.replace(/\s+/g, " ").trim()).join(" | "))`, selector+" tbody tr"), &rows)
	return rows
}

// upload gives the file input a file and waits for the preview to tell its rows (or its
// columns, when none matches a field); the native
// file chooser cannot be driven in a headless browser, so this is what picking a file does.
func (w *wizardPage) upload(path string) {
	w.t.Helper()
	w.run(chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByID))
	w.waitJS("the preview of "+path,
		`/data rows?, \d+ columns?|none matching a field|matches no field/.test(document.getElementById("file-chosen").textContent) && !document.querySelector(".wizard [role=status].loading")`)
}

// startImport presses Start import and waits for the import's detail page; it answers the
// import's id.
func (w *wizardPage) startImport() int64 {
	w.t.Helper()
	w.run(chromedp.Click("#start-import", chromedp.ByID))
	return w.landed()
}

var importRoute = regexp.MustCompile(`^#/imports/(\d+)$`)

// landed waits for the page to be at #/imports/ID, and answers ID.
func (w *wizardPage) landed() int64 {
	w.t.Helper()
	w.waitJS("the import's detail page", `/^#\/imports\/\d+$/.test(location.hash)`)
	var hash string
	w.eval(`location.hash`, &hash)
	id, _ := strconv.ParseInt(importRoute.FindStringSubmatch(hash)[1], 10, 64)
	return id
}

// completed waits for an import to complete with created and skipped rows.
func (w *wizardPage) completed(id int64, created, skipped int) {
	w.t.Helper()
	imp := w.d.waitImport(id)
	if imp.Status != "completed" || imp.Created != created || imp.Skipped != skipped {
		w.t.Fatalf("import %d: %+v, want completed with %d created and %d skipped", id, imp, created, skipped)
	}
}

// rows answers one line of text per row of a query of the account's data ($1 is its id).
func (w *wizardPage) rows(sql string) []string {
	w.t.Helper()
	return textRows(w.t, w.pool, sql, w.acct.ID)
}

// importOptions are the options an import was recorded with.
func (w *wizardPage) importOptions(id int64) map[string]any {
	w.t.Helper()
	var b []byte
	if err := w.pool.QueryRow(context.Background(), `SELECT options FROM imports WHERE id = $1 AND account_id = $2`, id, w.acct.ID).Scan(&b); err != nil {
		w.t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// sameJSON reports whether got, decoded, equals the JSON want.
func sameJSON(t *testing.T, got any, want string) bool {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(b, &g)
	return reflect.DeepEqual(g, w)
}

const (
	prospectsSQL = `SELECT email || ' ' || coalesce(first_name, '-') || ' ' || coalesce(last_name, '-') || ' ' ||
		coalesce(phone, '-') || ' ' || coalesce(mobile, '-') FROM prospects WHERE account_id = $1 ORDER BY email`
	membershipsSQL = `SELECT p.email || ' ' || g.kind || ' ' || g.name FROM grouping_members m
		JOIN groupings g ON g.id = m.grouping_id JOIN prospects p ON p.id = m.prospect_id WHERE p.account_id = $1 ORDER BY 1`
)

// TestPageWizardCSV goes through the wizard with a CSV file: one column is remapped, one maps
// to nothing, one row has an invalid email. The preview shows each row's outcome and the
// skipped row's reason, the dry run the counts and the skipped row, and the import lands on
// its detail page and writes the records with the changed mapping, list and tags.
func TestPageWizardCSV(t *testing.T) {
	w := openWizard(t, "#/new")
	if got := w.value("#kind"); got != "prospects" {
		t.Errorf("kind preselected %q, want prospects (the first kind)", got)
	}
	w.shot("kind")
	w.next(2, "File")
	w.upload(writeTestFile(t, "wizard-people.csv", []byte("Email,First Name,Last Name,Work Phone,Shoe Size,Opt In\n"+
		"ada@wizard.example,Ada,Lovelace,+1 555 0100,38,yes\n"+
		"not-an-email,Bob,Builder,+1 555 0101,44,no\n"+
		"cy@wizard.example,Cy,Young,+1 555 0102,40,maybe\n")))
	if got, want := w.text("#file-chosen"), "wizard-people.csv (197 bytes): 3 data rows, 6 columns"; got != want {
		t.Errorf("the file step says %q, want %q", got, want)
	}
	w.shot("file")

	w.next(3, "Map fields")
	// Every column with its field: "Work Phone" is auto-mapped to Phone and "Opt In" to Email
	// Opt In (aliases), "Shoe Size" maps to nothing and is marked so.
	for col, want := range map[string]string{"Email": "email", "First Name": "first_name", "Last Name": "last_name", "Work Phone": "phone", "Shoe Size": "", "Opt In": "email_opt_in"} {
		if got := w.value(fmt.Sprintf(`select[data-column=%q]`, col)); got != want {
			t.Errorf("column %q is mapped to %q, want %q", col, got, want)
		}
	}
	if got, want := w.text("#map-summary"), "5 of 6 columns will be imported. Not imported: Shoe Size."; got != want {
		t.Errorf("map summary %q, want %q", got, want)
	}
	var unmapped []string
	w.eval(`[...document.querySelectorAll(".map-row.unmapped")].map((r) =>
		r.querySelector("label").textContent + " | " + r.querySelector("select").selectedOptions[0].textContent + " | " + r.querySelector(".map-note").textContent)`, &unmapped)
	if want := []string{"Shoe Size | Don't import | Not imported: no matching field"}; !reflect.DeepEqual(unmapped, want) {
		t.Errorf("rows marked unmapped: %q, want %q", unmapped, want)
	}
	choose(w.browser, `select[data-column="Work Phone"]`, "mobile")
	if got, want := w.text(`#map-3-note`), "Chosen"; got != want {
		t.Errorf("the remapped column's note %q, want %q", got, want)
	}
	w.shot("map")

	w.next(4, "Preview")
	// A skipped row's values are as read: the row is skipped before the value rules (yes → true).
	want := []string{
		"2 | created | Email ada@wizard.example Email Opt In true First Name Ada Last Name Lovelace Mobile +1 555 0100 | —",
		`3 | skipped Invalid email: "not-an-email" is not a valid email address | Email not-an-email Email Opt In no First Name Bob Last Name Builder Mobile +1 555 0101 | —`,
		"4 | created | Email cy@wizard.example First Name Cy Last Name Young Mobile +1 555 0102 | Email Opt In: invalid boolean (“maybe”)",
	}
	if got := w.tableRows("#preview-rows"); !reflect.DeepEqual(got, want) {
		t.Errorf("preview rows:\n%q\nwant\n%q", got, want)
	}
	if got, want := w.text(".wizard .outcomes"), "Would be: 2 created, 1 skipped."; got != want {
		t.Errorf("preview outcomes %q, want %q", got, want)
	}
	w.shot("preview")

	w.next(5, "Options")
	w.run(chromedp.SendKeys("#opt-list", "Webinar leads", chromedp.ByID), chromedp.SendKeys("#opt-tags", "vip, autumn", chromedp.ByID))
	w.shot("options")

	w.next(6, "Import")
	if got, want := w.text(".wizard dl.facts"), "Kind Prospects File wizard-people.csv Rows 3 Columns imported 5 of 6 List Webinar leads Tags vip, autumn"; got != want {
		t.Errorf("the import step's summary %q, want %q", got, want)
	}
	w.run(chromedp.Click("#dry-run", chromedp.ByID))
	w.waitJS("the dry run's report", `!!document.querySelector(".dry-run-report")`)
	if got, want := w.text(".dry-run-report dl.facts"), "Rows 3 Created 2 Updated 0 Unchanged 0 Skipped 1"; got != want {
		t.Errorf("dry run counts %q, want %q", got, want)
	}
	if got, want := w.tableRows("#dry-run-skipped"), []string{`3 | Invalid email | "not-an-email" is not a valid email address`}; !reflect.DeepEqual(got, want) {
		t.Errorf("dry run skipped rows %q, want %q", got, want)
	}
	var counted []string
	w.eval(`[...document.querySelectorAll(".dry-run-report li")].map((li) => li.textContent)`, &counted)
	if want := []string{"Invalid email: 1", "Invalid boolean: 1"}; !reflect.DeepEqual(counted, want) {
		t.Errorf("dry run's skip reasons and warnings %q, want %q", counted, want)
	}
	w.shot("dry-run")
	if got := w.rows(prospectsSQL); len(got) != 0 {
		t.Errorf("the dry run wrote prospects: %q", got)
	}
	// Back to the options and on again: the report, of the options it ran with, is gone.
	w.run(chromedp.Click("#back", chromedp.ByID))
	w.atStep(5, "Options")
	w.next(6, "Import")
	if got := w.text("#dry-run-result"); got != "" {
		t.Errorf("after the options were open again, the dry run's report still shows: %q", got)
	}

	id := w.startImport()
	w.shot("detail")
	w.completed(id, 2, 1)
	if got, want := w.rows(prospectsSQL), []string{"ada@wizard.example Ada Lovelace - +1 555 0100", "cy@wizard.example Cy Young - +1 555 0102"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q (Work Phone imported as Mobile)", got, want)
	}
	wantMembers := []string{"ada@wizard.example list Webinar leads", "ada@wizard.example tag autumn", "ada@wizard.example tag vip",
		"cy@wizard.example list Webinar leads", "cy@wizard.example tag autumn", "cy@wizard.example tag vip"}
	if got := w.rows(membershipsSQL); !reflect.DeepEqual(got, wantMembers) {
		t.Errorf("memberships %q, want %q", got, wantMembers)
	}
	optIn := `SELECT email || ' ' || coalesce(email_opt_in::text, '-') FROM prospects WHERE account_id = $1 ORDER BY email`
	if got, want := w.rows(optIn), []string{"ada@wizard.example true", "cy@wizard.example -"}; !reflect.DeepEqual(got, want) {
		t.Errorf("email opt-in %q, want %q (maybe is no boolean)", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"mapping": {"Work Phone": "mobile"}, "list": "Webinar leads", "tags": ["vip", "autumn"]}`) {
		t.Errorf("the import's options %v, want the changed mapping, the list and the tags", got)
	}
}

// TestPageWizardWorkbook uploads an XLSX workbook of two sheets: the sheet chooser lists them
// with the first one read, choosing the second previews and imports that one only.
func TestPageWizardWorkbook(t *testing.T) {
	w := openWizard(t, "#/new")
	w.next(2, "File")
	w.upload(writeSheets(t, "wizard.xlsx", map[string][][]string{
		"Old list": {{"Email", "First Name"}, {"old@wizard.example", "Old"}},
		"People":   {{"Email", "First Name", "Last Name", "Company"}, {"dee@wizard.example", "Dee", "Diaz", "Acme"}, {"eve@wizard.example", "Eve", "Evans", "Acme"}},
	}, []string{"Old list", "People"}))
	var sheets []string
	w.eval(`[...document.querySelectorAll("select#sheet option")].map((o) => o.value + (o.selected ? " (selected)" : ""))`, &sheets)
	if want := []string{"Old list (selected)", "People"}; !reflect.DeepEqual(sheets, want) {
		t.Fatalf("sheet chooser %q, want %q", sheets, want)
	}
	if got := w.text("#file-chosen p"); !strings.HasSuffix(got, ": 1 data row, 2 columns") {
		t.Errorf("the first sheet is described as %q, want 1 data row and 2 columns", got)
	}
	w.shot("sheets")
	choose(w.browser, "#sheet", "People")
	w.waitJS("the preview of the People sheet", `/: 2 data rows, 4 columns/.test(document.getElementById("file-chosen").textContent)`)
	w.shot("sheet-people")

	w.next(3, "Map fields")
	if got := w.value(`select[data-column="Company"]`); got != "organization" {
		t.Errorf("Company is mapped to %q, want organization", got)
	}
	w.next(4, "Preview")
	if got, want := w.text(".wizard .outcomes"), "Would be: 2 created."; got != want {
		t.Errorf("preview outcomes %q, want %q", got, want)
	}
	w.next(5, "Options")
	w.next(6, "Import")
	if got := w.text(".wizard dl.facts"); !strings.Contains(got, "Sheet People Rows 2") {
		t.Errorf("the import step's summary %q does not name the sheet People and its 2 rows", got)
	}
	id := w.startImport()
	w.completed(id, 2, 0)
	orgs := `SELECT p.email || ' ' || coalesce(o.name, '-') FROM prospects p LEFT JOIN organizations o ON o.id = p.organization_id
		WHERE p.account_id = $1 ORDER BY 1`
	if got, want := w.rows(orgs), []string{"dee@wizard.example Acme", "eve@wizard.example Acme"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q (the People sheet only)", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"sheet": "People"}`) {
		t.Errorf("the import's options %v, want the sheet People", got)
	}
}

// TestPageWizardSavedMapping saves a mapping (columns the auto-mapping does not know, and a
// tag) on the way to an import; a second file with the same columns gets it suggested and
// chosen, and imports with it; so does a third, none of whose columns matches a field by its
// name.
func TestPageWizardSavedMapping(t *testing.T) {
	w := openWizard(t, "#/new")
	header := "Email,Nombre,Apellido,Movil,Notas\n"
	w.next(2, "File")
	w.upload(writeTestFile(t, "clientes-1.csv", []byte(header+"ana@wizard.example,Ana,Alvarez,+34 600 000 001,primera\n")))
	w.next(3, "Map fields")
	if got := w.value("#saved-mapping"); got != "" {
		t.Errorf("a saved mapping %q is chosen before there is any", got)
	}
	choose(w.browser, `select[data-column="Nombre"]`, "first_name")
	choose(w.browser, `select[data-column="Apellido"]`, "last_name")
	choose(w.browser, `select[data-column="Movil"]`, "mobile")
	w.next(4, "Preview")
	w.next(5, "Options")
	w.run(chromedp.SendKeys("#opt-tags", "clientes", chromedp.ByID))
	w.next(6, "Import")
	w.run(chromedp.SendKeys("#mapping-name", "Clientes", chromedp.ByID), chromedp.Click("#save-mapping", chromedp.ByID))
	w.waitJS("the mapping saved", `document.querySelector(".save-note").textContent === "Saved the mapping “Clientes”."`)
	w.shot("saved")
	first := w.startImport()
	w.completed(first, 1, 0)

	status, body := w.d.call("GET", "/v1/mappings?kind=prospects", "", nil)
	var saved struct {
		Mappings []struct {
			Name    string          `json:"name"`
			Kind    string          `json:"kind"`
			Columns []string        `json:"columns"`
			Options json.RawMessage `json:"options"`
		} `json:"mappings"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &saved) != nil || len(saved.Mappings) != 1 {
		t.Fatalf("GET /v1/mappings?kind=prospects: %d %s, want the one saved mapping", status, body)
	}
	m := saved.Mappings[0]
	if m.Name != "Clientes" || m.Kind != "prospects" || !reflect.DeepEqual(m.Columns, []string{"Email", "Nombre", "Apellido", "Movil", "Notas"}) ||
		!sameJSON(t, m.Options, `{"mapping": {"Email": "email", "Nombre": "first_name", "Apellido": "last_name", "Movil": "mobile", "Notas": ""}, "tags": ["clientes"]}`) {
		t.Errorf("saved mapping %s, want Clientes of prospects with the file's columns, their fields and the tag", body)
	}

	// A second file with the same columns: the saved mapping is suggested and chosen.
	w.goTo("#/new")
	w.next(2, "File")
	w.upload(writeTestFile(t, "clientes-2.csv", []byte(header+
		"bea@wizard.example,Bea,Blanco,+34 600 000 002,segunda\n"+
		"cai@wizard.example,Cai,Castro,+34 600 000 003,tercera\n")))
	w.next(3, "Map fields")
	if got := w.value("#saved-mapping"); got != "Clientes" {
		t.Errorf("saved mapping chosen %q, want the suggested Clientes", got)
	}
	if got := w.text("#saved-mapping-note"); !strings.HasPrefix(got, "Suggested for this file: “Clientes” fits 5 of its 5 columns.") {
		t.Errorf("the suggestion is told as %q", got)
	}
	for col, want := range map[string]string{"Email": "email", "Nombre": "first_name", "Apellido": "last_name", "Movil": "mobile", "Notas": ""} {
		if got := w.value(fmt.Sprintf(`select[data-column=%q]`, col)); got != want {
			t.Errorf("with the saved mapping, column %q is mapped to %q, want %q", col, got, want)
		}
	}
	w.shot("suggested")
	w.next(4, "Preview")
	w.next(5, "Options")
	if got := w.value("#opt-tags"); got != "clientes" {
		t.Errorf("tags %q, want the saved mapping's clientes", got)
	}
	w.next(6, "Import")
	second := w.startImport()
	w.completed(second, 2, 0)
	if got := w.importOptions(second); !sameJSON(t, got, `{"mapping": {"Email": "email", "Nombre": "first_name", "Apellido": "last_name", "Movil": "mobile", "Notas": ""}, "tags": ["clientes"]}`) {
		t.Errorf("the second import's options %v, want the saved mapping's", got)
	}
	want := []string{"ana@wizard.example Ana Alvarez - +34 600 000 001", "bea@wizard.example Bea Blanco - +34 600 000 002", "cai@wizard.example Cai Castro - +34 600 000 003"}
	if got := w.rows(prospectsSQL); !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q", got, want)
	}
	members := w.rows(membershipsSQL)
	if want := []string{"ana@wizard.example tag clientes", "bea@wizard.example tag clientes", "cai@wizard.example tag clientes"}; !reflect.DeepEqual(members, want) {
		t.Errorf("memberships %q, want %q", members, want)
	}

	// A file none of whose columns matches a field by its name gets the saved mapping suggested
	// and chosen as any file does.
	w.goTo("#/new")
	w.next(2, "File")
	w.upload(writeTestFile(t, "clientes-3.csv", []byte("Nombre,Apellido,Movil\nDan,Duarte,+34 600 000 004\n")))
	if got := w.text("#file-chosen p"); !strings.HasSuffix(got, ": 1 data row, 3 columns") {
		t.Errorf("the file read with the suggested mapping is described as %q, want 1 data row and 3 columns", got)
	}
	w.next(3, "Map fields")
	if got := w.value("#saved-mapping"); got != "Clientes" {
		t.Errorf("saved mapping chosen %q, want the suggested Clientes", got)
	}
	if got := w.text("#saved-mapping-note"); !strings.HasPrefix(got, "Suggested for this file: “Clientes” fits 3 of its 3 columns.") {
		t.Errorf("the suggestion is told as %q", got)
	}
	if got := w.text("#map-problem"); got != "" {
		t.Errorf("with the suggested mapping chosen, the map step has the notice %q", got)
	}
	for col, want := range map[string]string{"Nombre": "first_name", "Apellido": "last_name", "Movil": "mobile"} {
		if got := w.value(fmt.Sprintf(`select[data-column=%q]`, col)); got != want {
			t.Errorf("with the suggested mapping, column %q is mapped to %q, want %q", col, got, want)
		}
	}
	w.shot("suggested-for-unmapped")
	// None chosen instead: the columns are the file's own again, unmapped, with the notice.
	choose(w.browser, "#saved-mapping", "")
	w.waitJS("the columns unmapped", `document.querySelectorAll(".map-row.unmapped").length === 3`)
	if got, want := w.text("#map-problem"), "None of this file's columns matched a field by its name: choose a field for at least one column."; got != want {
		t.Errorf("with no saved mapping, the map step's notice %q, want %q", got, want)
	}
	w.shot("suggestion-undone")
	choose(w.browser, "#saved-mapping", "Clientes")
	w.waitJS("the saved mapping chosen again", `document.querySelectorAll(".map-row.unmapped").length === 0`)
	w.next(4, "Preview")
	w.next(5, "Options")
	w.next(6, "Import")
	third := w.startImport()
	w.completed(third, 1, 0)
	if got := w.importOptions(third); !sameJSON(t, got, `{"mapping": {"Nombre": "first_name", "Apellido": "last_name", "Movil": "mobile"}, "tags": ["clientes"]}`) {
		t.Errorf("the third import's options %v, want the saved mapping's fields of its columns and its tag", got)
	}
	if got, want := w.rows(`SELECT first_name || ' ' || last_name || ' ' || mobile FROM prospects WHERE account_id = $1 AND email IS NULL`), []string{"Dan Duarte +34 600 000 004"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects without email %q, want %q", got, want)
	}
}

// TestPageWizardKeyboard goes through the wizard with the keyboard alone (Tab, Enter, Space):
// every step's heading takes the focus, every control is reached with Tab, a checkbox is
// switched with Space, the dry run and the import start with Enter.
func TestPageWizardKeyboard(t *testing.T) {
	w := openWizard(t, "#/new?kind=prospects")
	w.press("next", kb.Enter)
	w.atStep(2, "File")
	tabTo(w.browser, focusedID("file")) // the file input is reached with Tab; its native chooser is not drivable headless
	w.upload(writeTestFile(t, "keys.csv", []byte("Email,First Name\nkay@wizard.example,Kay\nlee@wizard.example,Lee\n")))
	w.press("next", kb.Enter)
	w.atStep(3, "Map fields")
	tabTo(w.browser, focusedID("map-1")) // the saved mapping picker, then each column's field
	w.press("next", kb.Enter)
	w.atStep(4, "Preview")
	w.press("next", kb.Enter)
	w.atStep(5, "Options")
	w.press("opt-update_existing", " ")
	var checked bool
	w.eval(`document.getElementById("opt-update_existing").checked`, &checked)
	if checked {
		t.Fatal("Space did not switch off “Update existing records”")
	}
	w.shot("options")
	w.press("next", kb.Enter)
	w.atStep(6, "Import")
	w.press("dry-run", kb.Enter)
	w.waitJS("the dry run's report", `!!document.querySelector(".dry-run-report")`)
	if got, want := w.text(".dry-run-report dl.facts"), "Rows 2 Created 2 Updated 0 Unchanged 0 Skipped 0"; got != want {
		t.Errorf("dry run counts %q, want %q", got, want)
	}
	w.shot("dry-run")
	w.press("start-import", kb.Enter)
	id := w.landed()
	w.completed(id, 2, 0)
	if got := w.importOptions(id); !sameJSON(t, got, `{"update_existing": false}`) {
		t.Errorf("the import's options %v, want update_existing false", got)
	}
}

// press tabs to the element of the id and presses a key on it.
func (w *wizardPage) press(id, key string) {
	w.t.Helper()
	tabTo(w.browser, focusedID(id))
	w.run(chromedp.KeyEvent(key))
}

// focusedID is the JavaScript condition that the element of the id has the focus.
func focusedID(id string) string {
	return fmt.Sprintf("document.activeElement?.id === %q", id)
}

// TestPageWizardPhone goes through the wizard on a 390-pixel-wide phone screen: no step needs
// horizontal scrolling.
func TestPageWizardPhone(t *testing.T) {
	w := openWizard(t, "#/new")
	w.phone()
	fits := func(step string) {
		t.Helper()
		var width int
		w.eval(`document.documentElement.scrollWidth`, &width)
		if width > 390 {
			t.Errorf("%s: the page is %d pixels wide on a 390-pixel phone screen", step, width)
		}
		w.shot("phone-" + step)
	}
	fits("kind")
	w.next(2, "File")
	w.upload(writeTestFile(t, "phone-with-a-rather-long-file-name-for-a-small-screen.csv", []byte(
		"Email,First Name,Last Name,A Column Whose Header Is Much Too Long For A Phone Screen\n"+
			"pat@wizard.example,Pat,Quinn-Longname-Averylongsurnamewithoutspaces,some value that is long as well\n"+
			"bad-email,Sam,Roe,x\n")))
	fits("file")
	w.next(3, "Map fields")
	fits("map")
	w.next(4, "Preview")
	fits("preview")
	w.next(5, "Options")
	fits("options")
	w.next(6, "Import")
	fits("import")
	w.run(chromedp.Click("#dry-run", chromedp.ByID))
	w.waitJS("the dry run's report", `!!document.querySelector(".dry-run-report")`)
	fits("dry-run")
	id := w.startImport()
	w.completed(id, 1, 1)
}

// TestPageWizardProblems checks what the wizard says when something is wrong: two columns
// sent to one field stop the map step, a file over the account's prospect limit shows the
// overage alert in the preview, and options the API refuses stay on the options step with the
// API's words on what to fix.
func TestPageWizardProblems(t *testing.T) {
	w := openWizard(t, "#/new")
	if _, err := w.pool.Exec(context.Background(), `UPDATE accounts SET prospect_limit = 2 WHERE id = $1`, w.acct.ID); err != nil {
		t.Fatal(err)
	}
	w.next(2, "File")
	w.upload(writeTestFile(t, "three.csv", []byte("Email,First Name\nfay@wizard.example,Fay\ngus@wizard.example,Gus\nhal@wizard.example,Hal\n")))
	w.next(3, "Map fields")
	choose(w.browser, `select[data-column="First Name"]`, "email")
	w.run(chromedp.Click("#next", chromedp.ByID))
	w.waitJS("the error on two columns to one field", `!!document.querySelector(".wizard-status [role=alert]")`)
	if got, want := w.text(".wizard-status [role=alert]"), "A field can take one column only “Email” and “First Name” both go to Email: choose another field or “Don't import” for one of them"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := w.text("#wizard-step"); got != "Step 3 of 6: Map fields" {
		t.Errorf("after the error the wizard is at %q, want still at the map step", got)
	}
	w.shot("two-columns-one-field")
	choose(w.browser, `select[data-column="First Name"]`, "first_name")

	w.next(4, "Preview")
	if got, want := w.text(".wizard .alert[role=alert]"), "Over the limit. This file has 3 rows, which would put the account over its prospect limit. "+
		"If you go on, new prospects beyond the limit are skipped (over limit); existing ones are still updated."; got != want {
		t.Errorf("overage alert %q, want %q", got, want)
	}
	w.shot("over-limit")

	w.next(5, "Options")
	var tags []string
	for i := 1; i <= 21; i++ {
		tags = append(tags, fmt.Sprintf("t%d", i))
	}
	w.run(chromedp.SendKeys("#opt-tags", strings.Join(tags, ","), chromedp.ByID), chromedp.Click("#next", chromedp.ByID))
	w.waitJS("the API's error on the options", `!!document.querySelector(".wizard-status [role=alert]")`)
	if got, want := w.text(".wizard-status [role=alert]"), "invalid import options tags: 21 tags, more than the limit of 20"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := w.text("#wizard-step"); got != "Step 5 of 6: Options" {
		t.Errorf("after the error the wizard is at %q, want still at the options step", got)
	}
	w.shot("options-refused")
}

// TestPageWizardTemplate downloads the kind's template files through the file step's links
// and drops the CSV one on the drop zone: every one of its columns maps to a field.
func TestPageWizardTemplate(t *testing.T) {
	w := openWizard(t, "#/new")
	w.next(2, "File")
	var downloads []string
	w.run(chromedp.Evaluate(`Promise.all([...document.querySelectorAll(".templates a")].map(async (a) => {
		const r = await fetch(a.href);
		return a.textContent + ": " + r.status + " " + r.headers.get("Content-Disposition");
	}))`, &downloads, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	want := []string{"CSV template: 200 attachment; filename=prospects-template.csv", "XLSX template: 200 attachment; filename=prospects-template.xlsx"}
	if !reflect.DeepEqual(downloads, want) {
		t.Errorf("template links answer %q, want %q", downloads, want)
	}
	// A drop of the CSV template on the drop zone, as a file dragged from the desktop.
	w.run(chromedp.Evaluate(`(async () => {
		const blob = await (await fetch(document.querySelector(".templates a").href)).blob();
		const drop = new DataTransfer();
		drop.items.add(new File([blob], "prospects-template.csv", { type: "text/csv" }));
		document.querySelector(".drop-zone").dispatchEvent(new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true }));
	})()`, nil, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	w.waitJS("the preview of the dropped template", `/prospects-template\.csv .*: 1 data row, \d+ columns/.test(document.getElementById("file-chosen").textContent)`)
	w.shot("template-dropped")
	w.next(3, "Map fields")
	var unmapped int
	w.eval(`document.querySelectorAll(".map-row.unmapped").length`, &unmapped)
	summary := w.text("#map-summary")
	if m := regexp.MustCompile(`^(\d+) of (\d+) columns will be imported\.$`).FindStringSubmatch(summary); unmapped != 0 || m == nil || m[1] != m[2] {
		t.Errorf("the template maps as %q with %d unmapped columns, want every column mapped", summary, unmapped)
	}
	w.next(4, "Preview")
	if got, want := w.text(".wizard .outcomes"), "Would be: 1 created."; got != want {
		t.Errorf("the template's example row: %q, want %q", got, want)
	}
}

// TestPageWizardKind opens the wizard with a kind in the address: it is chosen, the options
// step offers only the options GET /v1/kinds lists for it, and the records are of that kind.
func TestPageWizardKind(t *testing.T) {
	w := openWizard(t, "#/new?kind=organizations")
	if got := w.value("#kind"); got != "organizations" {
		t.Fatalf("kind %q chosen, want organizations from the address", got)
	}
	w.next(2, "File")
	w.upload(writeTestFile(t, "orgs.csv", []byte("Name,Domain\nAcme,acme.example\nBeta,beta.example\n")))
	w.next(3, "Map fields")
	w.next(4, "Preview")
	w.next(5, "Options")
	var controls []string
	w.eval(`[...document.querySelectorAll(".options input, .options select")].map((c) => c.id).sort()`, &controls)
	want := []string{"opt-create_new", "opt-unique_identifier", "opt-update_existing", "policy-domain", "policy-name"}
	if !reflect.DeepEqual(controls, want) {
		t.Errorf("options offered for organizations: %q, want %q (no list, tags, owner, campaign or lead source)", controls, want)
	}
	w.shot("organization-options")
	choose(w.browser, "#policy-domain", "update_if_empty")
	w.next(6, "Import")
	id := w.startImport()
	w.completed(id, 2, 0)
	if got, want := w.rows(`SELECT name || ' ' || domain FROM organizations WHERE account_id = $1 ORDER BY name`), []string{"Acme acme.example", "Beta beta.example"}; !reflect.DeepEqual(got, want) {
		t.Errorf("organizations %q, want %q", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"field_policies": {"domain": "update_if_empty"}}`) {
		t.Errorf("the import's options %v, want the domain's policy", got)
	}
}

// TestPageWizardWorkbookUnmappedSheet uploads a workbook whose first sheet, read first, has a
// column that matches no field: the sheet chooser lists both sheets all the same. Choosing the
// list's sheet imports that one; the first sheet's column, mapped by hand, imports the first
// sheet.
func TestPageWizardWorkbookUnmappedSheet(t *testing.T) {
	w := openWizard(t, "#/new")
	book := writeSheets(t, "contactos.xlsx", map[string][][]string{
		"Contactos": {{"Correo"}, {"kim@wizard.example"}},
		"People":    {{"Email", "First Name"}, {"ivy@wizard.example", "Ivy"}},
	}, []string{"Contactos", "People"})
	sheets := func() []string {
		t.Helper()
		var got []string
		w.eval(`[...document.querySelectorAll("select#sheet option")].map((o) => o.value + (o.selected ? " (selected)" : ""))`, &got)
		return got
	}

	// The list's sheet chosen.
	w.next(2, "File")
	w.upload(book)
	if got, want := w.text("#file-chosen p"), ": 1 column (Correo), which matches no field by its name: choose its field on the next step"; !strings.HasSuffix(got, want) {
		t.Errorf("the first sheet is described as %q, want it to end with %q", got, want)
	}
	if got, want := sheets(), []string{"Contactos (selected)", "People"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheet chooser %q, want %q", got, want)
	}
	w.shot("first-sheet-unmapped")
	choose(w.browser, "#sheet", "People")
	w.waitJS("the preview of the People sheet", `/: 1 data row, 2 columns/.test(document.getElementById("file-chosen").textContent)`)
	w.shot("sheet-people")
	w.next(3, "Map fields")
	if got := w.text("#map-problem"); got != "" {
		t.Errorf("the People sheet's map step has the notice %q", got)
	}
	w.next(4, "Preview")
	w.next(5, "Options")
	w.next(6, "Import")
	id := w.startImport()
	w.completed(id, 1, 0)
	if got, want := w.rows(prospectsSQL), []string{"ivy@wizard.example Ivy - - -"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q (the People sheet only)", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"sheet": "People"}`) {
		t.Errorf("the import's options %v, want the sheet People", got)
	}

	// The first sheet's column mapped by hand.
	w.goTo("#/new")
	w.next(2, "File")
	w.upload(book)
	w.next(3, "Map fields")
	if got, want := w.text("#map-problem"), "None of this file's columns matched a field by its name: choose a field for at least one column."; got != want {
		t.Errorf("the map step's notice %q, want %q", got, want)
	}
	choose(w.browser, `select[data-column="Correo"]`, "email")
	w.shot("first-sheet-mapped-by-hand")
	w.next(4, "Preview")
	if got, want := w.tableRows("#preview-rows"), []string{"2 | created | Email kim@wizard.example | —"}; !reflect.DeepEqual(got, want) {
		t.Errorf("preview rows %q, want %q", got, want)
	}
	w.next(5, "Options")
	w.next(6, "Import")
	if got := w.text(".wizard dl.facts"); !strings.Contains(got, "Sheet Contactos Rows 1") {
		t.Errorf("the import step's summary %q does not name the sheet Contactos and its 1 row", got)
	}
	id = w.startImport()
	w.completed(id, 1, 0)
	if got, want := w.rows(prospectsSQL), []string{"ivy@wizard.example Ivy - - -", "kim@wizard.example - - - -"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q (kim from the Contactos sheet)", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"sheet": "Contactos", "mapping": {"Correo": "email"}}`) {
		t.Errorf("the import's options %v, want the sheet Contactos and its column's field", got)
	}
}

// TestPageWizardDryRunMany dry-runs a file of 4,000 rows, every other one with an invalid
// email: the answer (some 200 KB) streams in many pieces, read as they come, the counts are the
// whole file's and the first 500 skipped rows are listed, with how many there are.
func TestPageWizardDryRunMany(t *testing.T) {
	w := openWizard(t, "#/new")
	var csv strings.Builder
	csv.WriteString("Email,First Name\n")
	for i := range 4000 {
		if i%2 == 0 {
			fmt.Fprintf(&csv, "bad-%d,Bad\n", i)
		} else {
			fmt.Fprintf(&csv, "p%d@wizard.example,P\n", i)
		}
	}
	w.next(2, "File")
	w.upload(writeTestFile(t, "many.csv", []byte(csv.String())))
	w.next(3, "Map fields")
	w.next(4, "Preview")
	w.next(5, "Options")
	w.next(6, "Import")
	w.run(chromedp.Click("#dry-run", chromedp.ByID))
	w.waitJS("the dry run's report", `!!document.querySelector(".dry-run-report")`)
	if got, want := w.text(".dry-run-report dl.facts"), "Rows 4,000 Created 2,000 Updated 0 Unchanged 0 Skipped 2,000"; got != want {
		t.Errorf("dry run counts %q, want %q", got, want)
	}
	rows := w.tableRows("#dry-run-skipped")
	if len(rows) != 500 || rows[0] != `2 | Invalid email | "bad-0" is not a valid email address` ||
		rows[499] != `1000 | Invalid email | "bad-998" is not a valid email address` {
		t.Errorf("%d skipped rows listed, first %q, last %q; want 500, rows 2 to 1000", len(rows), rows[0], rows[len(rows)-1])
	}
	if got, want := w.text(".dry-run-report > p.hint"), "The first 500 of 2,000 skipped rows; the import's skipped rows CSV lists them all."; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
	if got := w.rows(prospectsSQL); len(got) != 0 {
		t.Errorf("the dry run wrote %d prospects", len(got))
	}
}

// TestPageWizardUnmappedColumns uploads a CSV whose headers name no field: the file step tells
// its columns and that none matched, the map step shows both unmapped with a notice saying so,
// Next with nothing mapped stays there with an error, and the columns mapped by hand are
// previewed and imported.
func TestPageWizardUnmappedColumns(t *testing.T) {
	w := openWizard(t, "#/new")
	w.next(2, "File")
	// Of a wide file, the first eight columns are named.
	wide := "Col 1,Col 2,Col 3,Col 4,Col 5,Col 6,Col 7,Col 8,Col 9,Col 10\n1,2,3,4,5,6,7,8,9,10\n"
	w.upload(writeTestFile(t, "wide.csv", []byte(wide)))
	if got, want := w.text("#file-chosen"), fmt.Sprintf("wide.csv (%d bytes): 10 columns (Col 1, Col 2, Col 3, Col 4, Col 5, Col 6, Col 7, Col 8 and 2 more), "+
		"none matching a field by its name: choose their fields on the next step", len(wide)); got != want {
		t.Errorf("the file step says %q, want %q", got, want)
	}
	w.upload(writeTestFile(t, "correo.csv", []byte("Correo,Nombre\nzoe@wizard.example,Zoe\nyan@wizard.example,Yan\n")))
	if got, want := w.text("#file-chosen"), "correo.csv (60 bytes): 2 columns (Correo, Nombre), none matching a field by its name: choose their fields on the next step"; got != want {
		t.Errorf("the file step says %q, want %q", got, want)
	}
	w.shot("file-unmapped")

	w.next(3, "Map fields")
	var unmapped []string
	w.eval(`[...document.querySelectorAll(".map-row.unmapped")].map((r) =>
		r.querySelector("label").textContent + " | " + r.querySelector("select").selectedOptions[0].textContent + " | " + r.querySelector(".map-note").textContent)`, &unmapped)
	if want := []string{"Correo | Don't import | Not imported: no matching field", "Nombre | Don't import | Not imported: no matching field"}; !reflect.DeepEqual(unmapped, want) {
		t.Errorf("rows marked unmapped: %q, want %q", unmapped, want)
	}
	notice := "None of this file's columns matched a field by its name: choose a field for at least one column."
	if got := w.text("#map-problem"); got != notice {
		t.Errorf("the map step's notice %q, want %q", got, notice)
	}
	if got, want := w.text("#map-summary"), "0 of 2 columns will be imported. Not imported: Correo, Nombre."; got != want {
		t.Errorf("map summary %q, want %q", got, want)
	}
	w.shot("map-unmapped")

	w.run(chromedp.Click("#next", chromedp.ByID))
	w.waitJS("the error on nothing mapped", `!!document.querySelector(".wizard-status [role=alert]")`)
	if got, want := w.text(".wizard-status [role=alert]"), "Choose a field for at least one column Every column is set to “Don't import”: there would be nothing to import"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := w.text("#wizard-step"); got != "Step 3 of 6: Map fields" {
		t.Errorf("after Next with nothing mapped the wizard is at %q, want still at the map step", got)
	}
	w.shot("nothing-mapped")

	choose(w.browser, `select[data-column="Correo"]`, "email")
	if got := w.text("#map-problem"); got != "" {
		t.Errorf("with a column mapped, the notice still says %q", got)
	}
	choose(w.browser, `select[data-column="Nombre"]`, "first_name")
	if got, want := w.text("#map-summary"), "2 of 2 columns will be imported."; got != want {
		t.Errorf("map summary %q, want %q", got, want)
	}
	w.shot("mapped-by-hand")

	w.next(4, "Preview")
	want := []string{
		"2 | created | Email zoe@wizard.example First Name Zoe | —",
		"3 | created | Email yan@wizard.example First Name Yan | —",
	}
	if got := w.tableRows("#preview-rows"); !reflect.DeepEqual(got, want) {
		t.Errorf("preview rows:\n%q\nwant\n%q", got, want)
	}
	w.shot("preview-mapped-by-hand")
	w.next(5, "Options")
	w.next(6, "Import")
	if got, want := w.text(".wizard dl.facts"), "Kind Prospects File correo.csv Rows 2 Columns imported 2 of 2"; got != want {
		t.Errorf("the import step's summary %q, want %q", got, want)
	}
	id := w.startImport()
	w.completed(id, 2, 0)
	if got, want := w.rows(prospectsSQL), []string{"yan@wizard.example Yan - - -", "zoe@wizard.example Zoe - - -"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prospects %q, want %q", got, want)
	}
	if got := w.importOptions(id); !sameJSON(t, got, `{"mapping": {"Correo": "email", "Nombre": "first_name"}}`) {
		t.Errorf("the import's options %v, want the columns' fields chosen by hand", got)
	}
}
