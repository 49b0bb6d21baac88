package importer_test

// Shared helpers of the importer's integration tests: a fresh account per test on the real
// Postgres of storetest, CSV fixtures written to t.TempDir(), imports run through
// Importer.RunNow, and the results read back from import_rows and prospects with SQL.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

const testOwner = "test-owner"

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// tenv is one test's account on the test database.
type tenv struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	// Batch is the batch size imports run with; small by default so that fixtures cross batch
	// boundaries.
	Batch int
	// Sheets, when set, parses spreadsheets in child processes.
	Sheets *isolate.Parser
	// Kind is the kind imports are of ("" is prospects).
	Kind string
}

// newEnv gives the test a fresh account; limit < 0 is unlimited.
func newEnv(t *testing.T, limit int64) *tenv {
	t.Helper()
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	e := &tenv{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, limit), Batch: 3}
	// An import a test leaves queued or running (a failed assertion, an interrupted run) must
	// not be claimed later by a worker of another test or daemon on this database.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `UPDATE imports SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL
			WHERE account_id = $1 AND status IN ('queued', 'running')`, e.acct.ID); err != nil {
			t.Errorf("cancel leftover imports: %v", err)
		}
	})
	return e
}

func (e *tenv) importer(batch int) *importer.Importer {
	cfg := config.Default
	cfg.BatchSize = batch
	return &importer.Importer{Pool: e.pool, Config: cfg, Log: quietLog, Sheets: e.Sheets}
}

func (e *tenv) request(path string, opts crm.Options) importer.Request {
	return importer.Request{Account: e.acct.Name, Kind: e.Kind, Path: path, Options: opts, Source: store.SourceCLI}
}

// writeFile writes content to a new file of that name in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is an import's summary and its per-row record.
type result struct {
	Sum importer.Summary
	// Outcomes maps a row number to "created", "updated", "unchanged" or "skipped:<reason>".
	Outcomes map[int]string
	// Warnings maps a row number to its field warnings as "field:kind", sorted.
	Warnings map[int][]string
	// Prospects maps a row number to the prospect it created, updated or left unchanged.
	Prospects map[int]int64
}

// runNow runs an import of the file at path in the foreground.
func (e *tenv) runNow(path string, opts crm.Options, batch int, dryRun bool) (importer.Summary, error) {
	return e.importer(batch).RunNow(e.ctx, e.request(path, opts), testOwner, dryRun)
}

// importCSV imports csv (written to a temporary file) with batch size e.Batch and fails the
// test unless the import completes.
func (e *tenv) importCSV(csv string, opts crm.Options) result {
	e.t.Helper()
	return e.importPath(writeFile(e.t, "import.csv", csv), opts, e.Batch)
}

// importPath imports the file at path and fails the test unless the import completes.
func (e *tenv) importPath(path string, opts crm.Options, batch int) result {
	e.t.Helper()
	sum, err := e.runNow(path, opts, batch, false)
	if err != nil {
		e.t.Fatalf("import %s: %v", filepath.Base(path), err)
	}
	if sum.Status != store.StatusCompleted {
		e.t.Fatalf("import %s: status %q (%s), want completed", filepath.Base(path), sum.Status, sum.Error)
	}
	r := e.rowsOf(sum.ImportID)
	r.Sum = sum
	return r
}

// rowsOf reads the recorded row outcomes of an import.
func (e *tenv) rowsOf(importID int64) result {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT row_number, outcome, coalesce(reason, ''), coalesce(warnings, '[]'::jsonb),
			coalesce(entity_id, 0)
		FROM import_rows WHERE import_id = $1 ORDER BY row_number`, importID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	r := result{Outcomes: map[int]string{}, Warnings: map[int][]string{}, Prospects: map[int]int64{}}
	for rows.Next() {
		var n int
		var outcome, reason string
		var warnings []byte
		var pid int64
		if err := rows.Scan(&n, &outcome, &reason, &warnings, &pid); err != nil {
			e.t.Fatal(err)
		}
		if reason != "" {
			outcome += ":" + reason
		}
		r.Outcomes[n] = outcome
		var ws []struct{ Field, Kind string }
		if err := json.Unmarshal(warnings, &ws); err != nil {
			e.t.Fatalf("row %d warnings %s: %v", n, warnings, err)
		}
		for _, w := range ws {
			r.Warnings[n] = append(r.Warnings[n], w.Field+":"+w.Kind)
		}
		sort.Strings(r.Warnings[n])
		if pid != 0 {
			r.Prospects[n] = pid
		}
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// checkOutcomes compares per-row outcomes with the expected ones.
func checkOutcomes(t *testing.T, got, want map[int]string) {
	t.Helper()
	if g, w := formatRows(got), formatRows(want); g != w {
		t.Errorf("row outcomes:\n got: %s\nwant: %s", g, w)
	}
}

// checkWarnings compares per-row field warnings with the expected ones ("field:kind").
func checkWarnings(t *testing.T, got, want map[int][]string) {
	t.Helper()
	if g, w := formatWarnings(got), formatWarnings(want); g != w {
		t.Errorf("row warnings:\n got: %s\nwant: %s", g, w)
	}
}

// formatWarnings writes per-row field warnings as formatRows does, each row's sorted.
func formatWarnings(ws map[int][]string) string {
	m := map[int]string{}
	for n, w := range ws {
		s := append([]string(nil), w...)
		sort.Strings(s)
		m[n] = strings.Join(s, ",")
	}
	return formatRows(m)
}

func formatRows(m map[int]string) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d=%s", k, m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// prospectSQL selects an account's prospects as one flat JSON object each: every non-null
// column, with lead_owner as the owner's username and organization as the organization's name.
const prospectSQL = `SELECT p.id, jsonb_strip_nulls((to_jsonb(p) - 'id' - 'account_id' - 'created_at' - 'updated_at'
		- 'lead_owner_id' - 'organization_id' - 'custom')
		|| jsonb_build_object('lead_owner', u.username, 'organization', o.name)), p.custom
	FROM prospects p LEFT JOIN users u ON u.id = p.lead_owner_id
		LEFT JOIN organizations o ON o.id = p.organization_id
	WHERE p.account_id = $1`

// prospects returns the account's prospects, oldest first, each as column → value with custom
// fields as "custom.<key>" (multi-picklists joined by ";").
func (e *tenv) prospects() []map[string]string {
	e.t.Helper()
	ps, _ := e.prospectsWhere("", nil)
	return ps
}

func (e *tenv) prospectsWhere(cond string, arg any) ([]map[string]string, []int64) {
	e.t.Helper()
	sql, args := prospectSQL, []any{e.acct.ID}
	if cond != "" {
		sql += " AND " + cond
		args = append(args, arg)
	}
	return e.flatRecords(sql+" ORDER BY p.id", args...)
}

// flatRecords runs a query of records as (id, JSON object of columns, custom JSON) and returns
// each as column → value with custom fields as "custom.<key>" (multi-picklists joined by ";"),
// and their ids.
func (e *tenv) flatRecords(sql string, args ...any) ([]map[string]string, []int64) {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, sql, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	var ids []int64
	for rows.Next() {
		var id int64
		var cols, custom map[string]any
		if err := rows.Scan(&id, &cols, &custom); err != nil {
			e.t.Fatal(err)
		}
		m := map[string]string{}
		for k, v := range cols {
			m[k] = flat(v)
		}
		for k, v := range custom {
			m["custom."+k] = flat(v)
		}
		out = append(out, m)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out, ids
}

func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = flat(x)
		}
		return strings.Join(parts, ";")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// prospect returns the one prospect whose email equals email case-insensitively, or nil.
func (e *tenv) prospect(email string) map[string]string {
	e.t.Helper()
	ps, _ := e.prospectsWhere("lower(p.email) = lower($2)", email)
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	e.t.Fatalf("%d prospects with email %q", len(ps), email)
	return nil
}

// prospectID returns the id of the prospect with that email; 0 when there is none.
func (e *tenv) prospectID(email string) int64 {
	e.t.Helper()
	_, ids := e.prospectsWhere("lower(p.email) = lower($2)", email)
	if len(ids) != 1 {
		return 0
	}
	return ids[0]
}

// checkProspect compares the prospect with that email with the expected values (every
// non-null column; nil want means no such prospect).
func (e *tenv) checkProspect(email string, want map[string]string) {
	e.t.Helper()
	got := e.prospect(email)
	if g, w := formatMap(got), formatMap(want); g != w {
		e.t.Errorf("prospect %s:\n got: %s\nwant: %s", email, g, w)
	}
}

// checkProspects compares every prospect of the account, oldest first.
func (e *tenv) checkProspects(want []map[string]string) {
	e.t.Helper()
	got := e.prospects()
	if g, w := formatList(got), formatList(want); g != w {
		e.t.Errorf("prospects:\n got: %s\nwant: %s", g, w)
	}
}

func formatList(ms []map[string]string) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = formatMap(m)
	}
	return "[\n  " + strings.Join(parts, "\n  ") + "\n]"
}

