package importer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// SPEC §10: net-new prospects beyond the limit are skipped in file order; updates still apply.
func TestProspectLimit(t *testing.T) {
	for _, batch := range []int{1, 3, 1000} { // 3: rows 2-4, 5-7, 8
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			e := newEnv(t, 3)
			e.Batch = batch
			r := e.importCSV("Email,Title\n"+
				"a@x.com,T1\n"+ // 2 created (1 of 3)
				"b@x.com,T1\n"+ // 3 created (2 of 3)
				"c@x.com,T1\n"+ // 4 created (3 of 3)
				"d@x.com,T1\n"+ // 5 over the limit
				"a@x.com,T2\n"+ // 6 update: still applies
				"e@x.com,T1\n"+ // 7 over the limit
				"c@x.com,T2\n", // 8 update
				crm.Options{})
			checkOutcomes(t, r.Outcomes, map[int]string{2: "created", 3: "created", 4: "created", 5: "skipped:over_limit",
				6: "updated", 7: "skipped:over_limit", 8: "updated"})
			if !r.Sum.OverLimitWarning {
				t.Error("Summary.OverLimitWarning = false, want true (0 + 7 rows > 3)")
			}
			if got := r.Sum.SkippedByReason["over_limit"]; got != 2 {
				t.Errorf("skipped over_limit = %d, want 2", got)
			}
			e.checkProspects([]map[string]string{
				{"email": "a@x.com", "title": "T2"},
				{"email": "b@x.com", "title": "T1"},
				{"email": "c@x.com", "title": "T2"},
			})
			if got := e.prospectCount(); got != 3 {
				t.Errorf("accounts.prospect_count = %d, want 3", got)
			}

			// At the limit, updates still apply.
			r = e.importCSV("Email,Title\nb@x.com,T3\nf@x.com,T3\n", crm.Options{})
			checkOutcomes(t, r.Outcomes, map[int]string{2: "updated", 3: "skipped:over_limit"})
			e.checkProspect("b@x.com", map[string]string{"email": "b@x.com", "title": "T3"})
		})
	}
}

// SPEC §10: the overage alert counts current prospects plus every data row of the file,
// duplicates and existing prospects included.
func TestOverLimitWarning(t *testing.T) {
	rows := func(emails ...string) string { return "Email\n" + strings.Join(emails, "\n") + "\n" }
	cases := []struct {
		name   string
		limit  int64
		before string
		file   string
		want   bool
	}{
		{"unlimited", -1, "", rows("a@x.com", "b@x.com"), false},
		{"exactly at the limit", 3, "", rows("a@x.com", "b@x.com", "c@x.com"), false},
		{"duplicates count", 3, "", rows("a@x.com", "a@x.com", "A@x.com", "a@x.com"), true},
		{"existing prospects count", 4, rows("a@x.com", "b@x.com"), rows("a@x.com", "b@x.com", "c@x.com"), true},
		{"blank rows do not count", 2, "", "Email\na@x.com\n\n,\nb@x.com\n\n", false},
		{"existing prospects, room left", 5, rows("a@x.com", "b@x.com"), rows("a@x.com", "b@x.com", "c@x.com"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.limit)
			if tc.before != "" {
				e.importCSV(tc.before, crm.Options{})
			}
			path := writeFile(t, "f.csv", tc.file)
			c, err := e.importer(3).Check(e.ctx, e.request(path, crm.Options{}))
			if err != nil {
				t.Fatal(err)
			}
			if c.OverLimitWarning != tc.want {
				t.Errorf("Check: OverLimitWarning = %v, want %v", c.OverLimitWarning, tc.want)
			}
			imp, _, err := e.importer(3).Submit(e.ctx, e.request(path, crm.Options{}))
			if err != nil {
				t.Fatal(err)
			}
			if imp.OverLimitWarning != tc.want {
				t.Errorf("Submit: OverLimitWarning = %v, want %v", imp.OverLimitWarning, tc.want)
			}
		})
	}
}

// ownPool opens a pool of at most maxConns connections on the test database.
func ownPool(t *testing.T, maxConns int32) *pgxpool.Pool {
	t.Helper()
	storetest.Pool(t) // migrated, or skipped
	cfg, err := pgxpool.ParseConfig(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// SPEC §10: concurrent imports into one account never overshoot the limit, together. The
// imports share a pool of 16 connections (see TestImportHoldsOneConnection for smaller pools).
func TestConcurrentImportsRespectLimit(t *testing.T) {
	e := newEnv(t, 50)
	const files, perFile = 4, 30
	paths := make([]string, files)
	for f := range files {
		var b strings.Builder
		b.WriteString("Email,First Name\n")
		for i := range perFile {
			fmt.Fprintf(&b, "f%d-p%d@example.com,P%d\n", f, i, i)
		}
		paths[f] = writeFile(t, fmt.Sprintf("f%d.csv", f), b.String())
	}
	cfg := config.Default
	cfg.BatchSize = 4
	im := &importer.Importer{Pool: ownPool(t, 16), Config: cfg, Log: quietLog}
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	sums := make([]importer.Summary, files)
	errs := make([]error, files)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for f := range files {
		wg.Go(func() {
			<-start
			sums[f], errs[f] = im.RunNow(ctx, e.request(paths[f], crm.Options{List: "All"}), fmt.Sprintf("%s-%d", testOwner, f), false)
		})
	}
	close(start)
	wg.Wait()
	created, overLimit := 0, 0
	for f := range files {
		if errs[f] != nil {
			t.Errorf("import %d: %v", f, errs[f])
			continue
		}
		if sums[f].Rows != perFile {
			t.Errorf("import %d: %d rows, want %d", f, sums[f].Rows, perFile)
		}
		created += sums[f].Created
		overLimit += sums[f].SkippedByReason["over_limit"]
	}
	if created != 50 || overLimit != 70 {
		t.Errorf("created %d, over_limit %d; want 50 and 70", created, overLimit)
	}
	if n := e.nProspects(); n != 50 {
		t.Errorf("%d prospects, want 50", n)
	}
	if n := e.prospectCount(); n != 50 {
		t.Errorf("accounts.prospect_count = %d, want 50", n)
	}
	if n := e.count(`SELECT count(*) FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id
		WHERE g.account_id = $1`); n != 50 {
		t.Errorf("list All has %d members, want 50", n)
	}
}

// N imports at once on a pool of N connections (N workers of the daemon, or four imports on
// pgxpool's default of max(4, CPUs) connections) must all finish: an import must never wait
// for a second connection of its pool while it holds one. The deterministic form: one import,
// real or dry, on a pool of one connection.
func TestImportHoldsOneConnection(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry=%v", dry), func(t *testing.T) {
			e := newEnv(t, -1)
			cfg := config.Default
			cfg.BatchSize = 3
			im := &importer.Importer{Pool: ownPool(t, 1), Config: cfg, Log: quietLog}
			ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
			defer cancel()
			path := writeFile(t, "f.csv", "Email,First Name\nann@acme.com,Ann\nbob@beta.io,Bob\n")
			sum, err := im.RunNow(ctx, e.request(path, crm.Options{}), testOwner, dry)
			if err != nil {
				t.Fatalf("RunNow on a pool of one connection: %v", err)
			}
			checkCounts(t, sum.Counts, "rows=2 created=2 updated=0 unchanged=0 skipped=0 orgs_created=0 orgs_linked=0")
		})
	}
}
