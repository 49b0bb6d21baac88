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

	"github.com/leadpipe/leadpipe/pipeline"
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

// UndoOutcomes are the rows of the undo OrganizationsUndo records, as the relay reads them: the
// import's rows taken back last row first.
//
//	row 1  unchanged  source row 5, entity 9001
//	row 2  restored   source row 3, entity 9002, field_changed_since, "industry was changed since the import"
//	row 3  deleted    source row 2, entity 9001
var UndoOutcomes = []store.Outcome{
	{Row: 1, SourceRow: 5, Outcome: string(pipeline.Unchanged), EntityID: 9001},
	{Row: 2, SourceRow: 3, Outcome: string(pipeline.Restored), EntityID: 9002, Reason: pipeline.ReasonFieldChangedSince,
		Detail: "industry was changed since the import"},
	{Row: 3, SourceRow: 2, Outcome: string(pipeline.Deleted), EntityID: 9001},
}

// OrganizationsUndo records, for account, a completed undo of im (an import Organizations
// recorded), created by store.CreateUndo from the command line and run in one batch of the rows
// UndoOutcomes lists, with the undo's counters deleted 1, restored 1, kept_changed_since 0,
// fields_kept 1. Its events are started, progress, completed; its completion makes im undone,
// which records im's undone event. It returns the undo and im as they then are.
func OrganizationsUndo(t testing.TB, pool *pgxpool.Pool, account store.Account, im store.Import) (undo, undone store.Import) {
	t.Helper()
	ctx := context.Background()
	const owner = "sinkstest"
	rec := store.Import{AccountID: account.ID, UndoOf: im.ID, Source: store.SourceCLI}
	rec.Counts.StartCounters(pipeline.UndoCounters())
	undo, err := store.CreateUndo(ctx, pool, rec, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	counts := store.Counts{Rows: 3, Unchanged: 1, SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{},
		Counters: map[string]int{string(pipeline.Deleted): 1, string(pipeline.Restored): 1,
			string(pipeline.KeptChangedSince): 0, pipeline.CounterFieldsKept: 1}}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := store.RecordBatch(ctx, tx, undo.ID, owner, time.Minute, UndoOutcomes, counts, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishImport(ctx, pool, undo.ID, owner, store.StatusCompleted, ""); err != nil {
		t.Fatal(err)
	}
	if undo, err = store.GetImport(ctx, pool, account.ID, undo.ID); err != nil {
		t.Fatal(err)
	}
	if undone, err = store.GetImport(ctx, pool, account.ID, im.ID); err != nil {
		t.Fatal(err)
	}
	return undo, undone
}
