package apply

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// A deal's catalog: the prospect email is not stored, so it is never a change.
var dealLike = crm.NewCatalog("deal", []crm.Field{{Key: "name"}, {Key: "prospect_email"}, {Key: "prospect"},
	{Key: "regions", Type: crm.MultiPicklist}}, nil)

var dealStored = []bool{true, false, true, true}

func TestChanges(t *testing.T) {
	got := Changes(dealLike, dealStored, []string{"A", "", "", "EMEA"}, []string{"B", "ann@x.com", "7", "EMEA;APAC"})
	if s, want := fmt.Sprint(got), "[{name A B} {prospect  7} {regions EMEA EMEA;APAC}]"; s != want {
		t.Errorf("Changes = %s, want %s", s, want)
	}
	if got := Changes(dealLike, dealStored, []string{"A", "", "7", ""}, []string{"A", "bo@x.com", "7", ""}); got != nil {
		t.Errorf("Changes of unstored fields only = %v, want nil", got)
	}
}

// The keeper gives each updated row its changes since Before, the record's loaded updated_at
// on the batch's first change only, keeps what the row made, and leaves other rows alone.
func TestKeeper(t *testing.T) {
	at := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	k := NewKeeper(dealLike, dealStored)
	rec := &store.Record{ID: 3, Values: []string{"A", "", "", ""}, UpdatedAt: at}

	k.Before(rec.Values)
	rec.Values[0], rec.Values[2] = "B", "7"
	first := pipeline.Row{Outcome: pipeline.Updated, Undo: &pipeline.Undo{Made: []pipeline.Ref{{Kind: "organizations", ID: 9}}}}
	k.Keep(&first, true, rec)

	k.Before(rec.Values)
	rec.Values[0] = "C"
	second := pipeline.Row{Outcome: pipeline.Updated}
	k.Keep(&second, false, rec)

	k.Before(rec.Values)
	unchanged := pipeline.Row{Outcome: pipeline.Unchanged}
	k.Keep(&unchanged, false, rec)

	for _, tc := range []struct {
		row  pipeline.Row
		want string
	}{
		{first, "&{[{name A B} {prospect  7}] 2026-12-05 04:00:00 +0000 UTC [{organizations 9}]}"},
		{second, "&{[{name B C}] 0001-01-01 00:00:00 +0000 UTC []}"},
		{unchanged, "<nil>"},
	} {
		if got := fmt.Sprint(tc.row.Undo); got != tc.want {
			t.Errorf("Undo = %s, want %s", got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		k.Before(rec.Values)
		k.Keep(&unchanged, false, rec)
	}); n != 0 {
		t.Errorf("an unchanged row costs %v allocations, want 0", n)
	}
}
