package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/store"
)

// flowSkippedCSV is testdata/flow.csv's skipped-rows report, byte for byte: the header as
// uploaded (its "@Notes" escaped), then rows 3, 4 and 5 with every cell a spreadsheet would run
// prefixed with '.
const flowSkippedCSV = `Email,First Name,Last Name,Phone,'@Notes,row_number,skip_reason,skip_detail
"'=HYPERLINK(""http://x"",""y"")",Bob,Bad,,click me,3,invalid_email,"""=HYPERLINK(\""http://x\"",\""y\"")"" is not a valid email address"
not-an-email,'+1,'-2,'@x,'=1+1,4,invalid_email,"""not-an-email"" is not a valid email address"
,,,'+44 20 7946 0000,no identity,5,missing_identifier,"the row has no email, no unique identifier and no first or last name"
`

// flowOutcomes are what testdata/flow.csv's rows do in an empty account.
var flowOutcomes = []importer.RowResult{
	{Row: 2, Outcome: "created"},
	{Row: 3, Outcome: "skipped", Reason: "invalid_email", Detail: `"=HYPERLINK(\"http://x\",\"y\")" is not a valid email address`},
	{Row: 4, Outcome: "skipped", Reason: "invalid_email", Detail: `"not-an-email" is not a valid email address`},
	{Row: 5, Outcome: "skipped", Reason: "missing_identifier", Detail: "the row has no email, no unique identifier and no first or last name"},
	{Row: 6, Outcome: "created"},
	{Row: 7, Outcome: "updated"}, // ANN@example.com: row 2's prospect
}

