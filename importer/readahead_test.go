package importer_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// preparedBatches reads leadpipe_prepared_batches_total: the batches whose read-ahead held,
// and those read again.
func preparedBatches(t *testing.T) (held, reread int) {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "leadpipe_prepared_batches_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			n := int(m.GetCounter().GetValue())
			switch m.GetLabel()[0].GetValue() {
			case "held":
				held = n
			case "reread":
				reread = n
			}
		}
	}
	return held, reread
}

// An import reads each batch's matches ahead, on a second connection, while the batch before
// is written (pipeline.Preparer); with no other writer, what it read holds for every batch,
// once the batch before's writes are laid over it. The file moves emails and identifiers
// from batch to batch, and the outcomes must be those of a batch size that has one batch.
func TestReadAheadHoldsForEveryBatch(t *testing.T) {
	const file = "Email,First Name,Phone,Company\n" +
		"ann@acme.com,Ann,555-0100,Acme\n" + // 2 created
		"bob@beta.io,Bob,555-0101,Beta\n" + // 3 created
		"new@acme.com,,555-0100,Acme\n" + // 4 ann (by phone) takes a new email
		"ann@acme.com,Olga,,Gamma\n" + // 5 ann's old email is free: created, linked to Acme by its domain
		"bob@beta.io,Bobby,,\n" + // 6 updated
		"new@acme.com,Annie,,\n" + // 7 the first prospect, by its new email
		",,555-0101,Beta\n" + // 8 bob by phone: unchanged
		"cat@gamma.org,Cat,,Gamma\n" + // 9 created, with a new organization
		"dan@gamma.org,Dan,,Gamma\n" // 10 created, linked to the organization row 9 made
	want := map[int]string{2: "created", 3: "created", 4: "updated", 5: "created", 6: "updated",
		7: "updated", 8: "unchanged", 9: "created", 10: "created"}
	opts := crm.Options{UniqueIdentifier: "phone"}
	for _, batch := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			e := newEnv(t, -1)
			held0, reread0 := preparedBatches(t)
			r := e.importPath(writeFile(t, "moves.csv", file), opts, batch)
			checkOutcomes(t, r.Outcomes, want)
			e.checkProspects([]map[string]string{
				{"email": "new@acme.com", "first_name": "Annie", "phone": "555-0100", "organization": "Acme"},
				{"email": "bob@beta.io", "first_name": "Bobby", "phone": "555-0101", "organization": "Beta"},
				{"email": "ann@acme.com", "first_name": "Olga", "organization": "Acme"},
				{"email": "cat@gamma.org", "first_name": "Cat", "organization": "Gamma"},
				{"email": "dan@gamma.org", "first_name": "Dan", "organization": "Gamma"},
			})
			equalStrings(t, "organizations", e.organizations(), []string{"Acme|acme.com", "Beta|beta.io", "Gamma|gamma.org"})
			held, reread := preparedBatches(t)
			batches := (9 + batch - 1) / batch
			if held-held0 != batches || reread != reread0 {
				t.Errorf("read ahead held for %d batches and was read again for %d; want %d and 0",
					held-held0, reread-reread0, batches)
			}
		})
	}
}

// What an import read ahead no longer holds once another import wrote into the account since:
// the batch reads again under the account's lock. Two imports of the same emails in opposite
// orders, in batches of two, run at once: each email is created by one of them and matched by
// the other, never created twice (the unique email index would fail the import) and never
// missed. Both put their prospects in one list and a tag: what a batch wrote ahead for the
// prospects it was to create (their memberships, its outcomes) is taken back when it reads
// again, so every member is a prospect and every row has one outcome.
func TestReadAheadReadsAgainAfterAnotherWriter(t *testing.T) {
	// The imports must write between each other's read-ahead and write at least once for the
	// test to mean anything; on a busy machine one may finish before the other starts, so it
	// tries a few times, each in a fresh account.
	for attempt := 1; ; attempt++ {
		if importTwiceAtOnce(t) {
			return
		}
		if attempt == 3 {
			t.Fatal("no batch read again in 3 attempts: the two imports never wrote between each other's read-ahead and write")
		}
	}
}

