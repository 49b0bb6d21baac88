package undo_test

// The undo writers' tests build, on the real Postgres of storetest, the state an import left
// (records with the created_at and updated_at it gave them, memberships naming it), hand the
// kind's undoer the rows the engine would (pipeline.Undoing, with the Undo the import kept),
// run it in a transaction as the engine does, and read the state back with SQL.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// Times the tests' records were created and updated at.
const (
	t0 = "2026-12-01 10:00:00+00" // before the import
	t1 = "2026-12-02 10:00:00+00" // the import
	t2 = "2026-12-03 10:00:00+00" // after the import
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05-07", s)
	if err != nil {
		panic(err)
	}
	return t
}

// otherImport is the id of an import besides the one the tests undo (env.imp).
const otherImport = 9_000_002

type env struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	// imp is the import the tests undo, which ended a moment after t1.
	imp int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, pool: pool, acct: storetest.Account(t, pool, -1)}
	imp, err := store.CreateImport(ctx, pool, store.Import{AccountID: e.acct.ID, Source: store.SourceCLI, FileName: "a.csv", FilePath: "/nowhere/a.csv"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.imp = imp.ID
	e.exec("UPDATE imports SET status = 'completed', finished_at = $2::timestamptz + interval '1 minute' WHERE id = $1", e.imp, t1)
	return e
}

// exec runs a statement.
func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// text runs a query of one text value.
func (e *env) text(sql string, args ...any) string {
	e.t.Helper()
	var s string
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// id allocates a new id of a record kind (store.NextIDs' table).
func (e *env) id(table string) int64 {
	e.t.Helper()
	ids, err := store.NextIDs(e.ctx, e.pool, table)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids[0]
}

// plan is the plan of an undo of e.imp of kind k.
func (e *env) plan(k kind.Kind, o crm.Options) *kind.Plan {
	e.t.Helper()
	c, err := kind.Catalog(e.ctx, e.pool, k, e.acct.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return &kind.Plan{Kind: k, Account: e.acct, Catalog: c, Options: o, ImportID: e.imp, Mapped: func(string) bool { return false }}
}

// undo runs the kind's undoer over one batch of rows, in a transaction it commits, and returns
// the batch.
func (e *env) undo(p *kind.Plan, rows ...pipeline.Undoing) *pipeline.Batch {
	e.t.Helper()
	b := batchOf(e.t, rows)
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return p.Kind.Undoer(p).Write(e.ctx, tx, b) }); err != nil {
		e.t.Fatalf("undo: %v", err)
	}
	return b
}

// batchOf is the batch of an undo's rows, each with its Undo as import_rows.undo stores it
// and the engine decodes it.
func batchOf(t *testing.T, rows []pipeline.Undoing) *pipeline.Batch {
	b := &pipeline.Batch{}
	for i, u := range rows {
		if u.Undo != nil {
			js, err := json.Marshal(u.Undo)
			if err != nil {
				t.Fatal(err)
			}
			u.Undo = new(pipeline.Undo)
			if err := json.Unmarshal(js, u.Undo); err != nil {
				t.Fatal(err)
			}
		}
		b.Rows = append(b.Rows, pipeline.Row{Number: i + 1, Undoing: &u})
	}
	return b
}

// got is what an undo did with a row, as the tests compare it.
type got struct {
	Outcome    pipeline.Outcome
	EntityID   int64
	FieldsKept []string
	Why        string
}

func results(b *pipeline.Batch) []got {
	var out []got
	for _, r := range b.Rows {
		out = append(out, got{r.Outcome, r.EntityID, r.Undoing.FieldsKept, r.Undoing.Why})
	}
	return out
}

func (e *env) checkResults(b *pipeline.Batch, want ...got) {
	e.t.Helper()
	if g := results(b); !slices.EqualFunc(g, want, func(a, b got) bool {
		return a.Outcome == b.Outcome && a.EntityID == b.EntityID && slices.Equal(a.FieldsKept, b.FieldsKept) && a.Why == b.Why
	}) {
		e.t.Errorf("undo's rows:\n got %+v\nwant %+v", g, want)
	}
}

// check compares the text a query gives with want.
func (e *env) check(what, want, sql string, args ...any) {
	e.t.Helper()
	if g := e.text(sql, args...); g != want {
		e.t.Errorf("%s = %q, want %q", what, g, want)
	}
}

// stamp is the SQL of a record's updated_at, as the tests write their times.
const stamp = "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'"

// prospect is a prospect's values as the tests compare them.
func (e *env) prospect(id int64) string {
	e.t.Helper()
	var s string
	err := e.pool.QueryRow(e.ctx, `SELECT concat_ws(' | ', coalesce(email, '-'), coalesce(title, '-'), coalesce(phone, '-'),
		coalesce(lead_owner_id::text, '-'), coalesce(organization_id::text, '-'), custom::text, `+stamp+`)
		FROM prospects WHERE id = $1 AND account_id = $2`, id, e.acct.ID).Scan(&s)
	if err == pgx.ErrNoRows {
		return "gone"
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// addProspect inserts a prospect created at created and updated at updated.
func (e *env) addProspect(email, title string, org any, created, updated string) int64 {
	e.t.Helper()
	id := e.id("prospect")
	e.exec(`INSERT INTO prospects (id, account_id, email, title, organization_id, created_at, updated_at)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7)`, id, e.acct.ID, email, title, org, created, updated)
	return id
}

// addOrg inserts an organization created at created and updated at updated.
func (e *env) addOrg(name, created, updated string) int64 {
	e.t.Helper()
	id := e.id("organization")
	e.exec(`INSERT INTO organizations (id, account_id, name, name_key, created_at, updated_at) VALUES ($1, $2, $3, lower($3), $4, $5)`,
		id, e.acct.ID, name, created, updated)
	return id
}

// grouping returns the id of the account's grouping of that kind and name.
func (e *env) grouping(kind, name string) int64 {
	e.t.Helper()
	id, err := store.EnsureGrouping(e.ctx, e.pool, e.acct.ID, kind, name, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// member makes a prospect a member of a grouping, added by an import (0: none).
func (e *env) member(grouping, prospect int64, importID any) {
	e.t.Helper()
	e.exec("INSERT INTO grouping_members (grouping_id, prospect_id, import_id) VALUES ($1, $2, $3)", grouping, prospect, importID)
}

// members lists a prospect's memberships as "kind name by import".
func (e *env) members(prospect int64) string {
	e.t.Helper()
	return e.text(`SELECT coalesce(string_agg(g.kind || ' ' || g.name || ' by ' || coalesce(m.import_id::text, '-'), ', ' ORDER BY g.kind, g.name), '')
		FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id WHERE m.prospect_id = $1`, prospect)
}

func (e *env) prospectCount() string {
	e.t.Helper()
	return e.text("SELECT prospect_count::text FROM accounts WHERE id = $1", e.acct.ID)
}

func created(id int64, made ...int64) pipeline.Undoing {
	u := pipeline.Undoing{Outcome: pipeline.Created, EntityID: id}
	if len(made) > 0 {
		u.Undo = &pipeline.Undo{Made: refs(made)}
	}
	return u
}

func updated(id int64, before time.Time, changes ...pipeline.Change) pipeline.Undoing {
	return pipeline.Undoing{Outcome: pipeline.Updated, EntityID: id, Undo: &pipeline.Undo{Changes: changes, UpdatedAt: before}}
}

func refs(orgs []int64) []pipeline.Ref {
	var out []pipeline.Ref
	for _, id := range orgs {
		out = append(out, pipeline.Ref{Kind: "organizations", ID: id})
	}
	return out
}

func change(field, old, new string) pipeline.Change {
	return pipeline.Change{Field: field, Old: old, New: new}
}

func id(n int64) string { return fmt.Sprint(n) }