// TestFullFlow drives one upload through the daemon: preview, import, progress to completion,
// history, the original file, the skipped rows and the prospects by import file and date.
func TestFullFlow(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	h.startWorkers()
	a := h.account(-1)
	csv := fixture(t, "flow.csv")

	// Preview: the whole file is 6 rows, fewer than ten.
	var p importer.Preview
	r := a.upload("/v1/previews", "flow.csv", csv, "")
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %s", r)
	}
	decode(t, r, &p)
	wantMapping := []mapping.Column{
		{Header: "Email", Field: "email", How: "auto"},
		{Header: "First Name", Field: "first_name", How: "auto"},
		{Header: "Last Name", Field: "last_name", How: "auto"},
		{Header: "Phone", Field: "phone", How: "auto"},
		{Header: "@Notes", How: "no matching field"},
	}
	if !reflect.DeepEqual(p.Columns, wantMapping) {
		t.Errorf("preview mapping %+v, want %+v", p.Columns, wantMapping)
	}
	if p.TotalRows != 6 || len(p.Rows) != 6 || p.OverLimitWarning || !reflect.DeepEqual(p.Unmapped, []string{"@Notes"}) {
		t.Errorf("preview: total_rows %d, %d rows, over_limit_warning %v, unmapped %q; want 6, 6, false, [@Notes]",
			p.TotalRows, len(p.Rows), p.OverLimitWarning, p.Unmapped)
	}
	for i, want := range flowOutcomes {
		if i < len(p.Rows) {
			got := p.Rows[i]
			if got.Row != want.Row || got.Outcome != want.Outcome || got.Reason != want.Reason || got.Detail != want.Detail {
				t.Errorf("preview row %d: %+v, want %+v", want.Row, got, want)
			}
		}
	}

	// Import.
	r = a.upload("/v1/imports", "flow.csv", csv, "")
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /v1/imports: %s, want 202", r)
	}
	var queued struct {
		ImportID         int64    `json:"import_id"`
		Status           string   `json:"status"`
		RowsTotal        int      `json:"rows_total"`
		OverLimitWarning bool     `json:"over_limit_warning"`
		Unmapped         []string `json:"unmapped_columns"`
	}
	decode(t, r, &queued)
	id := queued.ImportID
	if queued.Status != "queued" || queued.RowsTotal != 6 || queued.OverLimitWarning || !reflect.DeepEqual(queued.Unmapped, []string{"@Notes"}) {
		t.Errorf("POST /v1/imports: %s; want status queued, rows_total 6, no warning, unmapped [@Notes]", r.Body)
	}
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/v1/imports/%d", id) {
		t.Errorf("Location %q, want /v1/imports/%d", loc, id)
	}

	v := a.waitFinished(id, store.StatusCompleted)
	sum := sha256.Sum256(csv)
	if v.ID != id || v.Kind != "prospects" || v.Source != "upload" || v.FileName != "flow.csv" ||
		v.FileSize != int64(len(csv)) || v.SHA256 != hex.EncodeToString(sum[:]) || v.Error != "" {
		t.Errorf("import view %+v", v)
	}
	if v.Progress.RowsDone != 6 || v.Progress.RowsTotal != 6 {
		t.Errorf("progress %+v, want 6 of 6", v.Progress)
	}
	wantCounts := store.Counts{Rows: 6, Created: 2, Updated: 1, Skipped: 3,
		SkippedByReason: map[string]int{"invalid_email": 2, "missing_identifier": 1}, WarningsByKind: map[string]int{},
		Counters: map[string]int{"organizations_created": 0, "organizations_linked": 0}}
	if !reflect.DeepEqual(v.Counts, wantCounts) {
		t.Errorf("counts %+v, want %+v", v.Counts, wantCounts)
	}
	if v.StartedAt == nil || v.FinishedAt == nil || v.FinishedAt.Before(*v.StartedAt) || v.StartedAt.Before(v.CreatedAt) {
		t.Errorf("times: created %v, started %v, finished %v", v.CreatedAt, v.StartedAt, v.FinishedAt)
	}
	if string(v.Options) != "{}" {
		t.Errorf("options %s, want {}", v.Options)
	}

	// History shows it.
	var hist api.ImportList
	a.getJSON("/v1/imports", &hist)
	if len(hist.Imports) != 1 || hist.Imports[0].ID != id || hist.Imports[0].Status != "completed" ||
		!reflect.DeepEqual(hist.Imports[0].Counts, wantCounts) || hist.NextCursor != "" {
		t.Errorf("history %+v, want only import %d, completed", hist, id)
	}

	// The original, byte for byte.
	r = a.get(fmt.Sprintf("/v1/imports/%d/file", id))
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, csv) {
		t.Errorf("GET file: %d, %d bytes; want 200 and the %d bytes uploaded", r.Status, len(r.Body), len(csv))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("file Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != "attachment; filename=flow.csv" {
		t.Errorf("file Content-Disposition %q, want attachment; filename=flow.csv", cd)
	}

	// The skipped rows.
	r = a.get(fmt.Sprintf("/v1/imports/%d/skipped.csv", id))
	if r.Status != http.StatusOK {
		t.Fatalf("GET skipped.csv: %s", r)
	}
	if string(r.Body) != flowSkippedCSV {
		t.Errorf("skipped.csv:\n%s\nwant:\n%s", r.Body, flowSkippedCSV)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("skipped.csv Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != fmt.Sprintf("attachment; filename=import-%d-skipped.csv", id) {
		t.Errorf("skipped.csv Content-Disposition %q", cd)
	}

	// The prospects it touched: ann (created on row 2, updated on row 7) and cat.
	wantPeople := []string{"ann@example.com Ann Able-Smith +1 555 0100", "cat@example.com Cat Cole "}
	created := v.CreatedAt
	for _, q := range []string{
		fmt.Sprintf("import_id=%d", id),
		"import_file=flow.csv",
		"imported_from=" + url.QueryEscape(created.Add(-time.Minute).Format(time.RFC3339)),
		"imported_from=" + url.QueryEscape(created.Add(-time.Minute).Format(time.RFC3339)) +
			"&imported_to=" + url.QueryEscape(created.Add(time.Minute).Format(time.RFC3339)),
		"import_file=flow.csv&imported_from=" + created.UTC().Format(time.DateOnly),
	} {
		if got := people(a.prospects(q)); !reflect.DeepEqual(got, wantPeople) {
			t.Errorf("prospects?%s: %q, want %q", q, got, wantPeople)
		}
	}
	for _, q := range []string{
		"import_file=FLOW.csv",
		"import_file=flow",
		"imported_to=" + url.QueryEscape(created.Add(-time.Second).Format(time.RFC3339)),
		"imported_from=" + url.QueryEscape(created.Add(time.Minute).Format(time.RFC3339)),
		fmt.Sprintf("import_id=%d&import_file=other.csv", id),
	} {
		if got := a.prospects(q); len(got.Prospects) != 0 || got.NextCursor != "" {
			t.Errorf("prospects?%s: %+v, want none", q, got)
		}
	}
}

// prospects gets GET /v1/prospects?query.
func (c *client) prospects(query string) api.ProspectList {
	c.h.t.Helper()
	var l api.ProspectList
	c.getJSON("/v1/prospects?"+query, &l)
	if l.Prospects == nil {
		c.h.t.Errorf("prospects?%s: prospects is null, want a list", query)
	}
	return l
}

// people names prospects as "email first last phone".
func people(l api.ProspectList) []string {
	out := []string{}
	for _, p := range l.Prospects {
		out = append(out, fmt.Sprintf("%s %s %s %s", p.Email, p.FirstName, p.LastName, p.Phone))
	}
	return out
}

// TestPreview previews a 15-row file in an account limited to 3 prospects: ten rows with their
// outcome, reason and values after mapping and value rules, the mapping, the unmapped columns,
// the over-limit warning; nothing written.
func TestPreview(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(3)
	r := a.upload("/v1/previews", "preview15.csv", fixture(t, "preview15.csv"), `{"mapping": {"Notes": "title"}}`)
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %s", r)
	}
	var p importer.Preview
	decode(t, r, &p)
	if p.TotalRows != 15 {
		t.Errorf("total_rows %d, want 15", p.TotalRows)
	}
	if !p.OverLimitWarning {
		t.Errorf("over_limit_warning false, want true (15 rows, limit 3)")
	}
	wantMapping := []mapping.Column{
		{Header: "Email", Field: "email", How: "auto"},
		{Header: "First Name", Field: "first_name", How: "auto"},
		{Header: "Subscribed", Field: "email_opt_in", How: "auto"},
		{Header: "Notes", Field: "title", How: "explicit"},
		{Header: "Shoe Size", How: "no matching field"},
	}
	if !reflect.DeepEqual(p.Columns, wantMapping) {
		t.Errorf("mapping %+v, want %+v", p.Columns, wantMapping)
	}
	if !reflect.DeepEqual(p.Unmapped, []string{"Shoe Size"}) {
		t.Errorf("unmapped_columns %q, want [Shoe Size]", p.Unmapped)
	}
	vals := func(n, optIn string) map[string]string {
		return map[string]string{"email": "p" + n + "@example.com", "first_name": "P" + n, "email_opt_in": optIn, "title": "n" + n}
	}
	overLimit := "the account's limit of 3 prospects is reached"
	want := []importer.RowResult{
		{Row: 2, Outcome: "created", Values: vals("1", "true")},
		{Row: 3, Outcome: "created", Values: vals("2", "true")},
		// Skipped before the value rules run: its opt-in stays as written.
		{Row: 4, Outcome: "skipped", Reason: "invalid_email", Detail: `"bad@" is not a valid email address`,
			Values: map[string]string{"email": "bad@", "first_name": "P3", "email_opt_in": "yes", "title": "n3"}},
		{Row: 5, Outcome: "created", Values: vals("4", "true")},
		{Row: 6, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("5", "true")},
		{Row: 7, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("6", "true")},
		{Row: 8, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("7", "true")},
		{Row: 9, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("8", "true")},
		{Row: 10, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("9", "true")},
		{Row: 11, Outcome: "skipped", Reason: "over_limit", Detail: overLimit, Values: vals("10", "true")},
	}
	if len(p.Rows) != 10 {
		t.Errorf("%d rows, want 10", len(p.Rows))
	}
	for i := range min(len(p.Rows), len(want)) {
		if !reflect.DeepEqual(p.Rows[i], want[i]) {
			t.Errorf("row %d: %+v, want %+v", i, p.Rows[i], want[i])
		}
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded by a preview, want 0", n)
	}
	if n := h.count("SELECT count(*) FROM prospects WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d prospects written by a preview, want 0", n)
	}
	if n := h.count("SELECT prospect_count FROM accounts WHERE id = $1", a.acct.ID); n != 0 {
		t.Errorf("prospect_count %d after a preview, want 0", n)
	}
	if files := storedFiles(t, h.files.Store.Dir); len(files) != 0 {
		t.Errorf("files left after a preview: %q", files)
	}
}

