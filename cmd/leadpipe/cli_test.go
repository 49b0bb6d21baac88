package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/internal/freeport"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// cliEnv points the command line at the test database and returns a pool on it. Analytics are
// off unless a test turns them on.
func cliEnv(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := storetest.Pool(t)
	t.Setenv("LEADPIPE_POSTGRES_URL", storetest.URL())
	t.Setenv("LEADPIPE_CONFIG", "")
	t.Setenv("LEADPIPE_CLICKHOUSE_ADDR", "")
	return pool
}

// cli runs the command line with args and returns what it wrote and its error.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustCLI runs the command line and fails the test on an error.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := cli(t, args...)
	if err != nil {
		t.Fatalf("leadpipe %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// uniqueName is a name no other test or run uses.
func uniqueName(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
}

func writeTestFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// oneJSON decodes stdout, which must hold exactly one JSON object and nothing else.
func oneJSON(t *testing.T, stdout string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	rest, _ := io.ReadAll(dec.Buffered())
	if strings.TrimSpace(string(rest)) != "" || dec.More() {
		t.Fatalf("stdout holds more than one JSON object:\n%s", stdout)
	}
	return m
}

// jsonInt returns the integer at key.
func jsonInt(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("%s = %#v, want a number", key, m[key])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s = %s, want an integer", key, n)
	}
	return i
}

// jsonCounts returns the object at key as a map of integers.
func jsonCounts(t *testing.T, m map[string]any, key string) map[string]int64 {
	t.Helper()
	obj, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s = %#v, want an object", key, m[key])
	}
	out := map[string]int64{}
	for k := range obj {
		out[k] = jsonInt(t, obj, k)
	}
	return out
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func accountID(t *testing.T, pool *pgxpool.Pool, name string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), "SELECT id FROM accounts WHERE name = $1", name).Scan(&id); err != nil {
		t.Fatalf("account %q: %v", name, err)
	}
	return id
}

// nothingWritten checks that the account has no import, prospect, organization or grouping.
func nothingWritten(t *testing.T, pool *pgxpool.Pool, acct int64) {
	t.Helper()
	for _, table := range []string{"imports", "prospects", "organizations", "groupings"} {
		if n := count(t, pool, "SELECT count(*) FROM "+table+" WHERE account_id = $1", acct); n != 0 {
			t.Errorf("%d rows in %s for the account; want nothing written", n, table)
		}
	}
	if n := count(t, pool, "SELECT prospect_count FROM accounts WHERE id = $1", acct); n != 0 {
		t.Errorf("account prospect_count = %d, want 0", n)
	}
}

func TestCLIMigrateTwice(t *testing.T) {
	pool := cliEnv(t)
	first := mustCLI(t, "migrate")
	if first != "schema is up to date\n" && !strings.HasPrefix(first, "applied migrations [") {
		t.Fatalf("first migrate printed %q", first)
	}
	versions := count(t, pool, "SELECT count(*) FROM schema_migrations")
	if second := mustCLI(t, "migrate"); second != "schema is up to date\n" {
		t.Fatalf("second migrate printed %q, want %q", second, "schema is up to date\n")
	}
	if n := count(t, pool, "SELECT count(*) FROM schema_migrations"); n != versions || n < 1 {
		t.Fatalf("schema_migrations has %d rows after the second migrate, %d before", n, versions)
	}
}

