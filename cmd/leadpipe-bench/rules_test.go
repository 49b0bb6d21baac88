package main

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestRulesCheck imports a small generated file twice with the real leadpipe binary into a
// fresh database: with the rules' options, the check finds everything in place; without them,
// it reports exactly the owner, the list and the tag as missing, so it reads what was written
// rather than echoing the import's counts.
func TestRulesCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dbURL, _, drop, err := freshDatabase(ctx, storetest.URL(), "_bench_rules_test")
	if drop != nil {
		t.Cleanup(func() { drop() })
	}
	if err != nil {
		t.Fatal(err)
	}
	bin := buildLeadpipe(t)
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		t.Fatal(err)
	}
	path, gen, _, err := ensureFile(t.TempDir(), 2000, 1)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		account  string
		withOpts bool
		want     []string
	}{
		{"with-rules", true, nil},
		{"without-rules", false, []string{"prospects with the owner", "prospects not in the list", "prospects not tagged", "list members", "tag members"}},
	} {
		rules, err := setUpRules(ctx, env, bin, tc.account)
		if err != nil {
			t.Fatal(err)
		}
		defer rules.remove()
		var args []string
		if tc.withOpts {
			args = rules.args()
		}
		run, err := runImport(ctx, env, bin, path, tc.account, args...)
		if err != nil {
			t.Fatal(err)
		}
		if run.res.Created != int64(gen.Created()) {
			t.Fatalf("%s: created %d, want %d", tc.account, run.res.Created, gen.Created())
		}
		got, err := rules.check(ctx, dbURL, tc.account, run.res)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: check reported %q, want %q", tc.account, got, tc.want)
		}
	}
}

func TestSizeLabel(t *testing.T) {
	for rows, want := range map[int]string{10_000_000: "10M", 1_000_000: "1M", 2_500_000: "2.5M", 50_000: "50k", 999: "999"} {
		if got := sizeLabel(rows); got != want {
			t.Errorf("sizeLabel(%d) = %q, want %q", rows, got, want)
		}
	}
}