// dryRunBody is the JSON body of POST /v1/imports?dry_run=true.
type dryRunBody struct {
	Rows    []importer.RowResult `json:"rows"`
	Summary *importer.Summary    `json:"summary"`
	Error   *string              `json:"error"`
}

// TestDryRun asks for every row's outcome of testdata/flow.csv: nothing is written, no import
// appears in the history, no file is kept.
func TestDryRun(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(-1)
	r := a.upload("/v1/imports?dry_run=true", "flow.csv", fixture(t, "flow.csv"), "")
	if r.Status != http.StatusOK {
		t.Fatalf("dry run: %s", r)
	}
	var body dryRunBody
	decode(t, r, &body)
	rows := make([]importer.RowResult, len(body.Rows))
	for i, row := range body.Rows {
		rows[i] = row
		rows[i].EntityID, rows[i].ProspectID = 0, 0 // checked by TestDryRunEntityIDs
	}
	if !reflect.DeepEqual(rows, flowOutcomes) {
		t.Errorf("dry-run rows %+v, want %+v", rows, flowOutcomes)
	}
	if body.Error != nil || body.Summary == nil {
		t.Fatalf("dry run: error %v, summary %v", body.Error, body.Summary)
	}
	s := body.Summary
	if s.Status != "completed" || !s.DryRun || s.ImportID != 0 || s.Rows != 6 || s.Created != 2 || s.Updated != 1 ||
		s.Unchanged != 0 || s.Skipped != 3 || !reflect.DeepEqual(s.SkippedByReason, map[string]int{"invalid_email": 2, "missing_identifier": 1}) ||
		!reflect.DeepEqual(s.Unmapped, []string{"@Notes"}) || s.OverLimitWarning {
		t.Errorf("dry-run summary %+v", *s)
	}

	var hist api.ImportList
	a.getJSON("/v1/imports", &hist)
	if len(hist.Imports) != 0 {
		t.Errorf("history after a dry run: %d imports, want none", len(hist.Imports))
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded by a dry run, want 0", n)
	}
	if n := h.count("SELECT count(*) FROM prospects WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d prospects written by a dry run, want 0", n)
	}
	if got := a.prospects(""); len(got.Prospects) != 0 {
		t.Errorf("prospects after a dry run: %+v", got)
	}
	if files := storedFiles(t, h.files.Store.Dir); len(files) != 0 {
		t.Errorf("files left after a dry run: %q", files)
	}
}

