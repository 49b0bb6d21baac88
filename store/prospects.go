package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/leadpipe/leadpipe/crm"
)

// Prospect is a prospect as the import stages see it; Lead Owner and Organization hold the
// linked user's and organization's id.
type Prospect = Record

// prospectTable is the prospects table: a column per standard field but full_name (which is not
// stored), named after it but for the links.
var prospectTable = recordTable{name: "prospects", columns: append(textColumns("email", "first_name", "last_name",
	"title", "phone", "mobile", "website", "street", "city", "state", "postal_code", "country", "lead_source"),
	column{name: "lead_owner_id", field: crm.FieldLeadOwner, typ: "bigint"},
	column{name: "email_opt_in", field: "email_opt_in", typ: "boolean"},
	column{name: "organization_id", field: crm.FieldOrganization, typ: "bigint"})}

// ProspectLookup names the identities of a batch whose prospects LoadProspects fetches.
type ProspectLookup struct {
	Emails []string // lowercased
	// UniqueField is the catalog index of the unique identifier field (-1: none) and
	// UniqueValues the batch's values of it.
	UniqueField  int
	UniqueValues []string
	// FirstNames and LastNames, lowercased and paired, when matching by name.
	FirstNames, LastNames []string
}

// Statement is one SQL statement with its arguments, as a batch runs it. The statements a
// batch runs are built by exported functions so that tests can EXPLAIN exactly what runs.
type Statement struct {
	SQL  string
	Args []any
}

// ProspectLookups returns the queries LoadProspects runs for a lookup: one per identity kind
// that has values, so that each can use its own index.
//
// Each query probes its index once per distinct value (probeEach), so that its plan stays a
// nested loop of index scans whatever the planner's statistics say. Asked for all 5,000 values
// at once (lower(email) = ANY($2)), the planner estimates how many rows match from statistics
// it has none of for these expressions, and at a few million prospects of one account it chose
// a sequential scan of the table for every batch.
func ProspectLookups(c *crm.Catalog, accountID int64, l ProspectLookup) []Statement {
	return prospectLookups(c, accountID, l, prospectTable.selectList())
}

// prospectLookups returns the queries of ProspectLookups, selecting columns.
func prospectLookups(c *crm.Catalog, accountID int64, l ProspectLookup, columns []string) []Statement {
	var out []Statement
	if len(l.Emails) > 0 {
		out = append(out, Statement{probeEach("prospects", columns, "unnest($2::text[]) AS k(v)",
			"lower(email) = k.v AND account_id = $1"), []any{accountID, distinct(l.Emails)}})
	}
	// The account id is written into the identifier and name lookups, not passed as a
	// parameter, so that the planner can prove their partial indexes (EnsureLookupIndexes)
	// apply even to a generic plan of the prepared statement.
	account := fmt.Sprintf("account_id = %d", accountID)
	if l.UniqueField >= 0 && len(l.UniqueValues) > 0 {
		out = append(out, Statement{probeEach("prospects", columns, "unnest($1::text[]) AS k(v)",
			prospectTable.uniqueFieldCond(c.Fields[l.UniqueField], accountID)), []any{distinct(l.UniqueValues)}})
	}
	if len(l.FirstNames) > 0 {
		first, last := distinctPairs(l.FirstNames, l.LastNames)
		out = append(out, Statement{probeEach("prospects", columns, "unnest($1::text[], $2::text[]) AS k(first, last)",
			firstNameExpr+" = k.first AND "+lastNameExpr+" = k.last AND "+nameGiven+" AND "+account), []any{first, last}})
	}
	return out
}

// probeEach returns a query of the rows of table, with columns, that match cond for one of the
// values keys unnests; cond refers to the current values as k.
//
// Each value is looked up by a LATERAL subquery, and OFFSET 0 keeps the planner from flattening
// that subquery into a join: a join it could make by hashing the values and scanning the whole
// table, which it does when it believes many rows match. As it is, the only choice left to the
// planner is how to find the rows of one value, and for that an index wins unless one value
// matched a large part of the table.
func probeEach(table string, columns []string, keys, cond string) string {
	return "SELECT m.* FROM " + keys + " CROSS JOIN LATERAL (SELECT " + strings.Join(columns, ", ") +
		" FROM " + table + " WHERE " + cond + " OFFSET 0) m"
}

