package prospects

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kinds/internal/apply"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

var cat = crm.NewCatalog("prospect", standardFields(), []crm.Field{{Key: "crm_id", Label: "CRM ID", Type: crm.Text}})

var (
	iEmail = cat.MustIndex("email")
	iFirst = cat.MustIndex("first_name")
	iLast  = cat.MustIndex("last_name")
	iPhone = cat.MustIndex("phone")
	iTitle = cat.MustIndex("title")
	iCRM   = cat.MustIndex("crm_id")
)

// vals returns a values slice with the given catalog indexes set.
func vals(kv ...any) []string {
	v := make([]string, len(cat.Fields))
	for i := 0; i < len(kv); i += 2 {
		v[kv[i].(int)] = kv[i+1].(string)
	}
	return v
}

func stored(id int64, kv ...any) *prospect {
	return &prospect{Prospect: store.Prospect{ID: id, Values: vals(kv...)}}
}

// emptyIndex builds an index through Load with no rows: there is nothing to look up, so
// Load does not touch the database.
func emptyIndex(t *testing.T, unique int, byName bool) *matchIndex {
	t.Helper()
	x, err := loadIndex(context.Background(), nil, matchConfig{Catalog: cat, AccountID: 1, UniqueField: unique, MatchByName: byName}, nil, nil)
	if err != nil {
		t.Fatalf("Load with no rows: %v", err)
	}
	return x
}

// match matches a row by its values, its email lowercased as loadIndex does.
func match(x *matchIndex, row []string) *prospect {
	return x.match(strings.ToLower(row[iEmail]), row)
}

func id(p *prospect) int64 {
	if p == nil {
		return 0
	}
	return p.ID
}