// importTwiceAtOnce runs the two imports of TestReadAheadReadsAgainAfterAnotherWriter in a new
// account, checks their outcomes, and reports whether a batch was read again.
func importTwiceAtOnce(t *testing.T) bool {
	t.Helper()
	e := newEnv(t, -1)
	const n = 60
	var fwd, back strings.Builder
	fwd.WriteString("Email,First Name\n")
	back.WriteString("Email,First Name\n")
	for i := range n {
		fmt.Fprintf(&fwd, "p%02d@example.com,F%d\n", i, i)
		fmt.Fprintf(&back, "p%02d@example.com,B%d\n", n-1-i, n-1-i)
	}
	paths := []string{writeFile(t, "fwd.csv", fwd.String()), writeFile(t, "back.csv", back.String())}
	cfg := config.Default
	cfg.BatchSize = 2
	im := &importer.Importer{Pool: ownPool(t, 8), Config: cfg, Log: quietLog}
	_, reread0 := preparedBatches(t)
	var wg sync.WaitGroup
	sums := make([]importer.Summary, len(paths))
	errs := make([]error, len(paths))
	start := make(chan struct{})
	for k := range paths {
		wg.Go(func() {
			<-start
			opts := crm.Options{List: "both", Tags: []string{fmt.Sprintf("import %d", k)}}
			sums[k], errs[k] = im.RunNow(e.ctx, e.request(paths[k], opts), fmt.Sprintf("%s-%d", testOwner, k), false)
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for k := range paths {
		if errs[k] != nil {
			t.Fatalf("import %d: %v", k, errs[k])
		}
		if sums[k].Created+sums[k].Updated != n-sums[k].Unchanged || sums[k].Skipped != 0 {
			t.Errorf("import %d: %+v", k, sums[k].Counts)
		}
		created += sums[k].Created
	}
	if created != n || e.nProspects() != n || e.prospectCount() != n {
		t.Errorf("created %d, %d prospects, prospect_count %d; want %d each", created, e.nProspects(), e.prospectCount(), n)
	}
	members := e.count(`SELECT count(*) FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id
		JOIN prospects p ON p.id = m.prospect_id AND p.account_id = g.account_id WHERE g.account_id = $1`)
	all := e.count(`SELECT count(*) FROM grouping_members m JOIN groupings g ON g.id = m.grouping_id WHERE g.account_id = $1`)
	if members != 3*n || all != members { // each prospect in the list and in both tags
		t.Errorf("%d memberships, %d of them of prospects; want %d of prospects", all, members, 3*n)
	}
	if rows := e.nImportRows(); rows != 2*n {
		t.Errorf("%d row outcomes, want %d", rows, 2*n)
	}
	for k := range paths {
		var created, ofProspects int
		if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FILTER (WHERE r.outcome = 'created'), count(p.id)
			FROM import_rows r LEFT JOIN prospects p ON p.id = r.entity_id WHERE r.import_id = $1`, sums[k].ImportID).Scan(&created, &ofProspects); err != nil {
			t.Fatal(err)
		}
		if created != sums[k].Created || ofProspects != n {
			t.Errorf("import %d: %d rows created and %d of a prospect; want %d and %d", k, created, ofProspects, sums[k].Created, n)
		}
	}
	_, reread := preparedBatches(t)
	return reread > reread0
}

// A batch that Postgres ends to break a deadlock puts its import back in the queue, to resume
// from its checkpoint, instead of failing it. The other transaction here holds the outcome of
// the first batch's second row, then waits for its first, which the batch wrote ahead: what a
// worker that took the import's lease over does to the batches its old worker wrote ahead.
func TestDeadlockPutsTheImportBackInTheQueue(t *testing.T) {
	e := newEnv(t, -1)
	path := writeFile(t, "deadlock.csv", "Email\nann@acme.com\nbob@acme.com\ncat@acme.com\ndan@acme.com\n")
	imp, _, err := e.importer(2).Submit(e.ctx, e.request(path, crm.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.pool.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(e.ctx) //nolint:errcheck // rolled back below; this is for a failed test
	var otherPID int
	if err := other.QueryRow(e.ctx, "SELECT pg_backend_pid()").Scan(&otherPID); err != nil {
		t.Fatal(err)
	}
	hold := func(row int) error {
		_, err := other.Exec(e.ctx, "INSERT INTO import_outcome_rows (import_id, row_number, outcome) VALUES ($1, $2, 'created')", imp.ID, row)
		return err
	}
	if err := hold(3); err != nil {
		t.Fatal(err)
	}

	im := e.importer(2)
	im.Config.PollInterval = config.Duration(300 * time.Millisecond)
	type ran struct {
		sum importer.Summary
		err error
	}
	done := make(chan ran, 1)
	go func() {
		sum, err := im.Run(e.ctx, e.claim(imp.ID, "worker-1"), "worker-1")
		done <- ran{sum, err}
	}()
	// Once the batch waits for the other transaction, that one takes row 2: Postgres finds the
	// deadlock when the batch has waited deadlock_timeout, and ends the batch.
	for waiting := 0; waiting == 0; time.Sleep(10 * time.Millisecond) {
		if err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", otherPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := hold(2); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !store.RunAgain(r.err) || r.sum.Status != store.StatusQueued {
		t.Fatalf("Run: status %q, error %v; want queued after a deadlock", r.sum.Status, r.err)
	}
	if got := e.lastImport(); got.Status != store.StatusQueued {
		t.Fatalf("import: status %q, want queued", got.Status)
	}
	if err := other.Rollback(e.ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := e.importer(2).Run(e.ctx, e.claim(imp.ID, "worker-2"), "worker-2")
	if err != nil || sum.Status != store.StatusCompleted || sum.Created != 4 || e.nImportRows() != 4 {
		t.Fatalf("Run again: %+v, %v, %d outcomes; want the 4 rows created", sum, err, e.nImportRows())
	}
}
