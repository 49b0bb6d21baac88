package apply

import (
	"fmt"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

func TestSkip(t *testing.T) {
	off := false
	for _, tc := range []struct {
		o      crm.Options
		id     int64
		reason string
	}{
		{crm.Options{}, 0, ""},
		{crm.Options{}, 7, ""},
		{crm.Options{CreateNew: &off}, 0, pipeline.ReasonNewNotAllowed},
		{crm.Options{CreateNew: &off}, 7, ""},
		{crm.Options{UpdateExisting: &off}, 0, ""},
		{crm.Options{UpdateExisting: &off}, 7, pipeline.ReasonExistingNotUpdated},
	} {
		if reason, _ := Skip(tc.o, "deal", tc.id); reason != tc.reason {
			t.Errorf("Skip(%+v, %d) = %q, want %q", tc.o, tc.id, reason, tc.reason)
		}
	}
	if _, detail := Skip(crm.Options{UpdateExisting: &off}, "deal", 7); detail != "the row matches deal 7 and update_existing is off" {
		t.Errorf("detail %q", detail)
	}
}

func TestPolicies(t *testing.T) {
	c := crm.NewCatalog("deal", []crm.Field{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d", Type: crm.MultiPicklist}}, nil)
	p := NewPolicies(c, crm.Options{FieldPolicies: map[string]crm.Policy{"b": crm.UpdateIfEmpty, "c": crm.Ignore, "d": crm.Merge}})
	for _, tc := range []struct {
		i       int
		cur, v  string
		takes   bool
		becomes string
	}{
		{0, "old", "new", true, "new"},
		{0, "old", "", false, ""},
		{1, "", "new", true, "new"},
		{1, "old", "new", false, ""},
		{2, "", "new", false, ""},
		{3, "X;Y", "Z;X", true, "X;Y;Z"},
		{3, "", "Z", true, "Z"},
	} {
		takes := p.Takes(tc.i, tc.cur, tc.v)
		got := fmt.Sprint(takes)
		if takes {
			got += " " + p.Value(tc.i, tc.cur, tc.v)
		}
		want := fmt.Sprint(tc.takes)
		if tc.takes {
			want += " " + tc.becomes
		}
		if got != want {
			t.Errorf("field %d, %q on top of %q: %s, want %s", tc.i, tc.v, tc.cur, got, want)
		}
	}
}

type rec struct{ id int64 }

func TestIndex(t *testing.T) {
	x := NewIndex[string](func(r *rec) int64 { return r.id })
	a, b, c := &rec{1}, &rec{2}, &rec{3}
	x.Add("k", c)
	x.Add("k", a)
	x.Add("k", b)
	if r, _ := x.First("k"); r != a {
		t.Fatalf("first of k = %v, want the oldest", r)
	}
	x.Remove("k", a)
	if r, _ := x.First("k"); r != b {
		t.Fatalf("first of k after removing 1 = %v, want 2", r)
	}
	x.Remove("k", b)
	x.Remove("k", c)
	if r, ok := x.First("k"); ok {
		t.Fatalf("first of an emptied key = %v", r)
	}
}

func TestTracked(t *testing.T) {
	stored, created := &Tracked{}, &Tracked{Created: true}
	for _, step := range []struct {
		t      *Tracked
		edits  int
		want   pipeline.Outcome
		wantUp bool
	}{
		{stored, 0, pipeline.Unchanged, false},
		{stored, 2, pipeline.Updated, true},
		{stored, 1, pipeline.Updated, false},  // already to be updated
		{created, 1, pipeline.Updated, false}, // to be inserted
	} {
		before := step.t.Edits
		step.t.Edits += step.edits
		if o, first := step.t.Outcome(before); o != step.want || first != step.wantUp {
			t.Errorf("%+v after %d edits: %s %v, want %s %v", *step.t, step.edits, o, first, step.want, step.wantUp)
		}
	}
}