func TestMatch(t *testing.T) {
	x := emptyIndex(t, iPhone, false)
	x.add(stored(3, iEmail, "Ann@Example.com", iPhone, "555", iFirst, "Ann", iLast, "Able"))
	x.add(stored(7, iPhone, "555", iFirst, "Ann", iLast, "Able"))
	x.add(stored(9, iEmail, "cy@example.com", iPhone, "777"))
	tests := []struct {
		name string
		row  []string
		want int64 // 0: no match
	}{
		{"email, case-insensitive", vals(iEmail, "ANN@example.COM"), 3},
		{"email wins over the unique identifier", vals(iEmail, "cy@example.com", iPhone, "555"), 9},
		{"unknown email falls back to the unique identifier", vals(iEmail, "new@example.com", iPhone, "777"), 9},
		{"unique identifier: the oldest", vals(iPhone, "555"), 3},
		{"unique identifier is exact", vals(iPhone, "555 "), 0},
		{"names do not match without match_by_name", vals(iFirst, "Ann", iLast, "Able"), 0},
		{"nothing", vals(iTitle, "CEO"), 0},
		{"unknown email, unknown phone", vals(iEmail, "x@y.io", iPhone, "1"), 0},
	}
	for _, tt := range tests {
		if got := id(match(x, tt.row)); got != tt.want {
			t.Errorf("%s: Match = prospect %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMatchWithoutUniqueField(t *testing.T) {
	x := emptyIndex(t, -1, false)
	x.add(stored(1, iPhone, "555"))
	if p := match(x, vals(iPhone, "555")); p != nil {
		t.Fatalf("Match by phone without a unique identifier = %d, want none", p.ID)
	}
}

func TestMatchByName(t *testing.T) {
	x := emptyIndex(t, -1, true)
	// Added out of order: the index keeps the oldest (lowest id) first all the same.
	x.add(stored(8, iFirst, "ann", iLast, "ABLE"))
	x.add(stored(4, iFirst, "Ann", iLast, "Able", iEmail, "ann@x.io"))
	x.add(stored(6, iFirst, "Bo"))
	tests := []struct {
		row  []string
		want int64
	}{
		{vals(iFirst, "ANN", iLast, "able"), 4},
		{vals(iEmail, "other@x.io", iFirst, "Ann", iLast, "Able"), 4}, // unknown email, then names
		{vals(iEmail, "ann@x.io", iFirst, "Zed"), 4},
		{vals(iFirst, "Ann"), 0}, // first and last both count
		{vals(iFirst, "bo"), 6},
		{vals(iFirst, "Ann", iLast, "Ablex"), 0},
	}
	for _, tt := range tests {
		if got := id(match(x, tt.row)); got != tt.want {
			t.Errorf("Match(first %q last %q email %q) = %d, want %d", tt.row[iFirst], tt.row[iLast], tt.row[iEmail], got, tt.want)
		}
	}
}

func TestSetReindexes(t *testing.T) {
	x := emptyIndex(t, iCRM, true)
	p3 := stored(3, iEmail, "old@x.io", iCRM, "C1", iFirst, "Ann", iLast, "Able")
	p5 := stored(5, iEmail, "five@x.io", iCRM, "C1", iFirst, "Ann", iLast, "Able")
	x.add(p3)
	x.add(p5)

	// An email change: the old email no longer matches, the new one does.
	x.set(p3, iEmail, "New@X.io")
	if p := match(x, vals(iEmail, "old@x.io")); p != nil {
		t.Errorf("old email still matches prospect %d", p.ID)
	}
	if got := id(match(x, vals(iEmail, "new@x.IO"))); got != 3 {
		t.Errorf("new email matches %d, want 3", got)
	}
	if p3.Values[iEmail] != "New@X.io" {
		t.Errorf("Set did not set the value: %q", p3.Values[iEmail])
	}

	// A unique identifier change: the next oldest takes the old value.
	if got := id(match(x, vals(iCRM, "C1"))); got != 3 {
		t.Fatalf("C1 matches %d before the change, want 3", got)
	}
	x.set(p3, iCRM, "C2")
	if got := id(match(x, vals(iCRM, "C1"))); got != 5 {
		t.Errorf("after the change C1 matches %d, want 5", got)
	}
	if got := id(match(x, vals(iCRM, "C2"))); got != 3 {
		t.Errorf("C2 matches %d, want 3", got)
	}
	// And back: the oldest is first again.
	x.set(p3, iCRM, "C1")
	if got := id(match(x, vals(iCRM, "C1"))); got != 3 {
		t.Errorf("after changing back C1 matches %d, want 3", got)
	}

	// A name change.
	x.set(p3, iLast, "King")
	if got := id(match(x, vals(iFirst, "ann", iLast, "able"))); got != 5 {
		t.Errorf("Ann Able matches %d after prospect 3 became Ann King, want 5", got)
	}
	if got := id(match(x, vals(iFirst, "Ann", iLast, "KING"))); got != 3 {
		t.Errorf("Ann King matches %d, want 3", got)
	}

	// Clearing an identity removes it.
	x.set(p5, iEmail, "")
	if p := match(x, vals(iEmail, "five@x.io")); p != nil {
		t.Errorf("cleared email still matches %d", p.ID)
	}

	// Other fields change without touching the index.
	x.set(p5, iTitle, "CTO")
	if p5.Values[iTitle] != "CTO" || id(match(x, vals(iCRM, "C1"))) != 3 {
		t.Errorf("Set(title) = %q, C1 matches %d", p5.Values[iTitle], id(match(x, vals(iCRM, "C1"))))
	}
}

// A prospect created in the batch (Add) is found by later rows.
func TestAddCreatedProspect(t *testing.T) {
	x := emptyIndex(t, iPhone, false)
	if p := match(x, vals(iEmail, "n@x.io")); p != nil {
		t.Fatalf("empty index matched %d", p.ID)
	}
	created := &prospect{Prospect: store.Prospect{ID: 100, Values: vals(iEmail, "N@x.io", iPhone, "1")}, Tracked: apply.Tracked{Created: true}}
	x.add(created)
	if match(x, vals(iEmail, "n@X.io")) != created || match(x, vals(iPhone, "1")) != created {
		t.Fatal("a created prospect is not matched by its email and unique identifier")
	}
}

// dbFixture is an account with prospects inserted by SQL, oldest (lowest id) first, and a
// prospect of another account that shares their identities.
type dbFixture struct {
	acct       store.Account
	p1, p2, p3 int64
}

func newDBFixture(t *testing.T) (*pgxpool.Pool, dbFixture) {
	t.Helper()
	pool := storetest.Pool(t)
	ctx := context.Background()
	f := dbFixture{acct: storetest.Account(t, pool, -1)}
	other := storetest.Account(t, pool, -1)
	// Prospect ids come from a block of the schema's id sequence, as imports take them.
	ids, err := store.NextIDs(ctx, pool, "prospect")
	if err != nil {
		t.Fatalf("allocate ids: %v", err)
	}
	insert := func(account int64, email, phone, first, last, custom string) int64 {
		t.Helper()
		id := ids[0]
		ids = ids[1:]
		_, err := pool.Exec(ctx, `INSERT INTO prospects (id, account_id, email, phone, first_name, last_name, custom)
			VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), nullif($6, ''), $7)`,
			id, account, email, phone, first, last, custom)
		if err != nil {
			t.Fatalf("insert prospect: %v", err)
		}
		return id
	}
	f.p1 = insert(f.acct.ID, "Ann@Example.com", "555", "Ann", "Able", `{"crm_id": "C-1"}`)
	f.p2 = insert(f.acct.ID, "", "555", "ann", "ABLE", `{"crm_id": "C-1"}`)
	f.p3 = insert(f.acct.ID, "zed@example.com", "999", "Zed", "Zulu", `{}`)
	insert(other.ID, "bob@example.com", "555", "Bob", "Other", `{"crm_id": "C-9"}`)
	return pool, f
}

func load(t *testing.T, pool *pgxpool.Pool, accountID int64, unique int, byName bool, rows ...pipeline.Row) *matchIndex {
	t.Helper()
	x, err := loadIndex(context.Background(), pool, matchConfig{Catalog: cat, AccountID: accountID, UniqueField: unique, MatchByName: byName}, rows, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return x
}

func dataRow(n int, v []string) pipeline.Row { return pipeline.Row{Number: n, Values: v} }

// Load fetches, from Postgres, the account's prospects that the batch's unskipped rows could
// match, oldest first: here each batch has one kind of identity.
func TestLoadFromDatabaseOneIdentityKind(t *testing.T) {
	pool, f := newDBFixture(t)

	// By email, case-insensitive; a skipped row's email is not looked up; another account's
	// prospect is never loaded.
	skippedZed := dataRow(3, vals(iEmail, "zed@example.com"))
	skippedZed.Skip(pipeline.ReasonMalformedRow, "x")
	x := load(t, pool, f.acct.ID, -1, false,
		dataRow(2, vals(iEmail, "ANN@example.com")), skippedZed, dataRow(4, vals(iEmail, "bob@example.com")))
	if p := match(x, vals(iEmail, "ann@example.com")); p == nil || p.ID != f.p1 ||
		p.Values[iEmail] != "Ann@Example.com" || p.Values[iPhone] != "555" || p.Values[iCRM] != "C-1" || p.Created || p.Changed {
		t.Errorf("email match = %+v, want prospect %d with its stored values", p, f.p1)
	}
	if p := match(x, vals(iEmail, "zed@example.com")); p != nil {
		t.Errorf("only a skipped row names zed, yet prospect %d was loaded", p.ID)
	}
	if p := match(x, vals(iEmail, "bob@example.com")); p != nil {
		t.Errorf("another account's prospect %d was loaded", p.ID)
	}
	// Changing the email re-indexes the loaded prospect.
	p := match(x, vals(iEmail, "ann@example.com"))
	x.set(p, iEmail, "ann2@example.com")
	if got := id(match(x, vals(iEmail, "ann@example.com"))); got != 0 {
		t.Errorf("old email still matches %d", got)
	}

	// By a standard unique identifier: the oldest; changing it makes the next oldest match.
	x = load(t, pool, f.acct.ID, iPhone, false, dataRow(2, vals(iPhone, "555")))
	p = match(x, vals(iPhone, "555"))
	if id(p) != f.p1 {
		t.Fatalf("phone 555 matches %d, want %d", id(p), f.p1)
	}
	x.set(p, iPhone, "556")
	if got := id(match(x, vals(iPhone, "555"))); got != f.p2 {
		t.Errorf("after prospect %d's phone changed, 555 matches %d, want %d", f.p1, got, f.p2)
	}

	// By a custom unique identifier, stored in the custom JSON.
	x = load(t, pool, f.acct.ID, iCRM, false, dataRow(2, vals(iCRM, "C-1")), dataRow(3, vals(iCRM, "C-9")))
	if got := id(match(x, vals(iCRM, "C-1"))); got != f.p1 {
		t.Errorf("crm_id C-1 matches %d, want %d", got, f.p1)
	}
	if got := id(match(x, vals(iCRM, "C-9"))); got != 0 {
		t.Errorf("crm_id C-9 (another account's) matches %d", got)
	}

	// By name, case-insensitive, the oldest.
	x = load(t, pool, f.acct.ID, -1, true, dataRow(2, vals(iFirst, "ANN", iLast, "able")))
	if got := id(match(x, vals(iFirst, "ann", iLast, "Able"))); got != f.p1 {
		t.Errorf("Ann Able matches %d, want %d", got, f.p1)
	}
}

// A batch whose rows carry more than one kind of identity — an email and a unique identifier,
// or an email and names with match_by_name — is the common case. Load must fetch the
// prospects of every kind.
func TestLoadFromDatabaseMixedIdentities(t *testing.T) {
	pool, f := newDBFixture(t)
	rows := []pipeline.Row{
		dataRow(2, vals(iEmail, "ANN@example.com")),
		dataRow(3, vals(iPhone, "555")),
		dataRow(4, vals(iFirst, "ZED", iLast, "zulu")),
	}
	x, err := loadIndex(context.Background(), pool, matchConfig{Catalog: cat, AccountID: f.acct.ID, UniqueField: iPhone, MatchByName: true}, rows, nil)
	if err != nil {
		t.Fatalf("Load(email + unique identifier + names) error: %v", err)
	}
	for _, tc := range []struct {
		row  []string
		want int64
	}{
		{rows[0].Values, f.p1},
		{rows[1].Values, f.p1},
		{rows[2].Values, f.p3},
		{vals(iEmail, "unknown@example.com", iPhone, "555"), f.p1},
	} {
		if got := id(match(x, tc.row)); got != tc.want {
			t.Errorf("Match(email %q phone %q name %q %q) = %d, want %d", tc.row[iEmail], tc.row[iPhone], tc.row[iFirst], tc.row[iLast], got, tc.want)
		}
	}
}
