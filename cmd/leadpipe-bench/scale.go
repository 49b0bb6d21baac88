package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/internal/thousands"
	"github.com/leadpipe/leadpipe/store"
)

// The scale step (-scale) measures issue 15's "cost grows with the work, not with what is
// stored": the bench file imported into a new account of a database that holds nothing else
// (the baseline), into an account that already holds -scale-prospects prospects, and into a new
// account of a database that holds -scale-accounts other accounts of -scale-account-prospects
// prospects each, -scale-indexed of them matching by phone, which puts them in the lookup
// indexes by phone (one index per group of up to 100 accounts). Every import creates the same prospects: the stored ones have emails the file
// does not hold.
//
// Each database is seeded once, by SQL, as a template (then VACUUM ANALYZE, as a long-lived
// database would be), and each import runs in a fresh copy of its template (CREATE DATABASE …
// TEMPLATE, a file copy): every round finds its account in the same state. The rounds alternate
// the three imports, and the goals compare the medians of their wall times.

var (
	scaleProspects        = flag.Int("scale-prospects", 5_000_000, "-scale: prospects the stored account holds before the import")
	scaleAccounts         = flag.Int("scale-accounts", 1000, "-scale: other accounts of the database the among-accounts import runs in")
	scaleAccountProspects = flag.Int("scale-account-prospects", 5000, "-scale: prospects each of those other accounts holds")
	scaleIndexed          = flag.Int("scale-indexed", 100, "-scale: how many of those accounts have a lookup index by phone (built by an import matching by phone)")
	scaleRounds           = flag.Int("scale-rounds", 3, "-scale: rounds of the three imports (empty, stored, among others); the goals compare medians")
	maxStoredRatio        = flag.Float64("max-stored-ratio", 1.20, "-scale target: highest acceptable import time into the stored account over the empty account's")
	maxAmongRatio         = flag.Float64("max-among-ratio", 1.10, "-scale target: highest acceptable import time into an account among the others over one alone")
)

// scaleCase is one of the compared imports: the template its database is copied from, the
// account it imports into and the prospects that account holds before, and its runs.
type scaleCase struct {
	name     string
	template string
	account  string // an account of the template; "" for a new account
	stored   int64
	runs     []scaleRun
}

// scaleRun is one import of the scale step, with the CPU time of the backends of its database.
type scaleRun struct {
	importRun
	dbCPU time.Duration
	io    []relationIO // the relations it read most from outside the shared buffers
}

// storedAccount is the name of the account that holds -scale-prospects prospects.
const storedAccount = "stored"

// scaleSizes are the sizes of the scale step's databases.
type scaleSizes struct {
	prospects        int // of the stored account
	accounts         int // the others of the among-accounts database
	accountProspects int // of each of those
	indexed          int // of those accounts with a lookup index by phone
	rounds           int
}

// benchScale runs the scale step and prints its goals.
func benchScale(ctx context.Context, bin, benchURL, path string, gen GenStats) int {
	sz := scaleSizes{*scaleProspects, *scaleAccounts, *scaleAccountProspects, *scaleIndexed, *scaleRounds}
	if sz.prospects <= 0 || sz.accounts <= 0 || sz.accountProspects < 0 || sz.indexed < 0 || sz.indexed > sz.accounts || sz.rounds <= 0 {
		fmt.Fprintln(os.Stderr, "leadpipe-bench: -scale-prospects, -scale-accounts and -scale-rounds must be positive, -scale-indexed at most -scale-accounts")
		return 2
	}
	if err := warmCache(path); err != nil {
		return fail(err)
	}
	cases, err := measureScale(ctx, bin, benchURL, path, gen, sz)
	if err != nil {
		return fail(err)
	}
	empty, stored, among := cases[0], cases[1], cases[2]
	wall := func(r scaleRun) float64 { return r.wall.Seconds() }
	cpu := func(r scaleRun) float64 { return (r.cpu + r.dbCPU).Seconds() }
	fmt.Printf("medians     %d round(s): wall / CPU of leadpipe + its database's backends\n", sz.rounds)
	for _, c := range cases {
		fmt.Printf("            %-22s %6.2f s / %6.1f s\n", c.name, median(c.runs, wall), median(c.runs, cpu))
	}
	fmt.Printf("CPU ratios  (less noisy than wall time; not goals) %s %.2fx, %s %.2fx\n",
		stored.name+" / empty", median(stored.runs, cpu)/median(empty.runs, cpu),
		among.name+" / alone", median(among.runs, cpu)/median(empty.runs, cpu))
	if sz.rounds > 1 {
		fmt.Printf("noise       the empty import's slowest / fastest run: %.2fx over %d runs\n",
			slices.MaxFunc(empty.runs, byWall).wall.Seconds()/slices.MinFunc(empty.runs, byWall).wall.Seconds(), sz.rounds)
	}
	var g goals
	g.ratio(stored.name+" / empty", median(stored.runs, wall), median(empty.runs, wall), *maxStoredRatio)
	g.ratio(among.name+" / alone", median(among.runs, wall), median(empty.runs, wall), *maxAmongRatio)
	return g.report()
}

