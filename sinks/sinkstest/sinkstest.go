// Package sinkstest gives the sinks' tests an import of a kind other than prospects, written
// to Postgres through the store as the engine records one: its row outcomes with entity ids,
// its counts, named counters and events. The kinds themselves are the importer's business;
// a sink only reads what was committed.
package sinkstest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/store"
)

// OrganizationsFile is the file name of the import Organizations records.
const OrganizationsFile = "orgs.csv"

// Organizations records, for account, a completed import of kind "organizations" from the
// command line with one batch of four rows:
//
//	row 2  created    entity 9001
//	row 3  updated    entity 9002, warning industry invalid_picklist_value "Spaceships"
//	row 4  skipped    missing_identifier, "neither name nor domain"
//	row 5  unchanged  entity 9001
//
// and no named counter, as the organizations kind counts none. Its events are started,
// progress, completed.
func Organizations(t testing.TB, pool *pgxpool.Pool, account store.Account) store.Import {
	t.Helper()
	ctx := context.Background()
	const owner = "sinkstest"
	im, err := store.CreateImport(ctx, pool, store.Import{AccountID: account.ID, Kind: "organizations",
		Source: store.SourceCLI, FileName: OrganizationsFile, FilePath: "/tmp/" + OrganizationsFile,
		Counts: store.Counts{}}, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := []store.Outcome{
		{Row: 2, Outcome: "created", EntityID: 9001},
		{Row: 3, Outcome: "updated", EntityID: 9002,
			Warnings: []byte(`[{"field":"industry","kind":"invalid_picklist_value","value":"Spaceships"}]`)},
		{Row: 4, Outcome: "skipped", Reason: "missing_identifier", Detail: "neither name nor domain",
			Cells: []string{"", "", "Software"}},
		{Row: 5, Outcome: "unchanged", EntityID: 9001},
	}
	counts := store.Counts{Rows: 4, Created: 1, Updated: 1, Unchanged: 1, Skipped: 1,
		SkippedByReason: map[string]int{"missing_identifier": 1},
		WarningsByKind:  map[string]int{"invalid_picklist_value": 1}}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := store.RecordBatch(ctx, tx, im.ID, owner, time.Minute, outcomes, counts, 5, 100); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishImport(ctx, pool, im.ID, owner, store.StatusCompleted, ""); err != nil {
		t.Fatal(err)
	}
	im, err = store.GetImport(ctx, pool, account.ID, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	return im
}
