package chsink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/store"
)

// A delivery of more row outcomes than a block goes as one INSERT of several blocks: every row
// arrives, with its own values and those the delivery shares, and ClickHouse writes them as one
// part. A delivery with a row the sink cannot write (its warnings are not JSON) writes none of
// its rows, not even those of the blocks before that row's.
func TestDeliveryInBlocks(t *testing.T) {
	defer chsink.SetBlockRows(3)()
	ctx := context.Background()
	db := analyticstest.Database(t, chDatabase)
	ch := analyticstest.Conn(t, analyticstest.Addr(), db)
	sink := &chsink.Sink{Addr: analyticstest.Addr(), Database: db}
	t.Cleanup(func() { sink.Close() })

	started := time.Date(2031, 5, 7, 9, 30, 0, 0, time.UTC)
	delivery := func(id int64, rows int) pipeline.Delivery {
		d := pipeline.Delivery{Account: "acme", Import: store.Import{ID: id, Kind: "prospects", Source: store.SourceUpload,
			FileName: fmt.Sprintf("import-%d.csv", id), CreatedAt: started.Add(-time.Minute), StartedAt: &started}}
		for row := 2; row < rows+2; row++ {
			r := store.RowOutcome{ImportID: id, Row: row, Outcome: "created", EntityID: int64(1000 + row)}
			if row%4 == 0 {
				r.Outcome, r.Reason, r.EntityID = "skipped", "invalid_email", 0
			}
			if row%5 == 0 {
				r.Warnings = json.RawMessage(`[{"field":"phone","kind":"invalid_phone"},{"field":"website","kind":"invalid_url"}]`)
			}
			d.Rows = append(d.Rows, r)
		}
		return d
	}

	partsBefore := insertedParts(t, ch, db)
	d := delivery(7, 8) // blocks of 3, 3 and 2 rows
	if err := sink.Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range d.Rows {
		warnings := ""
		if r.Warnings != nil {
			warnings = "invalid_phone,invalid_url"
		}
		want = append(want, fmt.Sprintf("%d %s %s %d %s acme upload import-7.csv 2031-05-07 09:30:00", r.Row, r.Outcome, r.Reason, r.EntityID, warnings))
	}
	if got := outcomeLines(t, ch, 7); !slices.Equal(got, want) {
		t.Errorf("row outcomes in ClickHouse:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if parts := int64(insertedParts(t, ch, db)) - int64(partsBefore); parts != 1 {
		t.Errorf("the delivery of three blocks was written as %d parts, want 1", parts)
	}

	bad := delivery(8, 8)
	bad.Rows[6].Warnings = json.RawMessage(`[{"kind":`) // row 8, in the third block
	if err := sink.Deliver(ctx, bad); err == nil || !strings.Contains(err.Error(), "row 8") {
		t.Fatalf("delivering a row whose warnings are not JSON: %v, want an error naming row 8", err)
	}
	if got := outcomeLines(t, ch, 8); len(got) != 0 {
		t.Errorf("a failed delivery left %d row outcomes in ClickHouse:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// outcomeLines returns an import's row outcomes in ClickHouse, one line each: "row outcome
// reason entity_id warnings account source file_name at".
func outcomeLines(t *testing.T, ch driver.Conn, importID int64) []string {
	t.Helper()
	return importLines(t, ch, `SELECT concat(toString(row_number), ' ', outcome, ' ', reason, ' ',
			toString(entity_id), ' ', warnings, ' ', account, ' ', source, ' ', file_name, ' ', toString(at, 'UTC'))
		FROM row_outcomes FINAL WHERE import_id = @id ORDER BY row_number`, importID)
}

// insertedParts counts the parts of row_outcomes in database db that inserts wrote (level 0),
// those merged away since included.
func insertedParts(t *testing.T, ch driver.Conn, db string) uint64 {
	t.Helper()
	var n uint64
	if err := ch.QueryRow(context.Background(), `SELECT count() FROM system.parts
		WHERE database = @db AND table = 'row_outcomes' AND level = 0`, clickhouse.Named("db", db)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
