package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// Prospect is a prospect as the import stages see it: its id and one canonical value per field
// of the account's catalog ("" = no value). Lead Owner and Organization hold the linked user's
// and organization's id in decimal; a multi-picklist holds its values joined by ";".
type Prospect struct {
	ID     int64
	Values []string
}

// textColumns are the standard text fields stored in columns of the same name, in table order.
var textColumns = []string{"email", "first_name", "last_name", "title", "phone", "mobile", "website",
	"street", "city", "state", "postal_code", "country", "lead_source"}

// prospectColumns is the full column list that LoadProspects selects and InsertProspects writes.
var prospectColumns = append(append([]string{"id"}, textColumns...), "lead_owner_id", "email_opt_in", "organization_id", "custom")

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
	var out []Statement
	if len(l.Emails) > 0 {
		out = append(out, Statement{probeEach("prospects", prospectColumns, "unnest($2::text[]) AS k(v)",
			"lower(email) = k.v AND account_id = $1"), []any{accountID, distinct(l.Emails)}})
	}
	// The account id is written into the identifier and name lookups, not passed as a
	// parameter, so that the planner can prove their partial indexes (EnsureLookupIndexes)
	// apply even to a generic plan of the prepared statement.
	account := fmt.Sprintf("account_id = %d", accountID)
	if l.UniqueField >= 0 && len(l.UniqueValues) > 0 {
		out = append(out, Statement{probeEach("prospects", prospectColumns, "unnest($1::text[]) AS k(v)",
			FieldExpr(c.Fields[l.UniqueField])+" = k.v AND "+account), []any{distinct(l.UniqueValues)}})
	}
	if len(l.FirstNames) > 0 {
		first, last := distinctPairs(l.FirstNames, l.LastNames)
		out = append(out, Statement{probeEach("prospects", prospectColumns, "unnest($1::text[], $2::text[]) AS k(first, last)",
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
func distinctPairs(first, last []string) ([]string, []string) {
	seen := make(map[[2]string]bool, len(first))
	var f, l []string
	for i := range first {
		if k := [2]string{first[i], last[i]}; !seen[k] {
			seen[k] = true
			f, l = append(f, first[i]), append(l, last[i])
		}
	}
	return f, l
}

// LoadProspects returns the account's prospects that have one of the lookup's emails, unique
// identifier values or name pairs, oldest first.
func LoadProspects(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, l ProspectLookup) ([]Prospect, error) {
	queries := ProspectLookups(c, accountID, l)
	seen := map[int64]bool{}
	var out []Prospect
	for _, qu := range queries {
		rows, err := q.Query(ctx, qu.SQL, qu.Args...)
		if err != nil {
			return nil, fmt.Errorf("load prospects: %w", err)
		}
		for rows.Next() {
			p, err := scanProspect(rows, c)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load prospects: %w", err)
			}
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load prospects: %w", err)
		}
	}
	sortByID(out)
	return out, nil
}

func sortByID(ps []Prospect) {
	slices.SortFunc(ps, func(a, b Prospect) int { return cmp.Compare(a.ID, b.ID) })
}

// The name pair that matching by name compares, lowercased, and indexed (EnsureLookupIndexes)
// for the prospects that have a name (nameGiven).
const (
	firstNameExpr = "lower(coalesce(first_name, ''))"
	lastNameExpr  = "lower(coalesce(last_name, ''))"
	nameExpr      = firstNameExpr + ", " + lastNameExpr
	nameGiven     = "(first_name IS NOT NULL OR last_name IS NOT NULL)"
)

// FieldExpr is the SQL expression of a single-valued field's stored value as text.
func FieldExpr(f crm.Field) string {
	if f.Custom {
		return "(custom->>'" + f.Key + "')" // keys are checked to be [a-z0-9_]
	}
	switch f.Key {
	case "email_opt_in":
		return "email_opt_in::text"
	case crm.FieldLeadOwner:
		return "lead_owner_id::text"
	case crm.FieldOrganization:
		return "organization_id::text"
	}
	return f.Key
}

func scanProspect(rows pgx.Rows, c *crm.Catalog) (Prospect, error) {
	text := make([]*string, len(textColumns))
	var owner, org *int64
	var optIn *bool
	var custom []byte
	dest := []any{new(int64)}
	for i := range text {
		dest = append(dest, &text[i])
	}
	dest = append(dest, &owner, &optIn, &org, &custom)
	if err := rows.Scan(dest...); err != nil {
		return Prospect{}, err
	}
	p := Prospect{ID: *dest[0].(*int64), Values: make([]string, len(c.Fields))}
	for i, col := range textColumns {
		if text[i] != nil {
			p.Values[c.MustIndex(col)] = *text[i]
		}
	}
	if owner != nil {
		p.Values[c.MustIndex(crm.FieldLeadOwner)] = strconv.FormatInt(*owner, 10)
	}
	if org != nil {
		p.Values[c.MustIndex(crm.FieldOrganization)] = strconv.FormatInt(*org, 10)
	}
	if optIn != nil {
		p.Values[c.MustIndex("email_opt_in")] = strconv.FormatBool(*optIn)
	}
	if len(custom) > 2 {
		var m map[string]any
		if err := json.Unmarshal(custom, &m); err != nil {
			return Prospect{}, fmt.Errorf("prospect %d: custom fields: %w", p.ID, err)
		}
		for i, f := range c.Fields {
			switch v := m[f.Key].(type) {
			case string:
				if f.Custom {
					p.Values[i] = v
				}
			case []any:
				parts := make([]string, 0, len(v))
				for _, x := range v {
					if s, ok := x.(string); ok {
						parts = append(parts, s)
					}
				}
				p.Values[i] = strings.Join(parts, ";")
			}
		}
	}
	return p, nil
}

// prospectRow converts a prospect's values to the column values of prospectColumns.
func prospectRow(c *crm.Catalog, p Prospect) ([]any, error) {
	row := make([]any, 0, len(prospectColumns))
	row = append(row, p.ID)
	for _, col := range textColumns {
		row = append(row, nullable(p.Values[c.MustIndex(col)]))
	}
	owner, err := nullableID(p.Values[c.MustIndex(crm.FieldLeadOwner)])
	if err != nil {
		return nil, err
	}
	var optIn any
	if v := p.Values[c.MustIndex("email_opt_in")]; v != "" {
		optIn = v == "true"
	}
	org, err := nullableID(p.Values[c.MustIndex(crm.FieldOrganization)])
	if err != nil {
		return nil, err
	}
	if !c.HasCustom() {
		return append(row, owner, optIn, org, "{}"), nil
	}
	custom := map[string]any{}
	for i, f := range c.Fields {
		if !f.Custom || p.Values[i] == "" {
			continue
		}
		if f.Type == crm.MultiPicklist {
			custom[f.Key] = strings.Split(p.Values[i], ";")
		} else {
			custom[f.Key] = p.Values[i]
		}
	}
	js, err := json.Marshal(custom)
	if err != nil {
		return nil, err
	}
	return append(row, owner, optIn, org, string(js)), nil
}

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
	if len(ps) == 0 {
		return nil
	}
	rows := make([][]any, len(ps))
	for i, p := range ps {
		r, err := prospectRow(c, p)
		if err != nil {
			return fmt.Errorf("insert prospects: %w", err)
		}
		rows[i] = append([]any{accountID}, r...)
	}
	cols := append([]string{"account_id"}, prospectColumns...)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"prospects"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert prospects: %w", err)
	}
	return nil
}

// ClearEmails empties the email of prospects whose email the batch moves elsewhere, before
// UpdateProspects and InsertProspects write the batch's final emails: the unique email index is
// checked row by row, so a prospect may only take an email another has left once that one's
// old value is gone.
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
	return Statement{"UPDATE prospects SET email = NULL WHERE account_id = $1 AND id = ANY($2)", []any{accountID, ids}}
}

