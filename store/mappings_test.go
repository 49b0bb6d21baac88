package store_test

// Saved mappings (0017_saved_mappings.sql): saved per account, kind and name, replaced in
// place, listed by name, read and deleted one by one, and never seen from another account.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

func TestSavedMappings(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	a, other := storetest.Account(t, pool, -1), storetest.Account(t, pool, -1)
	save := func(accountID int64, m store.SavedMapping) store.SavedMapping {
		t.Helper()
		saved, err := store.SaveMapping(ctx, pool, accountID, m)
		if err != nil {
			t.Fatalf("save %s/%s: %v", m.Kind, m.Name, err)
		}
		return saved
	}
	first := save(a.ID, store.SavedMapping{Kind: "prospects", Name: "Trade show", Columns: []string{"E-mail", "Company"},
		Options: []byte(`{"mapping":{"E-mail":"email"},"list":"Show"}`)})
	if first.Kind != "prospects" || first.Name != "Trade show" || !slices.Equal(first.Columns, []string{"E-mail", "Company"}) ||
		string(first.Options) != `{"list": "Show", "mapping": {"E-mail": "email"}}` || !first.CreatedAt.Equal(first.UpdatedAt) {
		t.Errorf("saved %+v (options %s), want it as given with created_at = updated_at", first, first.Options)
	}
	save(a.ID, store.SavedMapping{Kind: "organizations", Name: "Trade show"}) // same name, other kind
	save(a.ID, store.SavedMapping{Kind: "prospects", Name: "Admin export"})
	save(other.ID, store.SavedMapping{Kind: "prospects", Name: "Theirs"})

	replaced := save(a.ID, store.SavedMapping{Kind: "prospects", Name: "Trade show", Columns: []string{"Email"}, Options: []byte(`{"tags":["x"]}`)})
	if !replaced.CreatedAt.Equal(first.CreatedAt) || !replaced.UpdatedAt.After(first.UpdatedAt) ||
		!slices.Equal(replaced.Columns, []string{"Email"}) || string(replaced.Options) != `{"tags": ["x"]}` {
		t.Errorf("replaced: %+v (options %s), want the new columns and options, created_at kept, updated_at later", replaced, replaced.Options)
	}

	names := func(kind string) []string {
		t.Helper()
		list, err := store.SavedMappings(ctx, pool, a.ID, kind)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list {
			out = append(out, m.Kind+"/"+m.Name)
		}
		return out
	}
	if got, want := names("prospects"), []string{"prospects/Admin export", "prospects/Trade show"}; !slices.Equal(got, want) {
		t.Errorf("prospects mappings %q, want %q", got, want)
	}
	if got, want := names(""), []string{"prospects/Admin export", "organizations/Trade show", "prospects/Trade show"}; !slices.Equal(got, want) {
		t.Errorf("all mappings %q, want %q (by name, then kind)", got, want)
	}
	if got := names("deals"); got != nil {
		t.Errorf("deals mappings %q, want none", got)
	}

	got, err := store.GetSavedMapping(ctx, pool, a.ID, "prospects", "Admin export")
	if err != nil || got.Name != "Admin export" || got.Columns == nil || string(got.Options) != "{}" {
		t.Errorf("get: %+v (options %s), %v; want the mapping with no columns and options {}", got, got.Options, err)
	}
	if _, err := store.GetSavedMapping(ctx, pool, other.ID, "prospects", "Admin export"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get from another account: %v, want ErrNotFound", err)
	}
	if err := store.DeleteSavedMapping(ctx, pool, other.ID, "prospects", "Trade show"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete from another account: %v, want ErrNotFound", err)
	}
	if err := store.DeleteSavedMapping(ctx, pool, a.ID, "prospects", "Trade show"); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteSavedMapping(ctx, pool, a.ID, "prospects", "Trade show"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound", err)
	}
	if got, want := names(""), []string{"prospects/Admin export", "organizations/Trade show"}; !slices.Equal(got, want) {
		t.Errorf("after delete %q, want %q", got, want)
	}
}
