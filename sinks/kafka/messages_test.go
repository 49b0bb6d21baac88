package kafkasink

import (
	"encoding/json"
	"testing"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// appendJSON writes what json.Marshal writes, for every kind of row: created, skipped with a
// reason and detail that need escaping (quotes, control characters, HTML, non-ASCII, invalid
// UTF-8), with warnings as Postgres's jsonb gives them, and an undo's row.
func TestOutcomeJSON(t *testing.T) {
	imp := store.Import{ID: 7, Kind: "prospects"}
	undo := store.Import{ID: 9, Kind: "deals", UndoOf: 7}
	cases := []struct {
		d pipeline.Delivery
		r store.RowOutcome
	}{
		{pipeline.Delivery{Account: "acme", Import: imp}, store.RowOutcome{ImportID: 7, Row: 2, Outcome: "created", EntityID: 1207}},
		{pipeline.Delivery{Account: `a "quoted" <acct> & co`, Import: imp}, store.RowOutcome{ImportID: 7, Row: 3, Outcome: "skipped",
			Reason: "invalid_email", Detail: "\"x@\" is not an email\n\tliné 3 \xff\u2028"}},
		{pipeline.Delivery{Account: "acme", Import: imp}, store.RowOutcome{ImportID: 7, Row: 4, Outcome: "updated", EntityID: 5,
			Warnings: json.RawMessage(`[{"kind": "invalid_date", "field": "close<date>", "value": "31/02"}]`)}},
		{pipeline.Delivery{Account: "acme", Import: imp}, store.RowOutcome{ImportID: 7, Row: 5, Outcome: "unchanged", EntityID: 6,
			Warnings: json.RawMessage("null")}},
		{pipeline.Delivery{Account: "acme", Import: undo}, store.RowOutcome{ImportID: 9, Row: 6, Outcome: "kept_changed_since",
			Reason: "changed_since", EntityID: 11, SourceRow: 14}},
	}
	for _, c := range cases {
		m := outcomeMessage(&c.d, &c.r)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.appendJSON([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "prefix"+string(want) {
			t.Errorf("row %d:\n got %s\nwant prefix%s", c.r.Row, got, want)
		}
	}
	m := outcomeMessage(&pipeline.Delivery{Import: imp}, &store.RowOutcome{Warnings: json.RawMessage(`[{"kind":`)})
	if _, err := m.appendJSON(nil); err == nil {
		t.Error("warnings that are not JSON encoded without an error")
	}
}

// BenchmarkOutcomeMessages encodes a produce request's worth of row outcomes (produceRows) into
// one buffer, as Deliver does, and as it did before with json.Marshal.
func BenchmarkOutcomeMessages(b *testing.B) {
	d := pipeline.Delivery{Account: "bench-serve", Import: store.Import{ID: 1, Kind: "prospects"}}
	for i := range produceRows {
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: 1, Row: i + 2, Outcome: "created", EntityID: int64(1000 + i)})
	}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, 0, outcomeSize*len(d.Rows))
			for i := range d.Rows {
				m := outcomeMessage(&d, &d.Rows[i])
				var err error
				if buf, err = m.appendJSON(buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range d.Rows {
				if _, err := json.Marshal(outcomeMessage(&d, &d.Rows[i])); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