func TestCLIAccountUserField(t *testing.T) {
	pool := cliEnv(t)
	ctx := context.Background()
	name := uniqueName(t)

	out := mustCLI(t, "account", "create", name, "--prospect-limit", "5")
	id := accountID(t, pool, name)
	if want := fmt.Sprintf("account %q (id %d)\n", name, id); out != want {
		t.Errorf("account create printed %q, want %q", out, want)
	}
	var limit *int64
	if err := pool.QueryRow(ctx, "SELECT prospect_limit FROM accounts WHERE id = $1", id).Scan(&limit); err != nil || limit == nil || *limit != 5 {
		t.Errorf("prospect_limit = %v (err %v), want 5", limit, err)
	}
	if _, _, err := cli(t, "account", "create", name); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("creating %q again: %v, want an already-exists error", name, err)
	}
	if out := mustCLI(t, "account", "create", "--exists-ok", name); out != fmt.Sprintf("account %q (id %d)\n", name, id) {
		t.Errorf("account create --exists-ok printed %q", out)
	}
	unlimited := uniqueName(t)
	mustCLI(t, "account", "create", unlimited)
	if err := pool.QueryRow(ctx, "SELECT prospect_limit FROM accounts WHERE name = $1", unlimited).Scan(&limit); err != nil || limit != nil {
		t.Errorf("account without --prospect-limit: limit %v (err %v), want none", limit, err)
	}
	if _, _, err := cli(t, "account", "create"); err == nil || !strings.Contains(err.Error(), "usage: leadpipe account create NAME") {
		t.Errorf("account create without a name: %v", err)
	}

	out = mustCLI(t, "user", "add", "--account", name, "--username", "jdoe", "--email", "jane@corp.example", "--full-name", "Jane Doe")
	var uid int64
	var email, full string
	if err := pool.QueryRow(ctx, "SELECT id, email, full_name FROM users WHERE account_id = $1 AND username = 'jdoe'", id).Scan(&uid, &email, &full); err != nil {
		t.Fatalf("user jdoe: %v", err)
	}
	if want := fmt.Sprintf("user %q (id %d) in account %q\n", "jdoe", uid, name); out != want {
		t.Errorf("user add printed %q, want %q", out, want)
	}
	if email != "jane@corp.example" || full != "Jane Doe" {
		t.Errorf("user stored as %q, %q", email, full)
	}
	if _, _, err := cli(t, "user", "add", "--account", name, "--email", "x@y.io"); err == nil || !strings.Contains(err.Error(), "--username is required") {
		t.Errorf("user add without --username: %v", err)
	}
	if _, _, err := cli(t, "user", "add", "--account", name+"-missing", "--username", "u"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("user add into a missing account: %v", err)
	}

	out = mustCLI(t, "field", "add", "--account", name, "--key", "tier", "--label", "Tier", "--type", "picklist", "--options", "a;b")
	if want := fmt.Sprintf("field %q (picklist) in account %q\n", "tier", name); out != want {
		t.Errorf("field add printed %q, want %q", out, want)
	}
	var typ string
	var opts []string
	var maxLen int
	if err := pool.QueryRow(ctx, "SELECT type, options, max_length FROM fields WHERE account_id = $1 AND key = 'tier'", id).Scan(&typ, &opts, &maxLen); err != nil {
		t.Fatalf("field tier: %v", err)
	}
	if typ != "picklist" || !slices.Equal(opts, []string{"a", "b"}) || maxLen != 255 {
		t.Errorf("field tier stored as %q %q max %d, want picklist [a b] max 255", typ, opts, maxLen)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "colour", "--label", "Colour", "--type", "colour"}, `unknown type "colour"`},
		{[]string{"--key", "size", "--label", "Size", "--type", "picklist"}, "needs options"},
		{[]string{"--key", "email", "--label", "E", "--type", "text"}, "standard field"},
		{[]string{"--key", "tier", "--label", "Tier", "--type", "picklist", "--options", "x"}, "already exists"},
		{[]string{"--key", "Bad Key", "--label", "B"}, `field key "Bad Key"`},
	} {
		args := append([]string{"field", "add", "--account", name}, tc.args...)
		if _, _, err := cli(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("leadpipe %s: error %v, want one containing %q", strings.Join(args, " "), err, tc.want)
		}
	}
	if n := count(t, pool, "SELECT count(*) FROM fields WHERE account_id = $1", id); n != 1 {
		t.Errorf("%d custom fields, want only tier", n)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	cliEnv(t)
	out, _, err := cli(t)
	if err != nil || !strings.HasPrefix(out, "leadpipe imports CRM lists") {
		t.Errorf("no arguments: %v, stdout %q", err, out)
	}
	if _, stderr, err := cli(t, "frobnicate", "x"); err == nil || err.Error() != `unknown command "frobnicate x"` || !strings.Contains(stderr, "Usage:") {
		t.Errorf("unknown command: %v, stderr %q", err, stderr)
	}
	f := writeTestFile(t, "a.csv", []byte("email\na@b.io\n"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", f}, "--account is required"},
		{[]string{"import", "--account", "x"}, "usage: leadpipe import FILE"},
		{[]string{"import", f, f, "--account", "x"}, "usage: leadpipe import FILE"},
		{[]string{"import", f, "--account", "x", "--queue", "--dry-run"}, "--queue and --dry-run do not go together"},
		{[]string{"import", f, "--acount", "x"}, "flag provided but not defined: -acount"},
	} {
		if out, _, err := cli(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("leadpipe %s: %v (stdout %q), want an error containing %q and no output", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
}

// setupImportAccount creates, through the command line, an account with a prospect limit of
// 5, the user jdoe and the picklist field tier (a;b).
func setupImportAccount(t *testing.T) (name string, id, jdoe int64) {
	t.Helper()
	pool := cliEnv(t)
	name = uniqueName(t)
	mustCLI(t, "account", "create", name, "--prospect-limit", "5")
	mustCLI(t, "user", "add", "--account", name, "--username", "jdoe", "--email", "jane@corp.example", "--full-name", "Jane Doe")
	mustCLI(t, "field", "add", "--account", name, "--key", "tier", "--label", "Tier", "--type", "picklist", "--options", "a;b")
	id = accountID(t, pool, name)
	if err := pool.QueryRow(context.Background(), "SELECT id FROM users WHERE account_id = $1", id).Scan(&jdoe); err != nil {
		t.Fatal(err)
	}
	return name, id, jdoe
}

const summaryCSV = "Email,First Name,Last Name,Company,Lead Owner,Tier,Email Opt In\n" +
	"ann@acme.example,Ann,Able,Acme Inc,jdoe,A,yes\n" + // 2 created
	"bob@acme.example,Bob,Best,Acme,ghost,c,maybe\n" + // 3 created, three warnings
	"not-an-email,Cy,Coe,,,,\n" + // 4 skipped invalid_email
	",,,Lonely Org,,,\n" + // 5 skipped missing_identifier
	"ann@ACME.example,Annie,,,,b,\n" + // 6 updated: the prospect row 2 created
	"dee@acme.example,Dee,Dunn,,,,\n" + // 7 created
	"DEE@acme.example,Dee,Dunn,,,,\n" // 8 unchanged

func TestCLIImportSummary(t *testing.T) {
	pool := cliEnv(t)
	ctx := context.Background()
	name, acct, jdoe := setupImportAccount(t)
	file := writeTestFile(t, "prospects.csv", []byte(summaryCSV))

	// Flags after the FILE positional.
	stdout, stderr, err := cli(t, "import", file, "--account", name)
	if err != nil {
		t.Fatalf("import: %v\nstderr: %s", err, stderr)
	}
	m := oneJSON(t, stdout)
	keys := []string{"import_id", "kind", "status", "rows", "created", "updated", "unchanged", "skipped", "skipped_by_reason",
		"warnings_by_kind", "organizations_created", "organizations_linked", "over_limit_warning", "unmapped_columns", "duration_ms"}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("summary has no key %q: %s", k, stdout)
		}
	}
	for k := range m {
		if !slices.Contains(keys, k) {
			t.Errorf("summary has unexpected key %q: %s", k, stdout)
		}
	}
	var importID, rowsTotal int64
	var status, source, fileName string
	if err := pool.QueryRow(ctx, "SELECT id, status, source, file_name, rows_total FROM imports WHERE account_id = $1", acct).
		Scan(&importID, &status, &source, &fileName, &rowsTotal); err != nil {
		t.Fatalf("the import's record: %v", err)
	}
	if got := jsonInt(t, m, "import_id"); got != importID {
		t.Errorf("import_id = %d, want %d", got, importID)
	}
	if m["kind"] != "prospects" { // the default kind
		t.Errorf("kind = %v, want prospects", m["kind"])
	}
	if m["status"] != "completed" || status != "completed" || source != "cli" || fileName != "prospects.csv" || rowsTotal != 7 {
		t.Errorf("status %v, record: status %q source %q file %q rows_total %d", m["status"], status, source, fileName, rowsTotal)
	}
	for k, want := range map[string]int64{"rows": 7, "created": 3, "updated": 1, "unchanged": 1, "skipped": 2,
		"organizations_created": 1, "organizations_linked": 2} {
		if got := jsonInt(t, m, k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	if got, want := jsonCounts(t, m, "skipped_by_reason"), map[string]int64{"invalid_email": 1, "missing_identifier": 1}; !equalCounts(got, want) {
		t.Errorf("skipped_by_reason = %v, want %v", got, want)
	}
	if got, want := jsonCounts(t, m, "warnings_by_kind"), map[string]int64{"owner_not_found": 1, "invalid_picklist_value": 1, "invalid_boolean": 1}; !equalCounts(got, want) {
		t.Errorf("warnings_by_kind = %v, want %v", got, want)
	}
	if m["over_limit_warning"] != true { // 0 prospects + 7 data rows > limit 5
		t.Errorf("over_limit_warning = %v, want true", m["over_limit_warning"])
	}
	if u, ok := m["unmapped_columns"].([]any); m["unmapped_columns"] != nil && (!ok || len(u) != 0) {
		t.Errorf("unmapped_columns = %v, want none", m["unmapped_columns"])
	}
	if d := jsonInt(t, m, "duration_ms"); d < 0 || d > 60000 {
		t.Errorf("duration_ms = %d", d)
	}

	// What was written.
	type prospect struct {
		first, last string
		owner       *int64
		optIn       *bool
		tier        *string
		org         *int64
	}
	got := map[string]prospect{}
	rows, err := pool.Query(ctx, `SELECT email, coalesce(first_name, ''), coalesce(last_name, ''), lead_owner_id, email_opt_in,
		custom->>'tier', organization_id FROM prospects WHERE account_id = $1`, acct)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var email string
		var p prospect
		if err := rows.Scan(&email, &p.first, &p.last, &p.owner, &p.optIn, &p.tier, &p.org); err != nil {
			t.Fatal(err)
		}
		got[email] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("prospects = %v, want ann@acme.example, bob@acme.example and dee@acme.example", got)
	}
	ann, bob, dee := got["ann@acme.example"], got["bob@acme.example"], got["dee@acme.example"]
	if ann.first != "Annie" || ann.last != "Able" || ann.owner == nil || *ann.owner != jdoe || ann.optIn == nil || !*ann.optIn ||
		ann.tier == nil || *ann.tier != "b" || ann.org == nil {
		t.Errorf("ann = %+v, want Annie Able, owner %d, opted in, tier b, an organization", ann, jdoe)
	}
	if bob.first != "Bob" || bob.owner != nil || bob.optIn != nil || bob.tier != nil || bob.org == nil || *bob.org != *ann.org {
		t.Errorf("bob = %+v, want Bob with no owner, opt-in or tier, and Ann's organization", bob)
	}
	if dee.first != "Dee" || dee.last != "Dunn" || dee.org != nil {
		t.Errorf("dee = %+v", dee)
	}
	var orgName, orgDomain string
	if err := pool.QueryRow(ctx, "SELECT name, coalesce(domain, '') FROM organizations WHERE account_id = $1", acct).Scan(&orgName, &orgDomain); err != nil {
		t.Fatalf("the one organization: %v", err)
	}
	if orgName != "Acme Inc" || orgDomain != "acme.example" {
		t.Errorf("organization = %q %q, want \"Acme Inc\" acme.example", orgName, orgDomain)
	}
	if n := count(t, pool, "SELECT prospect_count FROM accounts WHERE id = $1", acct); n != 3 {
		t.Errorf("account prospect_count = %d, want 3", n)
	}
	var outcomes []string
	rows, _ = pool.Query(ctx, "SELECT row_number || ':' || outcome || coalesce(':' || reason, '') FROM import_rows WHERE import_id = $1 ORDER BY row_number", importID)
	outcomes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	want := []string{"2:created", "3:created", "4:skipped:invalid_email", "5:skipped:missing_identifier", "6:updated", "7:created", "8:unchanged"}
	if err != nil || !slices.Equal(outcomes, want) {
		t.Errorf("row outcomes = %v (err %v), want %v", outcomes, err, want)
	}
	var cells []string
	if err := pool.QueryRow(ctx, "SELECT cells FROM import_rows WHERE import_id = $1 AND row_number = 4", importID).Scan(&cells); err != nil ||
		len(cells) < 3 || cells[0] != "not-an-email" || cells[2] != "Coe" {
		t.Errorf("skipped row 4 cells = %q (err %v), want the original cells", cells, err)
	}
}

func TestCLIImportOverLimit(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t) // limit 5
	var b strings.Builder
	b.WriteString("email\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "p%d@limit.example\n", i)
	}
	b.WriteString("p1@limit.example\n") // an update still applies at the limit
	file := writeTestFile(t, "limit.csv", []byte(b.String()))
	m := oneJSON(t, mustCLI(t, "import", "--account", name, file)) // flags before FILE
	for k, want := range map[string]int64{"rows": 8, "created": 5, "updated": 0, "unchanged": 1, "skipped": 2} {
		if got := jsonInt(t, m, k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	if got := jsonCounts(t, m, "skipped_by_reason"); !equalCounts(got, map[string]int64{"over_limit": 2}) {
		t.Errorf("skipped_by_reason = %v, want over_limit 2", got)
	}
	if m["over_limit_warning"] != true {
		t.Errorf("over_limit_warning = %v, want true", m["over_limit_warning"])
	}
	if n := count(t, pool, "SELECT count(*) FROM prospects WHERE account_id = $1", acct); n != 5 {
		t.Errorf("%d prospects, want 5 (the limit)", n)
	}
}

func TestCLIImportDryRun(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	file := writeTestFile(t, "dry.csv", []byte(summaryCSV))
	opts := writeTestFile(t, "opts.json", []byte(`{"list": "Dry List", "tags": ["t1"], "campaign": "C", "lead_source": "Dry"}`))
	stdout, stderr, err := cli(t, "import", "--dry-run", file, "--account", name, "--options", opts)
	if err != nil {
		t.Fatalf("import --dry-run: %v\nstderr: %s", err, stderr)
	}
	m := oneJSON(t, stdout)
	if m["status"] != "completed" || m["dry_run"] != true {
		t.Errorf("status %v dry_run %v, want completed true", m["status"], m["dry_run"])
	}
	if _, ok := m["import_id"]; ok {
		t.Errorf("a dry run reports import_id %v, but records no import", m["import_id"])
	}
	// The same outcomes as the real import would have.
	for k, want := range map[string]int64{"rows": 7, "created": 3, "updated": 1, "unchanged": 1, "skipped": 2, "organizations_created": 1} {
		if got := jsonInt(t, m, k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	nothingWritten(t, pool, acct)
	if n := count(t, pool, "SELECT count(*) FROM imports WHERE file_name = 'dry.csv' AND account_id = $1", acct); n != 0 {
		t.Errorf("dry run recorded %d imports", n)
	}
}

func TestCLIImportNothingWrittenOnError(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	good := writeTestFile(t, "good.csv", []byte("email\na@b.io\n"))
	garbage := make([]byte, 4096)
	copy(garbage, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for i := 16; i < len(garbage); i++ {
		garbage[i] = byte(i * 7 % 256)
	}
	binFile := writeTestFile(t, "photo.csv", garbage)
	unknownKey := writeTestFile(t, "unknown.json", []byte(`{"list": "L", "lists": ["x"]}`))
	badOption := writeTestFile(t, "bad.json", []byte(`{"unique_identifier": "email"}`))
	noMatch := writeTestFile(t, "nomatch.csv", []byte("Foo,Bar\n1,2\n"))
	missingAccount := name + "-missing"

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"account does not exist", []string{"import", good, "--account", missingAccount}, []string{fmt.Sprintf("account %q", missingAccount), "not found"}},
		{"options file with an unknown key", []string{"import", good, "--account", name, "--options", unknownKey}, []string{`unknown field "lists"`, "unknown.json"}},
		{"options that cannot work", []string{"import", good, "--account", name, "--options", badOption}, []string{"unique_identifier", "cannot identify"}},
		{"binary file", []string{"import", binFile, "--account", name}, []string{"not text", "photo.csv"}},
		{"binary file, queued", []string{"import", binFile, "--account", name, "--queue"}, []string{"not text"}},
		{"binary file, dry run", []string{"import", binFile, "--account", name, "--dry-run"}, []string{"not text"}},
		{"no column maps", []string{"import", noMatch, "--account", name}, []string{"no column of the header maps", "Foo, Bar"}},
		{"file does not exist", []string{"import", filepath.Join(t.TempDir(), "nope.csv"), "--account", name}, []string{"nope.csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := cli(t, tc.args...)
			if err == nil {
				t.Fatalf("leadpipe %s succeeded, printing %s", strings.Join(tc.args, " "), stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			nothingWritten(t, pool, acct)
		})
	}
}

func TestCLIImportQueue(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	file := writeTestFile(t, "queued.csv", []byte("Email,Hobby\nq1@q.example,chess\nq2@q.example,go\n"))
	m := oneJSON(t, mustCLI(t, "import", file, "--queue", "--account", name))
	var id int64
	var status string
	var owner *string
	var rowsTotal int
	if err := pool.QueryRow(context.Background(), "SELECT id, status, lease_owner, rows_total FROM imports WHERE account_id = $1", acct).
		Scan(&id, &status, &owner, &rowsTotal); err != nil {
		t.Fatalf("the queued import: %v", err)
	}
	// Leave nothing queued for a daemon of a later test.
	t.Cleanup(func() {
		pool.Exec(context.Background(), "UPDATE imports SET status = 'cancelled' WHERE id = $1 AND status = 'queued'", id) //nolint:errcheck
	})
	if m["status"] != "queued" || jsonInt(t, m, "import_id") != id || jsonInt(t, m, "rows_total") != 2 || m["over_limit_warning"] != false {
		t.Errorf("queue output = %v, want import %d queued with 2 rows and no over-limit warning", m, id)
	}
	if u, _ := m["unmapped_columns"].([]any); len(u) != 1 || u[0] != "Hobby" {
		t.Errorf("unmapped_columns = %v, want [Hobby]", m["unmapped_columns"])
	}
	if status != "queued" || owner != nil || rowsTotal != 2 {
		t.Errorf("import record: status %q owner %v rows_total %d, want queued, no owner, 2", status, owner, rowsTotal)
	}
	if n := count(t, pool, "SELECT count(*) FROM prospects WHERE account_id = $1", acct); n != 0 {
		t.Errorf("queueing wrote %d prospects", n)
	}
}

// kindFiles are, for each kind of record, a file of that kind holding one record for each
// import of TestCLIImportKind (the rows are the kind's, not the engine's: a kind registered
// later adds its file here).
var kindFiles = []struct{ kind, csv string }{
	{"prospects", "email\nkind@kind.example\n"},
	{"organizations", "Name\nKind Co\n"},
	{"deals", "Name\nKind Deal\n"},
}

// TestCLIImportKind: --kind reaches imports.kind by every way the command line imports (at
// once, queued, dry run) and the printed JSON names it; preview and imports list take it; an
// unknown kind is refused before anything is written, naming the kinds.
func TestCLIImportKind(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	recorded := func(id int64) string {
		var kind string
		if err := pool.QueryRow(context.Background(), "SELECT kind FROM imports WHERE id = $1 AND account_id = $2", id, acct).Scan(&kind); err != nil {
			t.Fatalf("import %d: %v", id, err)
		}
		return kind
	}
	for _, tc := range kindFiles {
		file := writeTestFile(t, tc.kind+".csv", []byte(tc.csv))
		m := oneJSON(t, mustCLI(t, "import", file, "--account", name, "--kind", tc.kind))
		id := jsonInt(t, m, "import_id")
		if m["kind"] != tc.kind || m["status"] != "completed" || recorded(id) != tc.kind {
			t.Errorf("import --kind %s: %v, recorded kind %q", tc.kind, m, recorded(id))
		}
		m = oneJSON(t, mustCLI(t, "import", file, "--account", name, "--kind", tc.kind, "--queue"))
		queued := jsonInt(t, m, "import_id")
		t.Cleanup(func() { // leave nothing queued for a daemon of a later test
			pool.Exec(context.Background(), "UPDATE imports SET status = 'cancelled' WHERE id = $1 AND status = 'queued'", queued) //nolint:errcheck
		})
		if m["kind"] != tc.kind || m["status"] != "queued" || recorded(queued) != tc.kind {
			t.Errorf("import --kind %s --queue: %v, recorded kind %q", tc.kind, m, recorded(queued))
		}
		if m = oneJSON(t, mustCLI(t, "import", file, "--account", name, "--kind", tc.kind, "--dry-run")); m["kind"] != tc.kind || m["dry_run"] != true {
			t.Errorf("import --kind %s --dry-run: %v", tc.kind, m)
		}
		// The preview's row matches the record the first import created: entity_id names it,
		// prospect_id only in a prospects import.
		p := oneJSON(t, mustCLI(t, "preview", file, "--account", name, "--kind", tc.kind))
		rows, _ := p["rows"].([]any)
		if jsonInt(t, p, "total_rows") != 1 || len(rows) != 1 {
			t.Fatalf("preview --kind %s: %v, want its one row", tc.kind, p)
		}
		row := rows[0].(map[string]any)
		record := count(t, pool, "SELECT entity_id FROM import_rows WHERE import_id = $1 AND row_number = 2", id)
		if row["outcome"] != "unchanged" || jsonInt(t, row, "entity_id") != int64(record) {
			t.Errorf("preview --kind %s: row %v, want unchanged with entity_id %d", tc.kind, row, record)
		}
		if _, ok := row["prospect_id"]; ok != (tc.kind == "prospects") || ok && jsonInt(t, row, "prospect_id") != int64(record) {
			t.Errorf("preview --kind %s: row %v, want prospect_id %d in a prospects import only", tc.kind, row, record)
		}
		var list struct {
			Imports []struct {
				ID   int64  `json:"id"`
				Kind string `json:"kind"`
			} `json:"imports"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, "imports", "list", "--account", name, "--kind", tc.kind)), &list); err != nil ||
			len(list.Imports) != 2 || list.Imports[0].ID != queued || list.Imports[1].ID != id || list.Imports[0].Kind != tc.kind {
			t.Errorf("imports list --kind %s: %+v (err %v), want imports %d and %d", tc.kind, list, err, queued, id)
		}
	}

	// An unknown kind, by every command that takes one.
	other := uniqueName(t)
	mustCLI(t, "account", "create", other)
	otherID := accountID(t, pool, other)
	file := writeTestFile(t, "unknown.csv", []byte(kindFiles[0].csv))
	kinds := strings.Join(importer.Kinds(), ", ")
	for _, args := range [][]string{
		{"import", file, "--account", other, "--kind", "bogus"},
		{"import", file, "--account", other, "--kind", "bogus", "--queue"},
		{"import", file, "--account", other, "--kind", "bogus", "--dry-run"},
		{"preview", file, "--account", other, "--kind", "bogus"},
		{"imports", "list", "--account", other, "--kind", "bogus"},
	} {
		stdout, _, err := cli(t, args...)
		if err == nil || !strings.Contains(err.Error(), `unknown kind "bogus"`) || !strings.Contains(err.Error(), kinds) || stdout != "" {
			t.Errorf("leadpipe %s: %v (stdout %q), want an error naming the kind and the kinds (%s), and no output", strings.Join(args, " "), err, stdout, kinds)
		}
	}
	nothingWritten(t, pool, otherID)
}

// SPEC §6: with a unique identifier, a row whose email matches no prospect matches by the
// identifier. Rows with emails and identifier values in one file are the ordinary case.
func TestCLIImportUniqueIdentifierWithEmails(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	first := writeTestFile(t, "first.csv", []byte("email,phone\na@uid.example,555\n"))
	oneJSON(t, mustCLI(t, "import", first, "--account", name))
	for _, tc := range []struct {
		opts, csv string
		want      map[string]int64
	}{
		{`{"unique_identifier": "phone"}`, "email,phone,title\nb@uid.example,555,CEO\nc@uid.example,777,\n",
			map[string]int64{"updated": 1, "created": 1}},
		{`{"match_by_name": true}`, "email,first_name,last_name\nd@uid.example,Dee,Dunn\n",
			map[string]int64{"created": 1}},
	} {
		opts := writeTestFile(t, "opts.json", []byte(tc.opts))
		file := writeTestFile(t, "second.csv", []byte(tc.csv))
		stdout, _, err := cli(t, "import", file, "--account", name, "--options", opts)
		if err != nil {
			t.Errorf("import with %s failed: %v", tc.opts, err)
			continue
		}
		m := oneJSON(t, stdout)
		for k, want := range tc.want {
			if got := jsonInt(t, m, k); got != want {
				t.Errorf("import with %s: %s = %d, want %d", tc.opts, k, got, want)
			}
		}
	}
	var title string
	if err := pool.QueryRow(context.Background(), "SELECT coalesce(title, '') FROM prospects WHERE account_id = $1 AND phone = '555'", acct).Scan(&title); err != nil || title != "CEO" {
		t.Errorf("prospect with phone 555: title %q (err %v), want CEO", title, err)
	}
}

// SPEC §6, sequential semantics: a row that changes a prospect's email frees the old address,
// and a later row of the same batch with the old address creates a new prospect. Applied one
// row at a time this is an update and a create; the batch must give the same.
func TestCLIImportEmailMovesWithinBatch(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	first := writeTestFile(t, "first.csv", []byte("email,phone\nold@move.example,555\n"))
	if m := oneJSON(t, mustCLI(t, "import", first, "--account", name)); jsonInt(t, m, "created") != 1 {
		t.Fatalf("first import: %v", m)
	}
	opts := writeTestFile(t, "opts.json", []byte(`{"unique_identifier": "phone"}`))
	second := writeTestFile(t, "second.csv", []byte("email,phone,first_name\nnew@move.example,555,\nold@move.example,,Other\n"))
	stdout, stderr, err := cli(t, "import", second, "--account", name, "--options", opts)
	if err != nil {
		t.Fatalf("second import failed: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	m := oneJSON(t, stdout)
	if m["status"] != "completed" || jsonInt(t, m, "updated") != 1 || jsonInt(t, m, "created") != 1 {
		t.Errorf("second import = %s, want completed with 1 updated and 1 created", stdout)
	}
	var emails []string
	rows, _ := pool.Query(context.Background(), "SELECT email || ':' || coalesce(phone, '') FROM prospects WHERE account_id = $1 ORDER BY id", acct)
	emails, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(emails, []string{"new@move.example:555", "old@move.example:"}) {
		t.Errorf("prospects = %v (err %v), want [new@move.example:555 old@move.example:]", emails, err)
	}
}

// serveInBackground runs `leadpipe serve` in this process, with the settings the test has
// made, until the test ends, and returns what it logs.
func serveInBackground(t *testing.T) *syncbuf.Buffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errOut := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, errOut) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return errOut
}

// unusedAddr returns a loopback address with a port nothing listens on, which the embedded
// broker's own listen on port 0 cannot be handed (freeport).
func unusedAddr(t *testing.T) string { return freeport.Addr(t) }

// completedImports is this process's leadpipe_imports_finished_total{status="completed"}.
func completedImports(t *testing.T) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "leadpipe_imports_finished_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == "completed" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// metricValue finds the sample line "name value" in a /metrics page.
func metricValue(page, name string) (float64, bool) {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

func TestCLIServe(t *testing.T) {
	pool := cliEnv(t)
	name, acct, _ := setupImportAccount(t)
	addr := unusedAddr(t)
	t.Setenv("LEADPIPE_HTTP_ADDR", addr)
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	t.Setenv("LEADPIPE_WORKERS", "2")

	file := writeTestFile(t, "served.csv", []byte("email,first_name\ns1@serve.example,S1\ns2@serve.example,S2\nbad,S3\n"))
	q := oneJSON(t, mustCLI(t, "import", file, "--account", name, "--queue"))
	importID := jsonInt(t, q, "import_id")
	before := completedImports(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, &stderr) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()

	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, path := range []string{"/healthz", "/readyz"} {
		for {
			code, body, err := get(path)
			if err == nil && code == http.StatusOK {
				if body != "ok\n" {
					t.Errorf("%s body = %q, want \"ok\\n\"", path, body)
				}
				break
			}
			select {
			case err := <-done:
				stopped = true
				t.Fatalf("serve returned %v before %s answered; log:\n%s", err, path, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %v; log:\n%s", path, code, err, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The daemon's workers run the queued import.
	var status string
	for {
		if err := pool.QueryRow(ctx, "SELECT status FROM imports WHERE id = $1", importID).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status == "completed" || status == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status != "completed" {
		t.Fatalf("queued import status %q, want completed; log:\n%s", status, stderr.String())
	}
	if n := count(t, pool, "SELECT count(*) FROM prospects WHERE account_id = $1", acct); n != 2 {
		t.Errorf("%d prospects after the daemon's import, want 2", n)
	}

	// The worker counts the import as finished just after recording it completed: poll.
	var page string
	for {
		code, body, err := get("/metrics")
		if err != nil || code != http.StatusOK {
			t.Fatalf("/metrics: %d %v", code, err)
		}
		page = body
		finished, _ := metricValue(page, `leadpipe_imports_finished_total{status="completed"}`)
		running, _ := metricValue(page, "leadpipe_imports_running")
		if finished >= before+1 && running == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, metric := range []string{
		"leadpipe_stage_rows_in_total", "leadpipe_stage_rows_out_total", "leadpipe_stage_batch_seconds",
		"leadpipe_stage_queue_depth", "leadpipe_rows_total", "leadpipe_imports_running", "leadpipe_imports_finished_total",
		"leadpipe_imports",
	} {
		if !strings.Contains(page, "# TYPE "+metric+" ") {
			t.Errorf("/metrics has no %s", metric)
		}
	}
	if v, ok := metricValue(page, `leadpipe_imports_finished_total{status="completed"}`); !ok || v < before+1 {
		t.Errorf(`leadpipe_imports_finished_total{status="completed"} = %v (found %v), want at least %v`, v, ok, before+1)
	}
	if v, ok := metricValue(page, `leadpipe_stage_rows_in_total{stage="upsert"}`); !ok || v < 3 {
		t.Errorf(`leadpipe_stage_rows_in_total{stage="upsert"} = %v (found %v), want at least 3`, v, ok)
	}
	if v, ok := metricValue(page, `leadpipe_rows_total{outcome="skipped",reason="invalid_email"}`); !ok || v < 1 {
		t.Errorf(`leadpipe_rows_total{outcome="skipped",reason="invalid_email"} = %v (found %v), want at least 1`, v, ok)
	}
	if v, ok := metricValue(page, "leadpipe_imports_running"); !ok || v != 0 {
		t.Errorf("leadpipe_imports_running = %v (found %v), want 0", v, ok)
	}
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "leadpipe_") && (strings.Contains(line, "import_id") || strings.Contains(line, "account") || strings.Contains(line, "served.csv")) {
			t.Errorf("metric with a per-import label: %s", line)
		}
	}

	// Stopping: run returns nil promptly and the HTTP server is gone.
	cancel()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not return within 10s of cancel; log:\n%s", stderr.String())
	}
	if _, _, err := get("/healthz"); err == nil {
		t.Errorf("/healthz still answers after serve returned")
	}
	if !strings.Contains(stderr.String(), "leadpipe stopped") {
		t.Errorf("log has no stop line:\n%s", stderr.String())
	}
}

// serve fails, instead of running without its HTTP endpoints, when its address is taken.
func TestCLIServeAddressInUse(t *testing.T) {
	cliEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("LEADPIPE_HTTP_ADDR", l.Addr().String())
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, io.Discard) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), l.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve on a taken address = %v, want an error naming the address", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve kept running on a taken address")
	}
}
