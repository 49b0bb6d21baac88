package kafkasink_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/sinks/sinkstest"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// decodedMessages returns the messages of topic keyed by importID, each decoded as a JSON
// object, with the members named in drop removed.
func decodedMessages(t *testing.T, addr, topic string, importID int64, drop ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range brokertest.Messages(t, addr, topic) {
		if string(m.Key) != strconv.FormatInt(importID, 10) {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Fatalf("message on %s: %v\n%s", topic, err, m.Value)
		}
		for _, name := range drop {
			delete(v, name)
		}
		out = append(out, v)
	}
	return out
}

// decodeLines decodes one JSON object per line.
func decodeLines(t *testing.T, lines string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, v)
	}
	return out
}

// An import of another kind than prospects is published as version 2 with its kind, the
// entity ids of its rows, no prospect id, and its own counters in its events.
func TestAnotherKindPublishedWithKindAndEntityIDs(t *testing.T) {
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	b := brokertest.Start(t, "127.0.0.1:0", t.TempDir())
	im := sinkstest.Organizations(t, pool, acct)
	drain(t, &pipeline.Relay{Querier: pool, Sink: newSink(t, b.Addr()), Poll: time.Millisecond, BatchRows: 3, Log: quiet})

	head := fmt.Sprintf(`{"version":2,"import_id":%d,"account":%q,"kind":"organizations","undo_of":null,`, im.ID, acct.Name)
	want := decodeLines(t, head+`"row_number":2,"outcome":"created","reason":"","detail":"","entity_id":9001,"prospect_id":null,"warnings":[],"source_row":null}
`+head+`"row_number":3,"outcome":"updated","reason":"","detail":"","entity_id":9002,"prospect_id":null,"warnings":[{"field":"industry","kind":"invalid_picklist_value","value":"Spaceships"}],"source_row":null}
`+head+`"row_number":4,"outcome":"skipped","reason":"missing_identifier","detail":"neither name nor domain","entity_id":null,"prospect_id":null,"warnings":[],"source_row":null}
`+head+`"row_number":5,"outcome":"unchanged","reason":"","detail":"","entity_id":9001,"prospect_id":null,"warnings":[],"source_row":null}`)
	if got := decodedMessages(t, b.Addr(), outcomesTopic, im.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes published:\n%v\nwant:\n%v", got, want)
	}

	head += `"file":"orgs.csv","source":"cli","error":"","undone_by":null,"undone_at":null,`
	want = decodeLines(t, head+`"seq":1,"event":"started","status":"running","counts":{"rows_done":0,"rows_total":0,"created":0,"updated":0,"unchanged":0,"skipped":0,"counters":{}}}
`+head+`"seq":2,"event":"progress","status":"running","counts":{"rows_done":4,"rows_total":0,"created":1,"updated":1,"unchanged":1,"skipped":1,"counters":{}}}
`+head+`"seq":3,"event":"completed","status":"completed","counts":{"rows_done":4,"rows_total":4,"created":1,"updated":1,"unchanged":1,"skipped":1,"counters":{}}}`)
	if got := decodedMessages(t, b.Addr(), eventsTopic, im.ID, "at"); !reflect.DeepEqual(got, want) {
		t.Errorf("events published:\n%v\nwant:\n%v", got, want)
	}
}
