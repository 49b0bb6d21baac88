package store_test

// Integration tests of the read paths of SPEC §11 in store/reports.go: skipped rows of an
// import and prospects by import. Fixtures are written with the store's own writers
// (CreateImport, RecordBatch, FinishImport) and plain SQL, on a fresh account per test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

const owner = "reports-test"

type fixture struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	ids  []int64 // unused prospect ids of a block allocated for the test, ascending
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return &fixture{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1)}
}

// other returns a fixture for a second account on the same database.
func (f *fixture) other() *fixture {
	return &fixture{t: f.t, ctx: f.ctx, pool: f.pool, acct: storetest.Account(f.t, f.pool, -1)}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pool.Exec(f.ctx, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// prospect inserts a prospect of the account with an email (and the extra columns given as
// column → value) and returns its id; ids grow with each call.
func (f *fixture) prospect(email string, cols map[string]any) int64 {
	f.t.Helper()
	if len(f.ids) == 0 {
		ids, err := store.NextIDs(f.ctx, f.pool, "prospect")
		if err != nil {
			f.t.Fatal(err)
		}
		f.ids = ids
	}
	id := f.ids[0]
	f.ids = f.ids[1:]
	names, params, args := []string{"id", "account_id", "email"}, []string{"$1", "$2", "$3"}, []any{id, f.acct.ID, email}
	for k, v := range cols {
		args = append(args, v)
		names = append(names, k)
		params = append(params, fmt.Sprintf("$%d", len(args)))
	}
	f.exec("INSERT INTO prospects ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(params, ", ")+")", args...)
	return id
}

// row is one recorded row outcome: "created", "updated", "unchanged" or "skipped".
type row struct {
	n        int
	outcome  string
	prospect int64
	reason   string
	detail   string
	cells    []string
}

// importOf records a completed import of the account named fileName, created at created,
// whose rows are recorded in the given batches (in that order).
func (f *fixture) importOf(fileName string, created time.Time, batches ...[]row) int64 {
	f.t.Helper()
	im, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: fileName, FilePath: "/nonexistent/" + fileName, FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range batches {
		outcomes := make([]store.Outcome, len(b))
		for i, r := range b {
			outcomes[i] = store.Outcome{Row: r.n, Outcome: r.outcome, EntityID: r.prospect, Reason: r.reason, Detail: r.detail, Cells: r.cells}
		}
		err := pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
			return store.RecordBatch(f.ctx, tx, im.ID, owner, time.Hour, outcomes,
				store.Counts{SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}, 0, 0)
		})
		if err != nil {
			f.t.Fatal(err)
		}
	}
	if err := store.FinishImport(f.ctx, f.pool, im.ID, owner, store.StatusCompleted, ""); err != nil {
		f.t.Fatal(err)
	}
	f.exec("UPDATE imports SET created_at = $2 WHERE id = $1", im.ID, created)
	return im.ID
}

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestSkippedRows(t *testing.T) {
	f := newFixture(t)
	p := f.prospect("a@example.com", nil)
	// Batches out of row order, so that the heap order differs from the row order.
	id := f.importOf("skips.csv", day("2024-01-01"),
		[]row{
			{n: 7, outcome: "skipped", reason: "malformed_row", detail: "row has 3 cells but the header has 2", cells: []string{"x", "y", "z"}},
			{n: 3, outcome: "skipped", reason: "invalid_email", detail: "not an email", cells: []string{"bad", "=1+1"}},
			{n: 4, outcome: "created", prospect: p},
		},
		[]row{
			{n: 2, outcome: "skipped", reason: "missing_identifier", detail: "", cells: []string{""}},
			{n: 5, outcome: "unchanged", prospect: p},
			{n: 6, outcome: "skipped", reason: "over_limit", detail: "limit"}, // no cells recorded
		})
	// Another import's skipped row must not appear.
	f.importOf("skips.csv", day("2024-01-01"), []row{{n: 2, outcome: "skipped", reason: "invalid_email", cells: []string{"other"}}})

	var got []string
	err := store.SkippedRows(f.ctx, f.pool, id, func(r store.SkippedRow) error {
		got = append(got, fmt.Sprintf("%d|%s|%s|%q", r.Row, r.Reason, r.Detail, r.Cells))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`2|missing_identifier||[""]`,
		`3|invalid_email|not an email|["bad" "=1+1"]`,
		`6|over_limit|limit|[]`,
		`7|malformed_row|row has 3 cells but the header has 2|["x" "y" "z"]`,
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("skipped rows:\n got:\n%s\nwant:\n%s", g, w)
	}

	// Exactly two chunks' worth of skipped rows (every row but each third one), recorded in
	// reverse: every skipped row once, in row order, across the chunk boundaries.
	var many []row
	var wantRows []int
	for n := 3001; n >= 2; n-- {
		if n%3 != 0 {
			many = append(many, row{n: n, outcome: "skipped", reason: "invalid_email", cells: []string{fmt.Sprint(n)}})
			wantRows = append([]int{n}, wantRows...)
		} else {
			many = append(many, row{n: n, outcome: "unchanged", prospect: p})
		}
	}
	big := f.importOf("big.csv", day("2024-01-01"), many[:1500], many[1500:])
	var seen []int
	err = store.SkippedRows(f.ctx, f.pool, big, func(r store.SkippedRow) error {
		if len(r.Cells) != 1 || r.Cells[0] != fmt.Sprint(r.Row) {
			t.Fatalf("row %d: cells %q", r.Row, r.Cells)
		}
		seen = append(seen, r.Row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(wantRows) != 2000 {
		t.Fatalf("fixture has %d skipped rows, want 2000", len(wantRows))
	}
	if g, w := fmt.Sprint(seen), fmt.Sprint(wantRows); g != w {
		t.Errorf("skipped rows of the large import: got %d rows, want %d in row order", len(seen), len(wantRows))
	}

	// An error of fn stops the scan and comes back as is.
	stop := errors.New("stop")
	calls := 0
	err = store.SkippedRows(f.ctx, f.pool, id, func(store.SkippedRow) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn failing: err %v after %d calls, want %v after 1", err, calls, stop)
	}
}

// ids returns the ids of records.
func ids(rs []store.ProspectRecord) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestListProspectsByImport(t *testing.T) {
	f := newFixture(t)
	g := f.other()
	alice, err := store.AddUser(f.ctx, f.pool, f.acct.ID, store.User{Username: "alice", Email: "alice@example.com", FullName: "Alice A"})
	if err != nil {
		t.Fatal(err)
	}
	orgIDs, err := store.NextIDs(f.ctx, f.pool, "organization")
	if err != nil {
		t.Fatal(err)
	}
	f.exec("INSERT INTO organizations (id, account_id, name, name_key) VALUES ($1, $2, 'Acme Corp', 'acme')", orgIDs[0], f.acct.ID)

	p1 := f.prospect("p1@example.com", map[string]any{"first_name": "Ann", "last_name": "Lee", "title": "CTO",
		"phone": "+1 555 0100", "city": "Oslo", "country": "NO", "lead_source": "Web",
		"lead_owner_id": alice.ID, "organization_id": orgIDs[0], "email_opt_in": true,
		"custom":     `{"tier": "gold", "tags": ["a", "b"]}`,
		"created_at": day("2024-01-10"), "updated_at": day("2024-01-11")})
	p2 := f.prospect("p2@example.com", map[string]any{"email_opt_in": false})
	p3 := f.prospect("p3@example.com", nil)
	p4 := f.prospect("p4@example.com", nil)
	p5 := f.prospect("p5@example.com", nil)
	p6 := f.prospect("p6@example.com", nil) // touched by no import
	_ = p6
	q1 := g.prospect("q1@example.com", nil)

	a := f.importOf("leads.csv", day("2024-01-10"), []row{
		{n: 2, outcome: "created", prospect: p1},
		{n: 3, outcome: "updated", prospect: p2},
		{n: 4, outcome: "unchanged", prospect: p3},
		{n: 5, outcome: "skipped", reason: "invalid_email", cells: []string{"x"}},
		{n: 6, outcome: "unchanged", prospect: p1}, // p1 twice in one import
		// A row pointing at another account's prospect (never written by the pipeline) must
		// still not leak it.
		{n: 7, outcome: "unchanged", prospect: q1},
	})
	b := f.importOf("leads.csv", day("2024-02-10"), []row{
		{n: 2, outcome: "created", prospect: p4},
		{n: 3, outcome: "unchanged", prospect: p2},
	})
	f.importOf("other.csv", day("2024-03-10"), []row{
		{n: 2, outcome: "created", prospect: p5},
		{n: 3, outcome: "skipped", reason: "missing_identifier", cells: []string{""}},
	})
	d := g.importOf("leads.csv", day("2024-01-15"), []row{{n: 2, outcome: "created", prospect: q1}})

	for _, c := range []struct {
		name   string
		acct   int64
		filter store.ProspectFilter
		want   []int64
	}{
		{"import id", f.acct.ID, store.ProspectFilter{ImportID: a}, []int64{p1, p2, p3}},
		{"second import id", f.acct.ID, store.ProspectFilter{ImportID: b}, []int64{p2, p4}},
		{"file name, two imports", f.acct.ID, store.ProspectFilter{ImportFile: "leads.csv"}, []int64{p1, p2, p3, p4}},
		{"file name is exact", f.acct.ID, store.ProspectFilter{ImportFile: "LEADS.csv"}, []int64{}},
		{"date range [From, To)", f.acct.ID, store.ProspectFilter{From: day("2024-02-10"), To: day("2024-03-10")}, []int64{p2, p4}},
		{"from only", f.acct.ID, store.ProspectFilter{From: day("2024-02-01")}, []int64{p2, p4, p5}},
		{"to only", f.acct.ID, store.ProspectFilter{To: day("2024-02-10")}, []int64{p1, p2, p3}},
		{"file name and date", f.acct.ID, store.ProspectFilter{ImportFile: "leads.csv", From: day("2024-02-01")}, []int64{p2, p4}},
		{"import id and other file name", f.acct.ID, store.ProspectFilter{ImportID: a, ImportFile: "other.csv"}, []int64{}},
		{"no filter: every touched prospect", f.acct.ID, store.ProspectFilter{}, []int64{p1, p2, p3, p4, p5}},
		{"after", f.acct.ID, store.ProspectFilter{After: p2}, []int64{p3, p4, p5}},
		{"limit", f.acct.ID, store.ProspectFilter{Limit: 2}, []int64{p1, p2}},
		{"another account's import id", f.acct.ID, store.ProspectFilter{ImportID: d}, []int64{}},
		{"our import id from another account", g.acct.ID, store.ProspectFilter{ImportID: a}, []int64{}},
		{"other account by file name", g.acct.ID, store.ProspectFilter{ImportFile: "leads.csv"}, []int64{q1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := store.ListProspects(f.ctx, f.pool, c.acct, c.filter)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprint(ids(got)), fmt.Sprint(c.want); g != w {
				t.Errorf("prospect ids: got %s, want %s", g, w)
			}
		})
	}

	// The whole record of p1, as the API shows it, and p2's false opt-in.
	got, err := store.ListProspects(f.ctx, f.pool, f.acct.ID, store.ProspectFilter{ImportID: a, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d prospects, want 2", len(got))
	}
	if got[1].CreatedAt.Location() != time.UTC || got[1].UpdatedAt.Location() != time.UTC {
		t.Errorf("times in %v and %v, want UTC", got[1].CreatedAt.Location(), got[1].UpdatedAt.Location())
	}
	js, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`[{"id":%d,"email":"p1@example.com","first_name":"Ann","last_name":"Lee","title":"CTO",`+
		`"phone":"+1 555 0100","city":"Oslo","country":"NO","lead_source":"Web","lead_owner":"alice",`+
		`"email_opt_in":true,"organization":"Acme Corp","custom":{"tags":["a","b"],"tier":"gold"},`+
		`"created_at":"2024-01-10T00:00:00Z","updated_at":"2024-01-11T00:00:00Z"},`+
		`{"id":%d,"email":"p2@example.com","email_opt_in":false,"created_at":%q,"updated_at":%q}]`,
		p1, p2, got[1].CreatedAt.Format(time.RFC3339Nano), got[1].UpdatedAt.Format(time.RFC3339Nano))
	if string(js) != want {
		t.Errorf("records:\n got: %s\nwant: %s", js, want)
	}
}

func TestListProspectsPages(t *testing.T) {
	f := newFixture(t)
	var p []int64
	for i := range 7 {
		p = append(p, f.prospect(fmt.Sprintf("p%d@example.com", i+1), nil))
	}
	rows := func(ps ...int64) []row {
		var out []row
		for i, id := range ps {
			out = append(out, row{n: i + 2, outcome: "unchanged", prospect: id})
		}
		return out
	}
	// Two imports whose prospects interleave and overlap, recorded out of id order.
	f.importOf("x.csv", day("2024-01-01"), rows(p[6], p[0], p[4], p[2], p[1], p[0]))
	f.importOf("y.csv", day("2024-01-02"), rows(p[5], p[1], p[3], p[4], p[6]))

	var pages []string
	var after int64
	for range 5 {
		got, err := store.ListProspects(f.ctx, f.pool, f.acct.ID, store.ProspectFilter{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, fmt.Sprint(ids(got)))
		if len(got) < 3 {
			break
		}
		after = got[len(got)-1].ID
	}
	want := []string{
		fmt.Sprint([]int64{p[0], p[1], p[2]}),
		fmt.Sprint([]int64{p[3], p[4], p[5]}),
		fmt.Sprint([]int64{p[6]}),
	}
	if g, w := strings.Join(pages, " "), strings.Join(want, " "); g != w {
		t.Errorf("pages:\n got: %s\nwant: %s", g, w)
	}
}