// TestDryRunEntityIDs: a dry run names the prospect a row would update only when that
// prospect exists (DryRunResults: the records a dry run creates vanish with its transaction).
// Row 7 of flow.csv updates the prospect row 2 creates within the same dry run, which is
// rolled back: its id must not be shown.
func TestDryRunEntityIDs(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(-1)
	r := a.upload("/v1/imports?dry_run=true", "flow.csv", fixture(t, "flow.csv"), "")
	if r.Status != http.StatusOK {
		t.Fatalf("dry run: %s", r)
	}
	var body dryRunBody
	decode(t, r, &body)
	for _, row := range body.Rows {
		if row.ProspectID != row.EntityID {
			t.Errorf("dry-run row %d: prospect_id %d, want entity_id %d in a prospects import", row.Row, row.ProspectID, row.EntityID)
		}
		if row.EntityID == 0 {
			continue
		}
		if n := h.count("SELECT count(*) FROM prospects WHERE id = $1 AND account_id = $2", row.EntityID, a.acct.ID); n != 1 {
			t.Errorf("dry-run row %d (%s) names entity_id %d, which does not exist (the dry run created it and rolled back)",
				row.Row, row.Outcome, row.EntityID)
		}
	}
}

// TestDryRunExistingProspect: against prospects that exist, a dry run names the prospect each
// updated or unchanged row matches.
func TestDryRunExistingProspect(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	h.startWorkers()
	a := h.account(-1)
	id := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	a.waitFinished(id, store.StatusCompleted)
	ann := a.prospects("import_file=flow.csv").Prospects[0]

	r := a.upload("/v1/imports?dry_run=1", "again.csv", []byte("Email,Last Name\nann@example.com,Able-Smith\nann@example.com,Other\n"), "")
	var body dryRunBody
	decode(t, r, &body)
	want := []importer.RowResult{
		{Row: 2, Outcome: "unchanged", EntityID: ann.ID, ProspectID: ann.ID},
		{Row: 3, Outcome: "updated", EntityID: ann.ID, ProspectID: ann.ID},
	}
	if !reflect.DeepEqual(body.Rows, want) {
		t.Errorf("dry-run rows %+v, want %+v", body.Rows, want)
	}
	if got := a.prospects("import_file=flow.csv").Prospects[0]; got.LastName != "Able-Smith" {
		t.Errorf("ann's last name %q after a dry run, want Able-Smith", got.LastName)
	}
	var hist api.ImportList
	a.getJSON("/v1/imports", &hist)
	if len(hist.Imports) != 1 || hist.Imports[0].ID != id {
		t.Errorf("history after a dry run: %+v, want only import %d", hist.Imports, id)
	}
}

