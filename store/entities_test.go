package store_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestKindsMigrationMovesExistingData: migration 0011 keeps the prospect ids of outcome rows
// as entity ids, the organization counts of every import (zeros included) as counters, and the
// custom fields as prospect fields; and the store reads them back so.
func TestKindsMigrationMovesExistingData(t *testing.T) {
	pool := storetest.EmptyDatabase(t, "leadpipe_test_migrate_kinds")
	ctx := context.Background()
	if _, err := store.MigrateUpTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
	var acct int64
	var ids []int64
	err := pool.QueryRow(ctx, `WITH a AS (INSERT INTO accounts (name) VALUES ('before') RETURNING id),
			i AS (INSERT INTO imports (account_id, source, file_name, file_path, file_size, file_sha256, status,
					organizations_created, organizations_linked)
				SELECT a.id, 'cli', 'f.csv', 'f.csv', 1, '', 'completed', n.created, n.linked
				FROM a, (VALUES (1, 8, 9), (2, 0, 0)) AS n(o, created, linked) ORDER BY n.o RETURNING id, account_id)
		SELECT min(account_id), array_agg(id ORDER BY id) FROM i`).Scan(&acct, &ids)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO import_rows (import_id, row_number, outcome, reason, prospect_id) VALUES
			($1, 2, 'created', NULL, 1001), ($1, 3, 'skipped', 'invalid_email', NULL)`, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO fields (account_id, key, label, type) VALUES ($1, 'tier', 'Tier', 'text')", acct); err != nil {
		t.Fatal(err)
	}
	if applied, err := store.Migrate(ctx, pool); err != nil || !slices.Contains(applied, 11) {
		t.Fatalf("migrations applied %v, %v; want 11 among them", applied, err)
	}

	for i, want := range []map[string]int{
		{"organizations_created": 8, "organizations_linked": 9},
		{"organizations_created": 0, "organizations_linked": 0},
	} {
		im, err := store.GetImport(ctx, pool, acct, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(im.Counts.Counters, want) {
			t.Errorf("import %d counters %v, want %v", ids[i], im.Counts.Counters, want)
		}
	}
	outcomes, err := store.RowOutcomes(ctx, pool, ids[0], 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 2 || outcomes[0].EntityID != 1001 || outcomes[1].EntityID != 0 || outcomes[1].Reason != "invalid_email" {
		t.Errorf("row outcomes %+v, want row 2 of entity 1001 and row 3 skipped, of none", outcomes)
	}
	var index string
	if err := pool.QueryRow(ctx, "SELECT indexdef FROM pg_indexes WHERE indexname = 'import_outcome_rows_entity'").Scan(&index); err != nil {
		t.Errorf("index import_outcome_rows_entity: %v", err)
	} else if want := "CREATE INDEX import_outcome_rows_entity ON public.import_outcome_rows USING btree (import_id, entity_id) WHERE (entity_id IS NOT NULL)"; index != want {
		t.Errorf("index %s, want %s", index, want)
	}
	fields, err := store.CustomFields(ctx, pool, acct, "prospects")
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 1 || fields[0].Key != "tier" || fields[0].Label != "Tier" || fields[0].Type != crm.Text {
		t.Errorf("prospect fields after the migration %+v, want tier", fields)
	}
}

// TestFieldsBelongToAnEntity: a field of organizations is not a prospect field, and both
// entities may have a field of the same key, but one entity only one.
func TestFieldsBelongToAnEntity(t *testing.T) {
	pool := storetest.Pool(t)
	ctx := context.Background()
	acct := storetest.Account(t, pool, -1)
	tier := crm.Field{Key: "tier", Label: "Tier", Type: crm.Text}
	for _, f := range []struct {
		entity string
		field  crm.Field
	}{
		{"organizations", crm.Field{Key: "revenue", Label: "Revenue", Type: crm.Number}},
		{"organizations", tier},
		{"prospects", tier},
	} {
		if err := store.AddField(ctx, pool, acct.ID, f.entity, f.field); err != nil {
			t.Fatalf("add %s field %s: %v", f.entity, f.field.Key, err)
		}
	}
	if err := store.AddField(ctx, pool, acct.ID, "prospects", tier); !errors.Is(err, store.ErrExists) {
		t.Errorf("adding prospect field tier twice: %v, want ErrExists", err)
	}
	keys := func(entity string) []string {
		t.Helper()
		fields, err := store.CustomFields(ctx, pool, acct.ID, entity)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fields {
			out = append(out, f.Key)
		}
		return out
	}
	if got, want := keys("prospects"), []string{"tier"}; !slices.Equal(got, want) {
		t.Errorf("prospect fields %q, want %q", got, want)
	}
	if got, want := keys("organizations"), []string{"revenue", "tier"}; !slices.Equal(got, want) {
		t.Errorf("organization fields %q, want %q", got, want)
	}
	c, err := kind.Catalog(ctx, pool, prospects.Kind{}, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Index("tier") < 0 || c.Index("revenue") >= 0 {
		t.Errorf("prospect catalog: tier at %d, revenue at %d; want tier only", c.Index("tier"), c.Index("revenue"))
	}
}

// TestCreateImportWritesKind: an import is recorded with its kind, "prospects" when it names
// none, and with the counters it starts from; the history filters by kind.
func TestCreateImportWritesKind(t *testing.T) {
	pool := storetest.Pool(t)
	ctx := context.Background()
	acct := storetest.Account(t, pool, -1)
	create := func(kind string, counters map[string]int) store.Import {
		t.Helper()
		im, err := store.CreateImport(ctx, pool, store.Import{AccountID: acct.ID, Kind: kind, Source: store.SourceCLI,
			FileName: "f.csv", FilePath: "/nonexistent/f.csv", Counts: store.Counts{Counters: counters}}, "", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	orgs := create("organizations", map[string]int{"things_linked": 0})
	plain := create("", nil)
	for _, c := range []struct {
		id       int64
		kind     string
		counters map[string]int
	}{{orgs.ID, "organizations", map[string]int{"things_linked": 0}}, {plain.ID, "prospects", map[string]int{}}} {
		im, err := store.GetImport(ctx, pool, acct.ID, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if im.Kind != c.kind || !maps.Equal(im.Counts.Counters, c.counters) {
			t.Errorf("import %d: kind %q, counters %v; want %q, %v", c.id, im.Kind, im.Counts.Counters, c.kind, c.counters)
		}
	}
	list, err := store.ListImports(ctx, pool, acct.ID, store.ImportFilter{Kind: "organizations", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != orgs.ID {
		t.Errorf("organization imports %+v, want only import %d", list, orgs.ID)
	}
}

// TestProspectsOfProspectImportsOnly: the entity ids another kind's import recorded are not
// prospect ids, so listing prospects by import reads prospect imports only.
func TestProspectsOfProspectImportsOnly(t *testing.T) {
	f := newFixture(t)
	p := f.prospect("a@example.com", nil)
	prospects := f.importOf("prospects.csv", day("2024-01-01"), []row{{n: 2, outcome: "created", prospect: p}})
	orgs, err := store.CreateImport(f.ctx, f.pool, store.Import{AccountID: f.acct.ID, Kind: "organizations",
		Source: store.SourceCLI, FileName: "orgs.csv", FilePath: "/nonexistent/orgs.csv"}, owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error { // an organization that has p's id
		return store.RecordBatch(f.ctx, tx, orgs.ID, owner, time.Hour, []store.Outcome{{Row: 2, Outcome: "created", EntityID: p}},
			store.Counts{SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{}}, 2, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter store.ProspectFilter
		want   []int64
	}{
		{store.ProspectFilter{ImportID: orgs.ID}, nil},
		{store.ProspectFilter{ImportID: prospects}, []int64{p}},
		{store.ProspectFilter{}, []int64{p}},
	} {
		list, err := store.ListProspects(f.ctx, f.pool, f.acct.ID, c.filter)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("prospects of %+v: %v, want %v", c.filter, ids, c.want)
		}
	}
}
