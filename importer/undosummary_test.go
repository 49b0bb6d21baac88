package importer_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// TestUndoSummaryJSON: a dry run's summary, as `leadpipe imports undo --dry-run` prints it and
// POST /v1/imports/{id}/undo?dry_run=true answers it, is one JSON object with each member once
// — the count of rows taken back and the row-by-row report do not share a name — that reads
// back as it was.
func TestUndoSummaryJSON(t *testing.T) {
	sum := importer.UndoSummary{ImportID: 7, Kind: "prospects", Status: store.StatusCompleted, DryRun: true,
		Counts: store.Counts{Rows: 2, Unchanged: 1, SkippedByReason: map[string]int{}, WarningsByKind: map[string]int{},
			Counters: map[string]int{"deleted": 1, "restored": 0, "kept_changed_since": 0, "fields_kept": 0}},
		Rows:        []importer.UndoRowResult{{Row: 3, EntityID: 11, Outcome: "deleted"}, {Row: 2, EntityID: 12, Outcome: "unchanged"}},
		RowsOmitted: 5}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	seen := map[string]bool{}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", b)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		if seen[name] {
			t.Errorf("%s: member %q twice", b, name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	var back importer.UndoSummary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s reads back: %v", b, err)
	}
	if !reflect.DeepEqual(back, sum) {
		t.Errorf("%s reads back as %+v, want %+v", b, back, sum)
	}
}
