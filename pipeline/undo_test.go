package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// An Undo survives import_rows.undo: encoded in its short form and decoded back, it is the
// same, whatever its values hold (quotes, separators, "" for none); an empty one encodes to {}.
func TestUndoJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 5, 4, 26, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		undo Undo
		json string
	}{
		{Undo{}, `{}`},
		{Undo{Changes: []Change{{"title", "CEO", `Chief "Exec"`}, {"interests", "Golf", "Golf;Chess"}, {"city", "", "Paris"}},
			UpdatedAt: at},
			`{"c":[["title","CEO","Chief \"Exec\""],["interests","Golf","Golf;Chess"],["city","","Paris"]],"u":"2026-12-05T04:26:00.123456Z"}`},
		{Undo{Made: []Ref{{"organizations", 12}, {"organizations", 9007199254740993}}},
			`{"m":[["organizations",12],["organizations",9007199254740993]]}`},
		{Undo{Changes: []Change{{"organization", "7", "12"}}, Made: []Ref{{"organizations", 12}}},
			`{"c":[["organization","7","12"]],"m":[["organizations",12]]}`},
		// Escaped as encoding/json escapes them: backslashes, controls, HTML characters, U+2028.
		{Undo{Changes: []Change{{"notes", "a\\b\n\t<x>&", "é\u2028€"}}},
			`{"c":[["notes","a\\b\n\t\u003cx\u003e\u0026","é\u2028€"]]}`},
	} {
		got, err := tc.undo.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(got) {
			t.Errorf("%+v encodes to invalid JSON %s", tc.undo, got)
		}
		if string(got) != tc.json {
			t.Errorf("%+v encodes to\n %s, want\n %s", tc.undo, got, tc.json)
		}
		var back Undo
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("decode %s: %v", got, err)
		}
		if !reflect.DeepEqual(back, tc.undo) {
			t.Errorf("%s decodes to %+v, want %+v", got, back, tc.undo)
		}
	}
	// A time in another zone comes back as the same instant, in UTC.
	paris := time.FixedZone("CET", 3600)
	got, _ := json.Marshal(Undo{UpdatedAt: at.In(paris)})
	var back Undo
	if err := json.Unmarshal(got, &back); err != nil || !back.UpdatedAt.Equal(at) {
		t.Errorf("%s decodes to %v (%v), want %v", got, back.UpdatedAt, err, at)
	}
	if err := json.Unmarshal([]byte(`{"m":[["organizations","x"]]}`), &back); err == nil {
		t.Error("a ref with a non-numeric id decodes without an error")
	}
}