// measureScale seeds the three templates, runs sz.rounds rounds of the three imports and
// drops every database it made. It fails when an import's counts are not what the file holds.
func measureScale(ctx context.Context, bin, benchURL, path string, gen GenStats, sz scaleSizes) (cases []*scaleCase, err error) {
	admin, err := pgx.Connect(ctx, benchURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close(context.Background())
	u, err := url.Parse(benchURL)
	if err != nil {
		return nil, err
	}
	base := strings.TrimPrefix(u.Path, "/") + "_scale_"
	dbURL := func(name string) string {
		v := *u
		v.Path = "/" + name
		return v.String()
	}
	cases = []*scaleCase{
		{name: "empty", template: base + "empty"},
		{name: short(sz.prospects) + " account", template: base + "stored", account: storedAccount, stored: int64(sz.prospects)},
		{name: thousands.Format(int64(sz.accounts)) + " accounts", template: base + "among"},
	}
	clone := base + "run"
	dbs := []string{cases[0].template, cases[1].template, cases[2].template, clone}
	defer func() {
		for _, db := range dbs {
			err = errors.Join(err, dropDatabase(context.Background(), admin, db))
		}
	}()
	for _, db := range dbs {
		if err := dropDatabase(ctx, admin, db); err != nil {
			return nil, err
		}
	}

	seeds := []func(context.Context, string) (string, error){
		func(context.Context, string) (string, error) { return "nothing but the schema", nil },
		func(ctx context.Context, url string) (string, error) { return seedStored(ctx, bin, url, sz.prospects) },
		func(ctx context.Context, url string) (string, error) { return seedAmong(ctx, bin, url, sz) },
	}
	for _, c := range cases { // on the admin connection, one at a time
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(c.template)); err != nil {
			return nil, err
		}
	}
	// The templates are seeded side by side: the seeding is not measured, and it takes minutes.
	seeded := make([]string, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for k, c := range cases {
		wg.Go(func() {
			t0 := time.Now()
			env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL(c.template))
			if _, errs[k] = runQuiet(ctx, env, bin, "migrate"); errs[k] != nil {
				return
			}
			what, err := seeds[k](ctx, dbURL(c.template))
			if err != nil {
				errs[k] = fmt.Errorf("seed %s: %w", c.template, err)
				return
			}
			seeded[k] = fmt.Sprintf("seeded      %-22s %s in %.1f s", c.name+":", what, time.Since(t0).Seconds())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for k, c := range cases {
		// No one connects to a template any more, autovacuum included: each copy starts from
		// the same files.
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(c.template)+" WITH ALLOW_CONNECTIONS false"); err != nil {
			return nil, err
		}
		fmt.Println(seeded[k])
	}

	for round := range sz.rounds {
		for k := range cases {
			c := cases[(round+k)%len(cases)] // each round starts one case later
			run, err := scaleImport(ctx, admin, bin, clone, dbURL(clone), path, gen, c)
			if err != nil {
				return cases, fmt.Errorf("round %d, %s: %w", round+1, c.name, err)
			}
			c.runs = append(c.runs, run)
			fmt.Printf("round %d     %-22s %6.2f s wall; CPU leadpipe %4.1f s, Postgres %4.1f s (its database's backends %4.1f s); load average %s\n",
				round+1, c.name, run.wall.Seconds(), run.cpu.Seconds(), run.pgCPU.Seconds(), run.dbCPU.Seconds(), loadAverage())
			fmt.Printf("            blocks read into the shared buffers, new ones included (and hits): %s\n", joinIO(run.io))
		}
	}
	return cases, nil
}

// scaleImport copies c's template into the database clone, imports the file into c's account
// there (a new one when c names none), checks the counts and drops the copy.
func scaleImport(ctx context.Context, admin *pgx.Conn, bin, clone, cloneURL, path string, gen GenStats, c *scaleCase) (scaleRun, error) {
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(clone)+" TEMPLATE "+ident(c.template)+" STRATEGY FILE_COPY"); err != nil {
		return scaleRun{}, err
	}
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+cloneURL)
	account := c.account
	if account == "" {
		account = "new"
		if _, err := runQuiet(ctx, env, bin, "account", "create", account); err != nil {
			return scaleRun{}, err
		}
	}
	var run scaleRun
	db := sampleDatabaseCPU(clone)
	var err error
	run.importRun, err = runImport(ctx, env, bin, path, account)
	run.dbCPU = db.Stop()
	if err != nil {
		return run, err
	}
	if bad := checkCounts(os.Stdout, run.res, gen); len(bad) > 0 {
		return run, fmt.Errorf("the import's counts differ from the file's: %s", strings.Join(bad, ", "))
	}
	conn, err := pgx.Connect(ctx, cloneURL)
	if err != nil {
		return run, err
	}
	defer conn.Close(context.Background())
	if err := waitAlone(ctx, conn); err != nil {
		return run, err
	}
	if run.io, err = relationReads(ctx, conn, 4); err != nil {
		return run, err
	}
	if err := checkProspectCount(ctx, conn, account, c.stored+run.res.Created); err != nil {
		return run, err
	}
	conn.Close(ctx)
	return run, dropDatabase(ctx, admin, clone)
}