func formatMap(m map[string]string) string {
	if m == nil {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// count runs a count(*) query with the account id as $1.
func (e *tenv) count(sql string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, e.acct.ID).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *tenv) nProspects() int {
	return e.count("SELECT count(*) FROM prospects WHERE account_id = $1")
}

func (e *tenv) nImports() int {
	return e.count("SELECT count(*) FROM imports WHERE account_id = $1")
}

func (e *tenv) nOrganizations() int {
	return e.count("SELECT count(*) FROM organizations WHERE account_id = $1")
}

func (e *tenv) nGroupings() int {
	return e.count("SELECT count(*) FROM groupings WHERE account_id = $1")
}

func (e *tenv) nImportRows() int {
	return e.count("SELECT count(*) FROM import_rows r JOIN imports i ON i.id = r.import_id WHERE i.account_id = $1")
}

// prospectCount is accounts.prospect_count.
func (e *tenv) prospectCount() int {
	return e.count("SELECT prospect_count::int FROM accounts WHERE id = $1")
}

// checkNothingWritten fails unless the account has no import, row, prospect, organization or
// grouping.
func (e *tenv) checkNothingWritten() {
	e.t.Helper()
	got := fmt.Sprintf("imports=%d import_rows=%d prospects=%d organizations=%d groupings=%d prospect_count=%d",
		e.nImports(), e.nImportRows(), e.nProspects(), e.nOrganizations(), e.nGroupings(), e.prospectCount())
	if want := "imports=0 import_rows=0 prospects=0 organizations=0 groupings=0 prospect_count=0"; got != want {
		e.t.Errorf("written: %s\nwant:    %s", got, want)
	}
}

// organizations returns the account's organizations, oldest first, as "name|domain".
func (e *tenv) organizations() []string {
	e.t.Helper()
	return e.strings(`SELECT name || '|' || coalesce(domain, '') FROM organizations
		WHERE account_id = $1 ORDER BY id`)
}

// groupings returns the account's groupings with their members' emails, as
// "kind:name=[email ...]" sorted.
func (e *tenv) groupings() []string {
	e.t.Helper()
	return e.strings(`SELECT g.kind || ':' || g.name || '=' ||
			coalesce((SELECT string_agg(coalesce(p.email, '#' || p.id), ' ' ORDER BY p.email)
				FROM grouping_members m JOIN prospects p ON p.id = m.prospect_id
				WHERE m.grouping_id = g.id), '')
		FROM groupings g WHERE g.account_id = $1 ORDER BY 1`)
}

// strings runs a query of one text column with the account id as $1.
func (e *tenv) strings(sql string) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, sql, e.acct.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *tenv) addUser(username, email, fullName string) store.User {
	e.t.Helper()
	u, err := store.AddUser(e.ctx, e.pool, e.acct.ID, store.User{Username: username, Email: email, FullName: fullName})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *tenv) addField(f crm.Field) {
	e.t.Helper()
	if err := importer.CheckField(prospects.Kind{}, f); err != nil {
		e.t.Fatal(err)
	}
	if err := store.AddField(e.ctx, e.pool, e.acct.ID, "prospects", f); err != nil {
		e.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// equalStrings fails the test unless got equals want.
func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := fmt.Sprintf("%q", got), fmt.Sprintf("%q", want); g != w {
		t.Errorf("%s:\n got: %s\nwant: %s", what, g, w)
	}
}

// checkCounts compares an import's summary counts with the expected ones, written as
// "rows=N created=N updated=N unchanged=N skipped=N orgs_created=N orgs_linked=N".
func checkCounts(t *testing.T, c store.Counts, want string) {
	t.Helper()
	got := fmt.Sprintf("rows=%d created=%d updated=%d unchanged=%d skipped=%d orgs_created=%d orgs_linked=%d",
		c.Rows, c.Created, c.Updated, c.Unchanged, c.Skipped, c.Counters["organizations_created"], c.Counters["organizations_linked"])
	if got != want {
		t.Errorf("counts:\n got: %s\nwant: %s", got, want)
	}
}