// TestImportOverLimitWarning: POST /v1/imports answers the over-limit warning of a file with
// more rows than the account has room for, and the import records it.
func TestImportOverLimitWarning(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	a := h.account(3)
	r := a.upload("/v1/imports", "preview15.csv", fixture(t, "preview15.csv"), "")
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /v1/imports: %s", r)
	}
	var got map[string]any
	decode(t, r, &got)
	if got["over_limit_warning"] != true || got["rows_total"] != float64(15) {
		t.Errorf("answer %s, want over_limit_warning true and rows_total 15", r.Body)
	}
	var v importView
	a.getJSON(fmt.Sprintf("/v1/imports/%v", got["import_id"]), &v)
	if !v.OverLimitWarning || v.Status != "queued" || v.Progress.RowsTotal != 15 || v.Progress.RowsDone != 0 {
		t.Errorf("import view %+v", v)
	}
}

// TestDryRunAndPreviewOfOtherKinds: a dry run and a preview of another kind name the record of
// that kind each row matches as entity_id (an organization, a deal), and no prospect_id; the
// records the dry run creates, and the rows that match them, have no id.
func TestDryRunAndPreviewOfOtherKinds(t *testing.T) {
	h := newHarness(t, harnessOpts{BatchSize: 2})
	h.startWorkers()
	a := h.account(-1)
	upload := func(path, kind, csv string) response {
		t.Helper()
		body, ct := multipartBody(t, part{Name: "file", FileName: kind + ".csv", Content: []byte(csv)}, part{Name: "kind", Content: []byte(kind)})
		return h.do(a, http.MethodPost, path, body, ct)
	}
	for kind, csv := range map[string]string{"organizations": "Name\nAcme\n", "deals": "Name,Amount\nRenewal,10\n"} {
		r := upload("/v1/imports", kind, csv)
		var queued struct {
			ImportID int64 `json:"import_id"`
		}
		if r.Status != http.StatusAccepted {
			t.Fatalf("POST /v1/imports kind=%s: %s", kind, r)
		}
		decode(t, r, &queued)
		a.waitFinished(queued.ImportID, store.StatusCompleted)
	}
	var acme, renewal int64
	if err := h.pool.QueryRow(h.ctx, "SELECT (SELECT id FROM organizations WHERE account_id = $1), (SELECT id FROM deals WHERE account_id = $1)",
		a.acct.ID).Scan(&acme, &renewal); err != nil {
		t.Fatal(err)
	}

	r := upload("/v1/imports?dry_run=true", "organizations", "Name\nAcme Inc\nGlobex\nGlobex LLC\n")
	if r.Status != http.StatusOK {
		t.Fatalf("dry run: %s", r)
	}
	if bytes.Contains(r.Body, []byte("prospect_id")) {
		t.Errorf("dry run of organizations: %s, want no prospect_id", r.Body)
	}
	var body dryRunBody
	decode(t, r, &body)
	want := []importer.RowResult{
		{Row: 2, Outcome: "unchanged", EntityID: acme},
		{Row: 3, Outcome: "created"},   // the dry run's own organization …
		{Row: 4, Outcome: "unchanged"}, // … matched again: still no id
	}
	if !reflect.DeepEqual(body.Rows, want) {
		t.Errorf("dry-run rows %+v, want %+v", body.Rows, want)
	}

	r = upload("/v1/previews", "deals", "Name,Amount\nRenewal,12\nNew Logo,5\n")
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %s", r)
	}
	if bytes.Contains(r.Body, []byte("prospect_id")) {
		t.Errorf("preview of deals: %s, want no prospect_id", r.Body)
	}
	var p importer.Preview
	decode(t, r, &p)
	want = []importer.RowResult{
		{Row: 2, Outcome: "updated", EntityID: renewal, Values: map[string]string{"name": "Renewal", "amount": "12"}},
		{Row: 3, Outcome: "created", Values: map[string]string{"name": "New Logo", "amount": "5"}},
	}
	if !reflect.DeepEqual(p.Rows, want) {
		t.Errorf("preview rows %+v, want %+v", p.Rows, want)
	}
}

