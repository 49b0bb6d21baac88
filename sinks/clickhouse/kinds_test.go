package chsink_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/leadpipe/leadpipe/dashboards"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
)

// columns returns the named columns of a query's result, one line per row, cells joined by
// spaces.
func columns(t *testing.T, res *chsink.Table, names ...string) []string {
	t.Helper()
	var out []string
	for _, row := range res.Rows {
		var cells []string
		for _, name := range names {
			i := slices.Index(res.Columns, name)
			if i < 0 {
				t.Fatalf("no column %s among %v", name, res.Columns)
			}
			cells = append(cells, row[i])
		}
		out = append(out, strings.Join(cells, " "))
	}
	return out
}

// checkQuery runs a dashboards query for account since since and checks the named columns of
// its result.
func checkQuery(t *testing.T, ch driver.Conn, query, account string, since time.Time, names []string, want ...string) {
	t.Helper()
	q, ok := dashboards.Lookup(query)
	if !ok {
		t.Fatalf("no query %s", query)
	}
	res, err := chsink.Query(context.Background(), ch, q.SQL, chsink.Params{Account: account, Since: since})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if got := columns(t, res, names...); !slices.Equal(got, want) {
		t.Errorf("%s (%s):\n%s\nwant:\n%s", query, strings.Join(names, " "), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An organizations import arrives with its kind and entity ids, no prospect ids, and its own
// counters; a prospects import beside it keeps its prospect ids and organization counts; and
// the saved queries tell the two kinds apart.
func TestAnotherKindInClickHouse(t *testing.T) {
	f, ch := newFixture(t)
	people := f.importFile(t, "people.csv", peopleCSV)
	orgs := sinkstest.Organizations(t, f.pool, f.acct).ID
	f.drain(t)

	lines := func(query string, id int64) []string {
		t.Helper()
		return importLines(t, ch, query, id)
	}
	const rowsQuery = `SELECT concat(toString(row_number), ' ', kind, ' ', outcome, ' ', reason, ' ', toString(entity_id), ' ',
		toString(prospect_id), ' ', warnings) FROM row_outcomes FINAL WHERE import_id = @id ORDER BY row_number`
	if got, want := lines(rowsQuery, orgs), []string{
		"2 organizations created  9001 0 ",
		"3 organizations updated  9002 0 invalid_picklist_value",
		"4 organizations skipped missing_identifier 0 0 ",
		"5 organizations unchanged  9001 0 ",
	}; !slices.Equal(got, want) {
		t.Errorf("organizations rows in ClickHouse:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A prospects import's rows carry their prospect as entity and as prospect_id.
	var entity, prospect []string
	for _, line := range lines(rowsQuery, people) {
		fields := strings.Split(line, " ")
		if fields[1] != "prospects" {
			t.Errorf("prospects row %q has another kind", line)
		}
		entity, prospect = append(entity, fields[4]), append(prospect, fields[5])
	}
	var fromPG []string
	for _, line := range pgRows(t, f.pool, people) {
		fromPG = append(fromPG, strings.Split(line, " ")[3])
	}
	if !slices.Equal(entity, fromPG) || !slices.Equal(prospect, fromPG) || len(fromPG) != 7 {
		t.Errorf("prospects rows: entity ids %v and prospect ids %v, want Postgres' %v", entity, prospect, fromPG)
	}

	const summaryQuery = `SELECT concat(kind, ' ', arrayStringConcat(arrayMap((n, v) -> concat(n, '=', toString(v)),
			counters.name, counters.value), ','), ' ', toString(organizations_created), ' ', toString(organizations_linked))
		FROM import_summaries FINAL WHERE import_id = @id`
	if got, want := lines(summaryQuery, orgs), []string{"organizations  0 0"}; !slices.Equal(got, want) {
		t.Errorf("organizations summary %q, want %q", got, want)
	}
	if got, want := lines(summaryQuery, people), []string{"prospects organizations_created=0,organizations_linked=0 0 0"}; !slices.Equal(got, want) {
		t.Errorf("prospects summary %q, want %q", got, want)
	}
	const countsQuery = `SELECT concat(import_kind, ' ', kind, ' ', name, ' ', toString(count)) FROM import_counts FINAL
		WHERE import_id = @id ORDER BY kind, name`
	if got, want := lines(countsQuery, orgs), []string{
		"organizations skip_reason missing_identifier 1",
		"organizations warning invalid_picklist_value 1",
	}; !slices.Equal(got, want) {
		t.Errorf("organizations counts %q, want %q", got, want)
	}

	since := time.Now().Add(-24 * time.Hour)
	a := f.acct.Name
	checkQuery(t, ch, "outcomes_by_day", a, since,
		[]string{"kind", "total_rows", "created_rows", "updated_rows", "unchanged_rows", "skipped_rows"},
		"organizations 4 1 1 1 1", "prospects 7 3 1 1 2")
	checkQuery(t, ch, "skip_reasons", a, since, []string{"kind", "reason", "skipped_rows"},
		"organizations missing_identifier 1", "prospects invalid_email 1", "prospects missing_identifier 1")
	checkQuery(t, ch, "field_warnings", a, since, []string{"import_kind", "warning", "warnings"},
		"organizations invalid_picklist_value 1", "prospects owner_not_found 2", "prospects invalid_boolean 1")
	checkQuery(t, ch, "owner_not_found", a, since, []string{"kind", "imported_rows", "owner_not_found_rows"},
		"organizations 3 0", "prospects 5 2")
	checkQuery(t, ch, "imports_by_status", a, since, []string{"kind", "status", "imports", "total_rows", "skipped_rows"},
		"organizations completed 1 4 1", "prospects completed 1 7 2")
	checkQuery(t, ch, "throughput", a, since, []string{"kind", "imports", "total_rows"},
		"organizations 1 4", "prospects 1 7")
	checkQuery(t, ch, "counters_by_kind", a, since, []string{"kind", "counter", "total", "imports"},
		"prospects organizations_created 0 1", "prospects organizations_linked 0 1")
	checkQuery(t, ch, "top_failing_sources", a, since, []string{"file_name", "kind", "skipped_rows"},
		"people.csv prospects 2", sinkstest.OrganizationsFile+" organizations 1")
	checkQuery(t, ch, "slowest_imports", a, since, []string{"import_id", "kind"},
		slowest(t, ch, people, orgs)...)
}

// importLines runs query, which selects one string per row, with @id bound to an import's id.
func importLines(t *testing.T, ch driver.Conn, query string, id int64) []string {
	t.Helper()
	rows, err := ch.Query(context.Background(), query, clickhouse.Named("id", uint64(id)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// slowest returns the lines "import_id kind" of slowest_imports for the two imports, slowest
// first as ClickHouse has their run times.
func slowest(t *testing.T, ch driver.Conn, people, orgs int64) []string {
	t.Helper()
	var runPeople, runOrgs uint64
	for id, run := range map[int64]*uint64{people: &runPeople, orgs: &runOrgs} {
		if err := ch.QueryRow(context.Background(), "SELECT run_ms FROM import_summaries FINAL WHERE import_id = @id",
			clickhouse.Named("id", uint64(id))).Scan(run); err != nil {
			t.Fatal(err)
		}
	}
	p, o := fmt.Sprint(people, " prospects"), fmt.Sprint(orgs, " organizations")
	if runOrgs > runPeople || runOrgs == runPeople && orgs > people {
		return []string{o, p}
	}
	return []string{p, o}
}

// oldSchema is a database of its own, at the schema of migration last (1: before kinds).
func oldSchema(t *testing.T, last int) driver.Conn {
	t.Helper()
	ctx := context.Background()
	db := fmt.Sprintf("%s_at_%d", analyticstest.Database(t, chDatabase), last)
	server := analyticstest.Conn(t, analyticstest.Addr(), "default")
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db} {
		if err := server.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	conn := analyticstest.Conn(t, analyticstest.Addr(), db)
	var want []int
	for v := 1; v <= last; v++ {
		want = append(want, v)
	}
	if applied, err := chsink.MigrateUpTo(ctx, conn, last); err != nil || !slices.Equal(applied, want) {
		t.Fatalf("migrating to %d applied %v, %v", last, applied, err)
	}
	return conn
}

// insertRows inserts rows into the named columns of table.
func insertRows(t *testing.T, conn driver.Conn, table, columns string, rows ...[]any) {
	t.Helper()
	batch, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
}

// Rows written by the schema before kinds read, after migration 2, as those of a prospects
// import: kind prospects, their prospect ids as entity ids, their organization counts as
// counters, and the saved queries return them so. Applying the migration again changes nothing.
func TestKindsMigrationKeepsOldRowsReadable(t *testing.T) {
	ctx := context.Background()
	conn := oldSchema(t, 1)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	insertRows(t, conn, "row_outcomes", "account, import_id, row_number, outcome, reason, prospect_id, warnings, source, file_name, at",
		[]any{"acme", uint64(7), uint32(2), "created", "", uint64(1207), "owner_not_found", "cli", "old.csv", at},
		[]any{"acme", uint64(7), uint32(3), "skipped", "invalid_email", uint64(0), "", "cli", "old.csv", at})
	insertRows(t, conn, "import_summaries", `account, import_id, version, kind, source, file_name, status, rows_total,
		rows_done, created, skipped, organizations_created, organizations_linked, created_at, started_at, finished_at, run_ms`,
		[]any{"acme", uint64(7), uint32(3), "prospects", "cli", "old.csv", "completed", uint32(2), uint32(2), uint32(1),
			uint32(1), uint32(4), uint32(5), at, at, at.Add(time.Second), uint64(1000)})
	insertRows(t, conn, "import_counts", "account, import_id, version, kind, name, count, source, file_name, created_at, finished_at",
		[]any{"acme", uint64(7), uint32(3), "warning", "owner_not_found", uint64(1), "cli", "old.csv", at, at},
		[]any{"acme", uint64(7), uint32(3), "skip_reason", "invalid_email", uint64(1), "cli", "old.csv", at, at})

	if applied, err := chsink.MigrateUpTo(ctx, conn, math.MaxInt); err != nil || !slices.Equal(applied, []int{2, 3}) {
		t.Fatalf("migrating applied %v, %v; want 2 and 3", applied, err)
	}
	check := func(when string) {
		t.Helper()
		var rows []string
		r, err := conn.Query(ctx, `SELECT concat(toString(row_number), ' ', kind, ' ', toString(entity_id), ' ', toString(prospect_id))
			FROM row_outcomes FINAL ORDER BY row_number`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var line string
			if err := r.Scan(&line); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, line)
		}
		r.Close()
		if want := []string{"2 prospects 1207 1207", "3 prospects 0 0"}; !slices.Equal(rows, want) {
			t.Errorf("%s: old rows read %q, want %q", when, rows, want)
		}
		since := at.Add(-time.Hour)
		checkQuery(t, conn, "outcomes_by_day", "acme", since, []string{"day", "kind", "total_rows", "created_rows", "skipped_rows"},
			"2026-03-02 prospects 2 1 1")
		checkQuery(t, conn, "skip_reasons", "acme", since, []string{"kind", "reason", "skipped_rows"}, "prospects invalid_email 1")
		checkQuery(t, conn, "owner_not_found", "acme", since, []string{"kind", "imported_rows", "owner_not_found_rows"}, "prospects 1 1")
		checkQuery(t, conn, "field_warnings", "acme", since, []string{"import_kind", "warning", "warnings"}, "prospects owner_not_found 1")
		checkQuery(t, conn, "imports_by_status", "acme", since, []string{"kind", "status", "imports", "total_rows"}, "prospects completed 1 2")
		checkQuery(t, conn, "counters_by_kind", "acme", since, []string{"kind", "counter", "total"},
			"prospects organizations_created 4", "prospects organizations_linked 5")
		checkQuery(t, conn, "throughput", "acme", since, []string{"day", "kind", "imports", "total_rows", "rows_per_sec"},
			"2026-03-02 prospects 1 2 2")
	}
	check("after the migration")

	// Two daemons may both apply it: the second finds the columns there.
	if err := conn.Exec(ctx, "DROP TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if applied, err := chsink.MigrateUpTo(ctx, conn, math.MaxInt); err != nil || !slices.Equal(applied, []int{1, 2, 3}) {
		t.Fatalf("migrating again applied %v, %v; want 1, 2 and 3", applied, err)
	}
	check("after the migration applied twice")
}
