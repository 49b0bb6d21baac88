package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestRecordBatchColumns records outcomes that use every column of import_rows, each empty or
// not, and reads them back as Postgres stored them: NULL for what an outcome leaves out, the
// exact text of cells (quotes, commas, backslashes, braces, line breaks, other scripts, empty
// cells, none at all), warnings as jsonb and undo as the json it was given. "~" stands for NULL.
func TestRecordBatchColumns(t *testing.T) {
	f := newFixture(t)
	im, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Source: store.SourceCLI,
		FileName: "cols.csv", FilePath: "/nonexistent/cols.csv", FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cells := []string{`a"b`, "c,d", `e\f`, "{g}", "h\r\ni", "", "Zoë 東京", "NULL"}
	outcomes := []store.Outcome{
		{Row: 2, Outcome: "created", EntityID: 9_000_000_001},
		{Row: 3, Outcome: "skipped", Reason: "invalid_email", Detail: "not an email: x", Cells: cells},
		{Row: 4, Outcome: "skipped", Reason: "malformed_row", Detail: "row is blank", Cells: []string{}},
		{Row: 5, Outcome: "updated", EntityID: 7, Warnings: []byte(`[{"field":"title","kind":"value_too_long","value":"129 characters"}]`),
			Undo: []byte(`{"v":{"title":"Old \"one\""}, "n":1}`)},
		{Row: 2_000_000_000, Outcome: "unchanged", EntityID: 8, SourceRow: 1_999_999_999},
	}
	err = pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		return store.RecordBatch(f.ctx, tx, im.ID, owner, time.Hour, outcomes,
			store.Counts{SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}, 0, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.pool.Query(f.ctx, `SELECT row_number, outcome, coalesce(reason, '~'), coalesce(detail, '~'),
			coalesce(entity_id, -1), coalesce(warnings::text, '~'), coalesce(cells::text, '~'),
			coalesce(array_length(cells, 1), -1), coalesce(undo::text, '~'), coalesce(source_row, -1)
		FROM import_rows WHERE import_id = $1 ORDER BY row_number`, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var n, cellCount, source int
		var entity int64
		var outcome, reason, detail, warnings, cellsText, undo string
		err := r.Scan(&n, &outcome, &reason, &detail, &entity, &warnings, &cellsText, &cellCount, &undo, &source)
		b, _ := json.Marshal([]any{n, outcome, reason, detail, entity, warnings, cellsText, cellCount, undo, source})
		return string(b), err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`[2,"created","~","~",9000000001,"~","~",-1,"~",-1]`,
		`[3,"skipped","invalid_email","not an email: x",-1,"~","{\"a\\\"b\",\"c,d\",\"e\\\\f\",\"{g}\",\"h\r\ni\",\"\",\"Zoë 東京\",\"NULL\"}",8,"~",-1]`,
		`[4,"skipped","malformed_row","row is blank",-1,"~","{}",-1,"~",-1]`,
		`[5,"updated","~","~",7,"[{\"kind\": \"value_too_long\", \"field\": \"title\", \"value\": \"129 characters\"}]","~",-1,"{\"v\":{\"title\":\"Old \\\"one\\\"\"}, \"n\":1}",-1]`,
		`[2000000000,"unchanged","~","~",8,"~","~",-1,"~",1999999999]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("import_rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var back []string
	if err := f.pool.QueryRow(f.ctx, "SELECT cells FROM import_rows WHERE import_id = $1 AND row_number = 3", im.ID).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if strings.Join(back, "|") != strings.Join(cells, "|") || len(back) != len(cells) {
		t.Fatalf("cells read back %q, want %q", back, cells)
	}
}

// BenchmarkRecordBatch records a batch of 5,000 outcomes shaped like the bench file's (one in a
// hundred skipped with its 14 cells, the others created) and rolls it back. Its time includes
// Postgres's; its allocations are the client's.
func BenchmarkRecordBatch(b *testing.B) {
	pool := storetest.Pool(b)
	acct := storetest.Account(b, pool, -1)
	ctx := b.Context()
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: acct.ID, Source: store.SourceCLI,
		FileName: "bench.csv", FilePath: "/nonexistent/bench.csv", FileSHA256: "x", Header: []string{"Email"}}, owner, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	cells := []string{"not-an-email", "Sarah", "Allen", "VP Sales", "+1 712 129 2373", "+1 978 925 3901",
		"Bright Retail", "www.brightretail.com", "9473 Highland Ave", "San Francisco", "CA", "94141", "United States", "Web Form"}
	outcomes := make([]store.Outcome, 5000)
	for i := range outcomes {
		outcomes[i] = store.Outcome{Row: i + 2, Outcome: "created", EntityID: int64(1_000_000 + i)}
		if i%100 == 0 {
			outcomes[i] = store.Outcome{Row: i + 2, Outcome: "skipped", Reason: "invalid_email", Detail: "not an email", Cells: cells}
		}
	}
	counts := store.Counts{SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}
	b.ReportAllocs()
	for b.Loop() {
		tx, err := pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := store.RecordBatch(ctx, tx, im.ID, owner, time.Hour, outcomes, counts, 0, 0); err != nil {
			b.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