// TestDryRunWorkbookEntityIDs: a workbook's dry run streams the rows of its sheets, each
// naming the record of its sheet's kind: a prospects sheet's row names the existing prospect
// (as entity_id and prospect_id) even when an organization the dry run created on an earlier
// sheet has the same id (each kind numbers its records on its own).
func TestDryRunWorkbookEntityIDs(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a := h.account(-1)
	// The next prospect and the next organization get the same id (sequences only move on).
	if _, err := h.pool.Exec(h.ctx, `WITH n AS (SELECT greatest(p.last_value, o.last_value) + 1000 AS id
		FROM prospect_id_blocks p, organization_id_blocks o)
		SELECT setval('prospect_id_blocks', n.id, false), setval('organization_id_blocks', n.id, false) FROM n`); err != nil {
		t.Fatal(err)
	}
	a.waitFinished(a.submit("ann.csv", []byte("Email\nann@book.example\n"), ""), store.StatusCompleted)
	ann := a.prospects("").Prospects[0].ID
	var nextOrg int64
	if err := h.pool.QueryRow(h.ctx, "SELECT last_value FROM organization_id_blocks").Scan(&nextOrg); err != nil || nextOrg != ann {
		t.Fatalf("next organization id %d (%v), want prospect %d's", nextOrg, err, ann)
	}

	f := excelize.NewFile()
	defer f.Close()
	for sheet, rows := range map[string][][]string{"Organizations": {{"Name"}, {"Globex"}}, "Prospects": {{"Email", "Last Name"}, {"ann@book.example", "Able"}}} {
		f.NewSheet(sheet) //nolint:errcheck // a new name
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(sheet, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.DeleteSheet("Sheet1") //nolint:errcheck // it is there
	book, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, part{Name: "kind", Content: []byte("workbook")}, part{Name: "file", FileName: "book.xlsx", Content: book.Bytes()})
	r := h.do(a, http.MethodPost, "/v1/imports?dry_run=true", body, ct)
	if r.Status != http.StatusOK {
		t.Fatalf("dry run of a workbook: %s", r)
	}
	var got dryRunBody
	decode(t, r, &got)
	want := []importer.RowResult{
		{Row: 2, Outcome: "created"}, // Globex, whose id was ann's: rolled back
		{Row: 2, Outcome: "updated", EntityID: ann, ProspectID: ann},
	}
	if !reflect.DeepEqual(got.Rows, want) {
		t.Errorf("dry-run rows %+v, want %+v", got.Rows, want)
	}
}