// UpdateProspects writes the whole row of each changed prospect in one statement.
func UpdateProspects(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, ps []Prospect) error {
	if len(ps) == 0 {
		return nil
	}
	st, err := UpdateProspectsStatement(c, accountID, ps)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("update prospects: %w", err)
	}
	return nil
}

// UpdateProspectsStatement is the statement UpdateProspects runs: one array per column,
// unnested side by side.
func UpdateProspectsStatement(c *crm.Catalog, accountID int64, ps []Prospect) (Statement, error) {
	cols := make([][]any, len(prospectColumns))
	for _, p := range ps {
		r, err := prospectRow(c, p)
		if err != nil {
			return Statement{}, fmt.Errorf("update prospects: %w", err)
		}
		for i, v := range r {
			cols[i] = append(cols[i], v)
		}
	}
	args := []any{accountID}
	var params, sets []string
	for i, col := range prospectColumns {
		args = append(args, cols[i])
		params = append(params, fmt.Sprintf("$%d::%s[]", i+2, columnType(col)))
		if col != "id" {
			sets = append(sets, col+" = u."+col)
		}
	}
	sql := "UPDATE prospects p SET " + strings.Join(sets, ", ") + ", updated_at = now() FROM unnest(" +
		strings.Join(params, ", ") + ") AS u(" + strings.Join(prospectColumns, ", ") +
		") WHERE p.id = u.id AND p.account_id = $1"
	return Statement{sql, args}, nil
}