// distinct returns values without repeats, in their first order.
func distinct(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// distinctPairs returns the pairs (first[i], last[i]) without repeats, in their first order.
func distinctPairs[A, B comparable](first []A, last []B) ([]A, []B) {
	type pair struct {
		a A
		b B
	}
	seen := make(map[pair]bool, len(first))
	var f []A
	var l []B
	for i := range first {
		if k := (pair{first[i], last[i]}); !seen[k] {
			seen[k] = true
			f, l = append(f, first[i]), append(l, last[i])
		}
	}
	return f, l
}

// LoadProspects returns the account's prospects that have one of the lookup's emails, unique
// identifier values or name pairs, oldest first.
func LoadProspects(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, l ProspectLookup) ([]Prospect, error) {
	return loadRecords(ctx, q, prospectTable, c, ProspectLookups(c, accountID, l))
}

// ProspectRef is what a deal or an object record needs of the prospect it links to.
type ProspectRef struct {
	ID                         int64
	Email, FirstName, LastName string // "" = none
}

// LoadProspectRefs returns the account's prospects that have one of the emails (lowercased) or
// of the name pairs (lowercased, paired), oldest first: the lookups of LoadProspects, selecting
// only what a link needs. The name lookup uses the name index EnsureLookupIndexes builds
// (byName), which a kind linking by name ensures before its run.
func LoadProspectRefs(ctx context.Context, q Querier, accountID int64, emails, firstNames, lastNames []string) ([]ProspectRef, error) {
	lookups := prospectLookups(nil, accountID, ProspectLookup{Emails: emails, UniqueField: -1, FirstNames: firstNames, LastNames: lastNames},
		[]string{"id", "coalesce(email, '')", "coalesce(first_name, '')", "coalesce(last_name, '')"})
	seen := map[int64]bool{}
	var out []ProspectRef
	for _, l := range lookups {
		rows, err := q.Query(ctx, l.SQL, l.Args...)
		if err != nil {
			return nil, fmt.Errorf("load prospects: %w", err)
		}
		refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProspectRef, error) {
			var p ProspectRef
			err := r.Scan(&p.ID, &p.Email, &p.FirstName, &p.LastName)
			return p, err
		})
		if err != nil {
			return nil, fmt.Errorf("load prospects: %w", err)
		}
		for _, p := range refs {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b ProspectRef) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// The name pair that matching by name compares, lowercased, and indexed (EnsureLookupIndexes)
// for the prospects that have a name (nameGiven).
const (
	firstNameExpr = "lower(coalesce(first_name, ''))"
	lastNameExpr  = "lower(coalesce(last_name, ''))"
	nameExpr      = firstNameExpr + ", " + lastNameExpr
	nameGiven     = "(first_name IS NOT NULL OR last_name IS NOT NULL)"
)

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableID(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad id %q: %w", s, err)
	}
	return id, nil
}

// InsertProspects writes new prospects (their ids already allocated) with COPY.
func InsertProspects(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, ps []Prospect) error {
	return insertRecords(ctx, tx, prospectTable, c, accountID, ps)
}

// ClearEmails empties the email of prospects whose email the batch moves elsewhere, before the
// update (EncodeProspectUpdate) and InsertProspects write the batch's final emails: the unique
// email index is checked row by row, so a prospect may only take an email another has left
// once that one's old value is gone.
func ClearEmails(ctx context.Context, tx pgx.Tx, accountID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	st := ClearEmailsStatement(accountID, ids)
	if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("clear moved emails: %w", err)
	}
	return nil
}

// ClearEmailsStatement is the statement ClearEmails runs.
func ClearEmailsStatement(accountID int64, ids []int64) Statement {
	return Statement{"UPDATE prospects p SET email = NULL FROM unnest($2::bigint[]) AS u(id)" +
		" CROSS JOIN LATERAL (SELECT ctid AS row FROM prospects WHERE id = u.id AND account_id = $1 OFFSET 0) k" +
		" WHERE p.ctid = k.row", []any{accountID, ids}}
}

// UpdateProspectsStatement is the statement EncodeProspectUpdate encodes: one array per column
// set, unnested side by side.
func UpdateProspectsStatement(c *crm.Catalog, accountID int64, ps []Prospect, changed []bool) (Statement, error) {
	st, _, err := prospectTable.unnestUpdate(c, accountID, ps, nil, changed, false)
	return st, err
}

