package kafkasink_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/pipeline"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// An undo's rows are published as its own outcomes, keyed by the undo's id, each naming the
// import it takes back and that import's row; its events name the import too; the import's
// undone event names the undo and when it completed, and its earlier events do not. A replay
// publishes every message again with the same key and content.
func TestUndoPublishedWithWhatItTookBack(t *testing.T) {
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	relay := &pipeline.Relay{Querier: pool, Sink: newSink(t, b.Addr()), Poll: time.Millisecond, BatchRows: 2, Log: quiet}
	im := sinkstest.Organizations(t, pool, acct)
	drain(t, relay) // the import is published before its undo exists, as in a daemon
	undo, undone := sinkstest.OrganizationsUndo(t, pool, acct, im)
	drain(t, relay)

	if undone.UndoneBy != undo.ID || undone.UndoneAt == nil || undo.FinishedAt == nil || !undone.UndoneAt.Equal(*undo.FinishedAt) {
		t.Fatalf("import undone by %d at %v, want by %d at %v", undone.UndoneBy, undone.UndoneAt, undo.ID, undo.FinishedAt)
	}
	head := fmt.Sprintf(`{"version":2,"import_id":%d,"account":%q,"kind":"organizations","undo_of":%d,"prospect_id":null,"warnings":[],`,
		undo.ID, acct.Name, im.ID)
	wantOutcomes := decodeLines(t, head+`"row_number":1,"source_row":5,"outcome":"unchanged","reason":"","detail":"","entity_id":9001}
`+head+`"row_number":2,"source_row":3,"outcome":"restored","reason":"field_changed_since","detail":"industry was changed since the import","entity_id":9002}
`+head+`"row_number":3,"source_row":2,"outcome":"deleted","reason":"","detail":"","entity_id":9001}`)
	head = fmt.Sprintf(`{"version":2,"import_id":%d,"account":%q,"kind":"organizations","file":"orgs.csv","source":"cli","error":"","undo_of":%d,"undone_by":null,"undone_at":null,`,
		undo.ID, acct.Name, im.ID)
	wantUndoEvents := decodeLines(t, head+`"seq":1,"event":"started","status":"running","counts":{"rows_done":0,"rows_total":3,"created":0,"updated":0,"unchanged":0,"skipped":0,"counters":{"deleted":0,"restored":0,"kept_changed_since":0,"fields_kept":0}}}
`+head+`"seq":2,"event":"progress","status":"running","counts":{"rows_done":3,"rows_total":3,"created":0,"updated":0,"unchanged":1,"skipped":0,"counters":{"deleted":1,"restored":1,"kept_changed_since":0,"fields_kept":1}}}
`+head+`"seq":3,"event":"completed","status":"completed","counts":{"rows_done":3,"rows_total":3,"created":0,"updated":0,"unchanged":1,"skipped":0,"counters":{"deleted":1,"restored":1,"kept_changed_since":0,"fields_kept":1}}}`)
	head = fmt.Sprintf(`{"version":2,"import_id":%d,"account":%q,"kind":"organizations","file":"orgs.csv","source":"cli","error":"","undo_of":null,`,
		im.ID, acct.Name)
	const done = `"rows_done":4,"created":1,"updated":1,"unchanged":1,"skipped":1,"counters":{}}}`
	wantImportEvents := decodeLines(t, head+`"undone_by":null,"undone_at":null,"seq":1,"event":"started","status":"running","counts":{"rows_done":0,"rows_total":0,"created":0,"updated":0,"unchanged":0,"skipped":0,"counters":{}}}
`+head+`"undone_by":null,"undone_at":null,"seq":2,"event":"progress","status":"running","counts":{"rows_total":0,`+done+`
`+head+`"undone_by":null,"undone_at":null,"seq":3,"event":"completed","status":"completed","counts":{"rows_total":4,`+done+`
`+head+fmt.Sprintf(`"undone_by":%d,"undone_at":%q,"seq":4,"event":"undone","status":"undone","counts":{"rows_total":4,`, undo.ID,
		undone.UndoneAt.Format(time.RFC3339Nano))+done)

	check := func(when string, copies int) {
		t.Helper()
		for _, c := range []struct {
			topic string
			id    int64
			want  []map[string]any
		}{
			{outcomesTopic, undo.ID, wantOutcomes},
			{eventsTopic, undo.ID, wantUndoEvents},
			{eventsTopic, im.ID, wantImportEvents},
		} {
			var want []map[string]any
			for range copies {
				want = append(want, c.want...)
			}
			// decodedMessages keeps only the messages keyed by the id: a message under another
			// key would be missing here.
			got := decodedMessages(t, b.Addr(), c.topic, c.id, "at")
			if !reflect.DeepEqual(inUTC(t, got), inUTC(t, want)) {
				t.Errorf("%s: %s of import %d:\n%v\nwant:\n%v", when, c.topic, c.id, got, want)
			}
		}
	}
	check("published", 1)

	// A crash after Kafka took the messages, before the cursors moved: all of it again.
	replay(t, pool, kafkasink.Name, im.ID, undo.ID)
	drain(t, relay)
	check("replayed", 2)
}

// inUTC rewrites the undone_at of messages in UTC, so that two renderings of one instant
// compare equal.
func inUTC(t *testing.T, messages []map[string]any) []map[string]any {
	t.Helper()
	for _, m := range messages {
		if s, ok := m["undone_at"].(string); ok {
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatalf("undone_at %q: %v", s, err)
			}
			m["undone_at"] = at.UTC().Format(time.RFC3339Nano)
		}
	}
	return messages
}

// replay moves sink's cursors of the imports back to the start and marks them pending, as if
// the sink had delivered them but crashed before its cursors moved.
func replay(t *testing.T, pool *pgxpool.Pool, sink string, ids ...int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "DELETE FROM sink_cursors WHERE sink = $1 AND import_id = ANY($2)", sink, ids); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sink_pending (sink, import_id, row_number, event_seq)
		SELECT $1, id, checkpoint_row, event_seq FROM imports WHERE id = ANY($2)
		ON CONFLICT (sink, import_id) DO UPDATE SET row_number = excluded.row_number, event_seq = excluded.event_seq`,
		sink, ids); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sink_pending WHERE sink = $1 AND import_id = ANY($2)", sink, ids).Scan(&n); err != nil || n != len(ids) {
		t.Fatalf("%d imports pending for %s, %v; want %d", n, sink, err, len(ids))
	}
}
