package store_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadpipe/leadpipe/store"
)

// withCounts embeds Counts between fields of its own, as importer.Summary and api.ImportView do.
type withCounts struct {
	ID int64 `json:"id"`
	store.Counts
	Note   string `json:"note,omitempty"`
	Hidden string `json:"-"`
	Done   bool   `json:"done"`
}

func (w withCounts) MarshalJSON() ([]byte, error)     { return store.MarshalWithCounts(w) }
func (w *withCounts) UnmarshalJSON(data []byte) error { return store.UnmarshalWithCounts(data, w) }

// TestCountsJSON: counters are members of the counts' object, by name, after warnings_by_kind,
// and the fields around an embedded Counts stay in place; decoding gives back what was encoded.
func TestCountsJSON(t *testing.T) {
	c := store.Counts{Rows: 3, Created: 2, Skipped: 1, SkippedByReason: map[string]int{"invalid_email": 1},
		WarningsByKind: map[string]int{}, Counters: map[string]int{"organizations_linked": 9, "organizations_created": 8}}
	for _, tc := range []struct {
		v, decoded any
		want       string
	}{
		{c, &store.Counts{}, `{"rows":3,"created":2,"updated":0,"unchanged":0,"skipped":1,"skipped_by_reason":{"invalid_email":1},` +
			`"warnings_by_kind":{},"organizations_created":8,"organizations_linked":9}`},
		{withCounts{ID: 7, Counts: c, Hidden: "x", Done: true}, &withCounts{}, `{"id":7,"rows":3,"created":2,"updated":0,` +
			`"unchanged":0,"skipped":1,"skipped_by_reason":{"invalid_email":1},"warnings_by_kind":{},` +
			`"organizations_created":8,"organizations_linked":9,"done":true}`},
		{withCounts{ID: 7, Note: "n"}, &withCounts{}, `{"id":7,"rows":0,"created":0,"updated":0,"unchanged":0,"skipped":0,` +
			`"skipped_by_reason":null,"warnings_by_kind":null,"note":"n","done":false}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%T encodes\n%s\nwant\n%s", tc.v, b, tc.want)
		}
		if err := json.Unmarshal(b, tc.decoded); err != nil {
			t.Fatal(err)
		}
		want := tc.v
		if w, ok := want.(withCounts); ok {
			w.Hidden = ""
			want = w
		}
		if got := reflect.ValueOf(tc.decoded).Elem().Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s decodes to %+v, want %+v", b, got, want)
		}
	}
}