func columnType(col string) string {
	switch col {
	case "id", "lead_owner_id", "organization_id":
		return "bigint"
	case "email_opt_in":
		return "boolean"
	case "custom":
		return "jsonb"
	}
	return "text"
}

// IDBlock is how many ids one NextIDs call allocates; the *_id_blocks sequences of the schema
// step by it.
const IDBlock = 1000

// NextIDs allocates a block of IDBlock new ids for prospects or organizations (table names
// the sequence: "prospect" or "organization").
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

// EnsureLookupIndexes creates, when missing, the index that matching an account's rows by a
// unique identifier field (uniqueField >= 0) or by name needs. Each is a partial index of that
// account's prospects: an index on the whole table would make every account's inserts pay for
// one account's matching option (measured: a phone, a custom-field and a name index together
// made a 200,000-row import 75% slower). It runs CREATE INDEX CONCURRENTLY, outside any
// transaction, so imports writing meanwhile are not blocked.
//
// Each index holds only the prospects that have its value, and only the lookup of that value
// implies its condition. So no other lookup of the account can use it: while an import grows an
// account the planner's statistics still say the account is empty, and it then chose to read
// another lookup's index of the account whole, once per value looked up (measured: 306 s for
// one batch's emails at 50,000 prospects).
func EnsureLookupIndexes(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, uniqueField int, byName bool) error {
	type index struct{ name, on string }
	var indexes []index
	if uniqueField >= 0 {
		f := c.Fields[uniqueField]
		indexes = append(indexes, index{fmt.Sprintf("prospects_a%d_by_%s", accountID, f.Key),
			fmt.Sprintf("prospects (%s) WHERE account_id = %d AND %s IS NOT NULL", FieldExpr(f), accountID, FieldExpr(f))})
	}
	if byName {
		indexes = append(indexes, index{fmt.Sprintf("prospects_a%d_by_name", accountID),
			fmt.Sprintf("prospects (%s) WHERE account_id = %d AND %s", nameExpr, accountID, nameGiven)})
	}
	for _, ix := range indexes {
		if err := dropAbandonedIndex(ctx, q, ix.name); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, "CREATE INDEX CONCURRENTLY IF NOT EXISTS "+ix.name+" ON "+ix.on); err != nil {
			return fmt.Errorf("create lookup index: %w", err)
		}
	}
	return nil
}

// dropAbandonedIndex drops the index name if a build of it was cut short (the daemon stopped
// or was killed during CREATE INDEX CONCURRENTLY): Postgres then keeps it, invalid, under its
// name, and IF NOT EXISTS would take it for built. An index being built now is invalid too
// until its build ends, but it has a row in pg_stat_progress_create_index, and is left alone.
func dropAbandonedIndex(ctx context.Context, q Querier, name string) error {
	var abandoned bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = to_regclass($1) AND NOT i.indisvalid
		AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid))`, name).Scan(&abandoned); err != nil {
		return fmt.Errorf("lookup index %s: %w", name, err)
	}
	if !abandoned {
		return nil
	}
	if _, err := q.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
		return fmt.Errorf("drop the lookup index %s left invalid by a build cut short: %w", name, err)
	}
	return nil
}