// UpdateProspectsAtAddressStatement is the statement EncodeProspectUpdateAtAddress encodes,
// to run with AtAddressPlan.
func UpdateProspectsAtAddressStatement(c *crm.Catalog, accountID int64, ps []Prospect, changed []bool) (Statement, error) {
	st, _, err := prospectTable.unnestUpdate(c, accountID, ps, nil, changed, true)
	return st, err
}

// EncodeProspectUpdate is the update of the fields of the catalog that changed says (by index;
// nil: every field) of each changed prospect, one statement encoded with m (a connection's
// types, pgx.Conn.TypeMap) for Encoded.Exec to run in a batch's transaction. Each prospect is
// found at its row's address as it was loaded (Prospect.Addr), when its row is still there.
func EncodeProspectUpdate(m *pgtype.Map, c *crm.Catalog, accountID int64, ps []Prospect, changed []bool) (Encoded, error) {
	return prospectTable.encodeUpdate(m, c, accountID, ps, changed, false)
}

// EncodeProspectUpdateAtAddress is EncodeProspectUpdate for prospects whose rows have not moved
// since they were loaded, as far as the caller knows: each is found only at its row's address
// (Prospect.Addr), and one whose row moved is not updated, which the count of rows the update
// wrote tells.
func EncodeProspectUpdateAtAddress(m *pgtype.Map, c *crm.Catalog, accountID int64, ps []Prospect, changed []bool) (Encoded, error) {
	return prospectTable.encodeUpdate(m, c, accountID, ps, changed, true)
}

// IDBlock is how many ids one NextIDs call allocates; the *_id_blocks sequences of the schema
// step by it.
const IDBlock = 1000

// NextIDs allocates a block of IDBlock new ids for a record kind (table names the sequence:
// "prospect", "organization", "deal" or "object_record").
func NextIDs(ctx context.Context, q Querier, table string) ([]int64, error) {
	var start int64
	if err := q.QueryRow(ctx, "SELECT nextval($1::regclass)", table+"_id_blocks").Scan(&start); err != nil {
		return nil, fmt.Errorf("allocate %s ids: %w", table, err)
	}
	ids := make([]int64, IDBlock)
	for i := range ids {
		ids[i] = start + int64(i)
	}
	return ids, nil
}

// IDPool hands out new ids of one record kind, allocated a block at a time (NextIDs). A pool is
// used by one import's writer; ids it allocated and did not hand out are never used.
type IDPool struct {
	table string
	ids   []int64
}

// NewIDPool returns a pool of ids for table ("prospect", "organization", …; see NextIDs).
func NewIDPool(table string) *IDPool { return &IDPool{table: table} }

// Next returns a new id, allocating a block through q when the pool is empty.
func (p *IDPool) Next(ctx context.Context, q Querier) (int64, error) {
	if len(p.ids) == 0 {
		ids, err := NextIDs(ctx, q, p.table)
		if err != nil {
			return 0, err
		}
		p.ids = ids
	}
	id := p.ids[0]
	p.ids = p.ids[1:]
	return id, nil
}

// EnsureLookupIndexes makes sure the index that matching an account's rows by a unique
// identifier field (uniqueField >= 0) or by name needs covers the account. Each is a partial
// index of the prospects of a group of up to LookupIndexGroupSize accounts (see
// lookupindex.go): an index on the whole table would make every account's inserts pay for one
// account's matching option (measured: a phone, a custom-field and a name index together made
// a 200,000-row import 75% slower). It runs CREATE INDEX CONCURRENTLY, outside any
// transaction, so imports writing meanwhile are not blocked.
//
// Each index holds only the prospects that have its value, and only the lookup of that value
// implies its condition. So no other lookup of the account can use it: while an import grows an
// account the planner's statistics still say the account is empty, and it then chose to read
// another lookup's index of the account whole, once per value looked up (measured: 306 s for
// one batch's emails at 50,000 prospects).
func EnsureLookupIndexes(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, uniqueField int, byName bool) error {
	var indexes []lookupIndex
	if uniqueField >= 0 {
		indexes = append(indexes, prospectTable.uniqueFieldIndex(c, uniqueField))
	}
	if byName {
		indexes = append(indexes, lookupIndex{table: "prospects", lookup: nameLookup, columns: nameExpr, cond: nameGiven})
	}
	return ensureIndexes(ctx, q, accountID, indexes)
}