// waitAlone waits until conn is the only client connected to its database: the backends of the
// import have then exited, and their statistics are counted (a backend flushes them as it
// exits). An autovacuum worker may still be there; what it read is counted too.
func waitAlone(ctx context.Context, conn *pgx.Conn) error {
	for range 100 {
		var others int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the import's connections to its database are still open 5 s after it ended")
}

// relationIO is what the backends of a database read of one table or index: blocks found in
// Postgres's shared buffers (hit) and blocks not found there (read: from the kernel's page
// cache or the disk, and the new blocks the relation grew by).
type relationIO struct {
	name      string
	read, hit int64
}

func (r relationIO) String() string {
	return fmt.Sprintf("%s %s (%s)", r.name, thousands.Format(r.read), thousands.Format(r.hit))
}

// relationReads returns the n tables and indexes of conn's database of which the most blocks
// were read from outside the shared buffers: in a copy made for an import, where the import
// missed Postgres's cache.
func relationReads(ctx context.Context, conn *pgx.Conn, n int) ([]relationIO, error) {
	rows, err := conn.Query(ctx, `SELECT relname, coalesce(heap_blks_read, 0), coalesce(heap_blks_hit, 0) FROM pg_statio_user_tables
		UNION ALL SELECT indexrelname, idx_blks_read, idx_blks_hit FROM pg_statio_user_indexes
		ORDER BY 2 DESC, 3 DESC, 1 LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	var io []relationIO
	for rows.Next() {
		var r relationIO
		if err := rows.Scan(&r.name, &r.read, &r.hit); err != nil {
			return nil, err
		}
		io = append(io, r)
	}
	return io, rows.Err()
}

// checkProspectCount checks that the account holds want prospects and that its
// prospect_count, which the limit logic reads, says so.
func checkProspectCount(ctx context.Context, conn *pgx.Conn, account string, want int64) error {
	var count, rows int64
	if err := conn.QueryRow(ctx, `SELECT prospect_count, (SELECT count(*) FROM prospects p WHERE p.account_id = a.id)
		FROM accounts a WHERE name = $1`, account).Scan(&count, &rows); err != nil {
		return err
	}
	if count != want || rows != want {
		return fmt.Errorf("account %s: prospect_count %d, prospects %d; want %d", account, count, rows, want)
	}
	return nil
}

// seedStored creates the account storedAccount with n prospects.
func seedStored(ctx context.Context, bin, dbURL string, n int) (string, error) {
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL)
	if _, err := runQuiet(ctx, env, bin, "account", "create", storedAccount); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var id int64
	if err := conn.QueryRow(ctx, "SELECT id FROM accounts WHERE name = $1", storedAccount).Scan(&id); err != nil {
		return "", err
	}
	if err := seedProspects(ctx, conn, []int64{id}, n); err != nil {
		return "", err
	}
	return fmt.Sprintf("one account of %s prospects and %s organizations", thousands.Format(int64(n)), thousands.Format(int64(orgsFor(n)))), nil
}

// seedAmong creates sz.accounts accounts of sz.accountProspects prospects each; sz.indexed of
// them, spread among the others, first import a few rows matching by phone, which builds their
// lookup index by phone the way any such import does (while the table is still small).
func seedAmong(ctx context.Context, bin, dbURL string, sz scaleSizes) (string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "INSERT INTO accounts (name) SELECT 'other-' || n FROM generate_series(1, $1) n RETURNING id", sz.accounts)
	if err != nil {
		return "", err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return "", err
	}
	t0 := time.Now()
	if err := importMatchingByPhone(ctx, bin, dbURL, conn, sz.accounts, sz.indexed); err != nil {
		return "", err
	}
	byPhone := time.Since(t0)
	if err := seedProspects(ctx, conn, ids, sz.accountProspects); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s accounts of %s prospects and %s organizations, %d of them with a lookup index by phone (their imports: %.1f s)",
		thousands.Format(int64(sz.accounts)), thousands.Format(int64(sz.accountProspects)),
		thousands.Format(int64(orgsFor(sz.accountProspects))), sz.indexed, byPhone.Seconds()), nil
}

// phoneRows is the file the accounts with a lookup index import, matching by phone.
const phoneRows = "Email,First Name,Last Name,Phone\n" +
	"ada@phone-match.example,Ada,Lovelace,+1 555 0100 001\n" +
	"alan@phone-match.example,Alan,Turing,+1 555 0100 002\n" +
	"grace@phone-match.example,Grace,Hopper,+1 555 0100 003\n"

// phoneRowCount is how many prospects an import of phoneRows creates.
const phoneRowCount = 3

// importMatchingByPhone imports phoneRows, matching by phone, into n of the accounts other-1 …
// other-<accounts>, spread evenly among them, and checks that each import built its account's
// lookup index.
func importMatchingByPhone(ctx context.Context, bin, dbURL string, conn *pgx.Conn, accounts, n int) error {
	if n == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "leadpipe-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file, opts := filepath.Join(dir, "by-phone.csv"), filepath.Join(dir, "options.json")
	if err := os.WriteFile(file, []byte(phoneRows), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(opts, []byte(`{"unique_identifier": "phone"}`), 0o644); err != nil {
		return err
	}
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+dbURL)
	for k := range n {
		account := "other-" + strconv.Itoa(1+k*accounts/n)
		run, err := runImport(ctx, env, bin, file, account, "--options", opts)
		if err != nil {
			return err
		}
		if run.res.Created != phoneRowCount {
			return fmt.Errorf("the import matching by phone created %d prospects, want %d", run.res.Created, phoneRowCount)
		}
	}
	var covered, indexes int
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(cardinality(account_ids)), 0) FROM lookup_indexes
		WHERE table_name = 'prospects' AND lookup = 'by_phone'`).Scan(&covered); err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes i JOIN pg_index x ON x.indexrelid = to_regclass(quote_ident(i.indexname))
		WHERE i.tablename = 'prospects' AND i.indexname ~ '^prospects_by_phone_g[0-9]+_[0-9]+$' AND x.indisvalid`).Scan(&indexes); err != nil {
		return err
	}
	if want := (n + 99) / 100; covered != n || indexes != want {
		return fmt.Errorf("%d valid lookup indexes by phone covering %d accounts after %d imports matching by phone, want %d covering each",
			indexes, covered, n, want)
	}
	return nil
}

// orgsFor is how many organizations an account of n seeded prospects has: one for 50
// prospects, a third of which link to one.
func orgsFor(n int) int { return max(1, n/50) }

// seedProspects gives each account n prospects and orgsFor(n) organizations, written by SQL
// with ids taken from the sequences leadpipe takes them from, and counts them in the accounts'
// prospect_count; then it runs VACUUM ANALYZE, as a long-lived database would have. The
// prospects look like the bench file's (the same columns, of about the same widths), but
// their emails and organization names are none of the file's, so an import of it into one of
// these accounts creates the same prospects and organizations as into an empty one.
func seedProspects(ctx context.Context, conn store.Querier, accounts []int64, n int) error {
	orgs := orgsFor(n)
	firstOrg, err := takeIDs(ctx, conn, "organization_id_blocks", int64(len(accounts)*orgs))
	if err != nil {
		return err
	}
	firstProspect, err := takeIDs(ctx, conn, "prospect_id_blocks", int64(len(accounts)*n))
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, seedOrganizationsSQL, accounts, orgs, firstOrg); err != nil {
		return fmt.Errorf("seed organizations: %w", err)
	}
	if _, err := conn.Exec(ctx, seedProspectsSQL, accounts, n, firstProspect, orgs, firstOrg); err != nil {
		return fmt.Errorf("seed prospects: %w", err)
	}
	if _, err := conn.Exec(ctx, "UPDATE accounts SET prospect_count = prospect_count + $2 WHERE id = ANY($1)", accounts, n); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "VACUUM ANALYZE")
	return err
}

// takeIDs takes n ids of a *_id_blocks sequence, in blocks of store.IDBlock as store.NextIDs
// does, and returns the first: the ids first … first+n-1 are then the caller's.
func takeIDs(ctx context.Context, conn store.Querier, sequence string, n int64) (int64, error) {
	var first int64
	if err := conn.QueryRow(ctx, "SELECT nextval($1::regclass)", sequence).Scan(&first); err != nil {
		return 0, err
	}
	if blocks := (n + store.IDBlock - 1) / store.IDBlock; blocks > 1 {
		if _, err := conn.Exec(ctx, "SELECT setval($1::regclass, $2)", sequence, first+(blocks-1)*store.IDBlock); err != nil {
			return 0, err
		}
	}
	return first, nil
}

// seedOrganizationsSQL writes $2 organizations for each account of $1, with ids from $3 on:
// "Stored Works <j> Ltd", whose name key is "stored works <j>", and domain storedworks<j>.example.
const seedOrganizationsSQL = `
INSERT INTO organizations (id, account_id, name, name_key, domain, website)
SELECT $3 + (a.k - 1) * $2 + j, a.id, 'Stored Works ' || j || ' Ltd', 'stored works ' || j,
       'storedworks' || j || '.example', 'https://www.storedworks' || j || '.example'
FROM unnest($1::bigint[]) WITH ORDINALITY AS a(id, k), generate_series(0, $2 - 1) AS j`

// seedProspectsSQL writes $2 prospects for each account of $1, with ids from $3 on; every
// third links to one of the account's $4 organizations (ids from $5 on). Emails are
// first.last<i>@stored-<i % 7>.example: unique in the account, and in no bench file.
const seedProspectsSQL = `
INSERT INTO prospects (id, account_id, email, first_name, last_name, title, phone, mobile, website,
                       street, city, state, postal_code, country, lead_source, organization_id, created_at, updated_at)
SELECT $3 + (a.k - 1) * $2 + i, a.id,
       lower(v.first) || '.' || lower(v.last) || i || '@stored-' || i % 7 || '.example',
       v.first, v.last, v.title,
       '+1 ' || 200 + i % 800 || ' ' || lpad((i * 7 % 1000)::text, 3, '0') || ' ' || lpad((i % 10000)::text, 4, '0'),
       CASE WHEN i % 2 = 0 THEN '(' || 300 + i % 600 || ') ' || lpad((i * 13 % 1000)::text, 3, '0') || '-' || lpad((i * 3 % 10000)::text, 4, '0') END,
       CASE WHEN i % 3 = 0 THEN 'https://www.storedworks' || (i / 3) % $4 || '.example' END,
       100 + i % 9900 || ' ' || v.street, v.city, v.state, v.postal, v.country, v.source,
       CASE WHEN i % 3 = 0 THEN $5 + (a.k - 1) * $4 + (i / 3) % $4 END,
       now() - i * interval '1 minute', now() - i * interval '1 minute'
FROM unnest($1::bigint[]) WITH ORDINALITY AS a(id, k)
CROSS JOIN generate_series(0, $2 - 1) AS i
CROSS JOIN LATERAL (SELECT
       (ARRAY['Anna','Sarah','Shirley','Kathleen','James','Robert','Maria','David','Linda','Michael','Wei','Priya',
              'Carlos','Fatima','Olga','Kenji','Amara','Lucas','Sofia','Ahmed','Emma','Noah','Chloe','Mateo'])[1 + i % 24] AS first,
       (ARRAY['Kowalski','Allen','Jackson','Ruiz','Smith','Johnson','Garcia','Brown','Miller','Davis','Martinez','Lopez',
              'Wilson','Anderson','Thomas','Taylor','Moore','Martin','Lee','Thompson','White','Harris','Clark','Lewis',
              'Robinson','Walker','Young','King','Wright','Scott'])[1 + (i / 24) % 30] AS last,
       (ARRAY['CTO','VP Sales','Business Development Manager','Sales Manager','Chief Executive Officer','Account Executive',
              'Marketing Director','Head of Operations','Software Engineer','Procurement Lead','CFO'])[1 + i % 11] AS title,
       (ARRAY['Washington Blvd','Highland Ave','Technology Dr','Cedar Ln','Main St','Oak Street','Park Avenue','Elm Road'])[1 + i % 8] AS street,
       (ARRAY['Portland','San Francisco','Toronto','New York','Chicago','Austin','Boston','Vancouver','Seattle'])[1 + i % 9] AS city,
       (ARRAY['OR','CA','ON','NY','IL','TX','MA','BC','WA'])[1 + i % 9] AS state,
       (ARRAY['97222','94141','M5V 2T6','10082','60614','73301','02108','V6B 1A1','98101'])[1 + i % 9] AS postal,
       (ARRAY['United States','United States','Canada','United States','United States','United States','United States',
              'Canada','United States'])[1 + i % 9] AS country,
       (ARRAY['Cold Call','Web Form','Webinar','Referral','Trade Show'])[1 + i % 5] AS source) v`

// dropDatabase drops the database name if it exists. A plain DROP DATABASE ends the autovacuum
// workers in it by itself; it fails while a connection lingers, so it is tried for a few
// seconds.
func dropDatabase(ctx context.Context, admin *pgx.Conn, name string) error {
	var err error
	for range 50 {
		if _, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// joinIO lists relations' reads.
func joinIO(io []relationIO) string {
	s := make([]string, len(io))
	for k, r := range io {
		s[k] = r.String()
	}
	return strings.Join(s, ", ")
}

// ident is name quoted as an SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// short writes a count the way the goals name sizes: 5M, 50k, 999.
func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return thousands.Format(int64(n))
}

// median is the median of f over the runs.
func median(runs []scaleRun, f func(scaleRun) float64) float64 {
	xs := make([]float64, len(runs))
	for k, r := range runs {
		xs[k] = f(r)
	}
	return medianOf(xs)
}

// medianOf is the median of xs, which it sorts.
func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// byWall orders runs by wall time.
func byWall(a, b scaleRun) int { return cmp.Compare(a.wall, b.wall) }

// loadAverage is the machine's load average over the last minute, as /proc/loadavg gives it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
