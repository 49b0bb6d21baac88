package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/leadpipe/leadpipe/crm"
)

// Record is a row of a record kind (a prospect, an organization, a deal, an object record) as
// the import stages see it: its id and one canonical value per field of the kind's catalog
// ("" = no value). A link (Lead Owner, Organization, Prospect) holds the linked row's id in
// decimal; a multi-picklist holds its values joined by ";".
type Record struct {
	ID     int64
	Values []string
	// UpdatedAt is the record's updated_at as it was loaded; zero for a record not loaded from
	// the database.
	UpdatedAt time.Time
	// Addr is where the record's row was when it was loaded (its ctid), for an update to find
	// it there without a probe of the primary key; invalid for a record not loaded. A statement
	// since may have moved the row (every update writes a new version): the update checks.
	Addr pgtype.TID
}

// recordTable describes the table of a record kind: the columns that hold its standard fields,
// then its custom fields in the jsonb column custom. Every kind is read (scan), written (row),
// looked up (probe, fieldExpr) and indexed (lookupIndex) through it.
type recordTable struct {
	name    string
	columns []column
	// fixed columns are written with the same value for every new record (an object record's
	// type) and never read back.
	fixed []fixedColumn
}

// column is a column of a record table that holds the value of one field of the catalog.
type column struct {
	name  string
	field string // the key of the catalog field it stores
	typ   string // text, bigint, boolean, numeric or date
	// derive, when set, makes the column a function of the field's value, written and never
	// read back: a match key such as an organization's name_key.
	derive func(string) string
}

type fixedColumn struct {
	name  string
	value any
}

// textColumns returns a text column per field key, named after it.
func textColumns(keys ...string) []column {
	cols := make([]column, len(keys))
	for i, k := range keys {
		cols[i] = column{name: k, field: k, typ: "text"}
	}
	return cols
}

// read reports whether a column is read back into a record's values.
func (col column) read() bool { return col.derive == nil }

// stored returns, for each field of c, whether t stores its value: in a column it reads back,
// or, a custom field, in custom. The other fields of a catalog (a deal's prospect email, a
// prospect's full name) only serve to import a row.
func (t recordTable) stored(c *crm.Catalog) []bool {
	out := make([]bool, len(c.Fields))
	for i, f := range c.Fields {
		out[i] = f.Custom
	}
	for _, col := range t.columns {
		if col.read() {
			out[c.MustIndex(col.field)] = true
		}
	}
	return out
}

// selectList is what a lookup of the table selects, in the order scan reads: the id, its
// updated_at, the row's address, each column read back as text, and the custom fields.
func (t recordTable) selectList() []string {
	out := []string{"id", "updated_at", "ctid"}
	for _, col := range t.columns {
		switch {
		case !col.read():
		case col.typ == "text":
			out = append(out, col.name)
		case col.typ == "date":
			out = append(out, "to_char("+col.name+", 'YYYY-MM-DD')") // whatever the DateStyle
		default:
			out = append(out, col.name+"::text")
		}
	}
	return append(out, "custom")
}

// writeColumns are the columns row returns values for, in its order.
func (t recordTable) writeColumns() []string {
	out := []string{"id"}
	for _, col := range t.columns {
		out = append(out, col.name)
	}
	return append(out, "custom")
}

// StoredProspectFields returns, for each field of the catalog of prospects, whether the
// prospects table stores it (full_name is not stored).
func StoredProspectFields(c *crm.Catalog) []bool { return prospectTable.stored(c) }

// StoredOrganizationFields is StoredProspectFields for organizations.
func StoredOrganizationFields(c *crm.Catalog) []bool { return organizationTable.stored(c) }

// StoredDealFields is StoredProspectFields for deals: the fields that name a deal's prospect
// are not stored, the prospect link is.
func StoredDealFields(c *crm.Catalog) []bool { return dealTable.stored(c) }

// StoredObjectFields is StoredProspectFields for the records of object type t: the prospect
// email is not stored, the prospect link is.
func StoredObjectFields(t ObjectType, c *crm.Catalog) []bool {
	return objectRecords(t, ObjectIdentifierKey(t, c)).stored(c)
}

// fieldExpr is the SQL expression of a single-valued field's stored value as text, as lookups
// compare it and lookup indexes index it.
func (t recordTable) fieldExpr(f crm.Field) string {
	if f.Custom {
		return "(custom->>'" + f.Key + "')" // keys are checked to be [a-z0-9_]
	}
	for _, col := range t.columns {
		if col.field == f.Key && col.read() {
			if col.typ == "text" {
				return col.name
			}
			return col.name + "::text"
		}
	}
	return f.Key
}

// probe is a lookup of the table's records, one index probe per value (see probeEach).
func (t recordTable) probe(keys, cond string, args ...any) Statement {
	return Statement{probeEach(t.name, t.selectList(), keys, cond), args}
}

// scan reads a row of selectList into a record of the catalog, then into extra any columns
// selected after them.
func (t recordTable) scan(rows pgx.Rows, c *crm.Catalog, extra ...any) (Record, error) {
	return t.scanner(c, extra...).scan(rows)
}

// recordScanner reads rows of a table's selectList into records of a catalog, reusing what it
// scans into from row to row.
type recordScanner struct {
	t         recordTable
	c         *crm.Catalog
	fields    []int // the catalog index of each column read back
	id        int64
	updatedAt time.Time
	addr      pgtype.TID
	custom    []byte
	dest      []any    // nil for the columns of fields, whose bytes scan reads itself
	text      []string // the field columns of the row scanned last
	checked   bool     // the result's field columns were found to be text
}

// scanner returns a recordScanner of t's rows into records of c, then into extra.
func (t recordTable) scanner(c *crm.Catalog, extra ...any) *recordScanner {
	s := &recordScanner{t: t, c: c}
	for _, col := range t.columns {
		if col.read() {
			s.fields = append(s.fields, c.MustIndex(col.field))
		}
	}
	s.dest = append([]any{&s.id, &s.updatedAt, &s.addr}, make([]any, len(s.fields))...)
	s.text = make([]string, len(s.fields))
	s.dest = append(append(s.dest, &s.custom), extra...)
	return s
}

// copyText sets dst[i] to the text column whose bytes are raw[i] (a text value's bytes are
// its text in either format), the strings sharing one allocation instead of one each.
func copyText(dst []string, raw [][]byte) {
	n := 0
	for _, b := range raw {
		n += len(b)
	}
	var all strings.Builder
	all.Grow(n)
	for _, b := range raw {
		all.Write(b)
	}
	text := all.String()
	for i, b := range raw {
		dst[i], text = text[:len(b)], text[len(b):]
	}
}

// firstField is the position of the first field column in a row of selectList.
const firstField = 3

// scan reads the current row. The field columns, all text (selectList casts them), are
// copied from the row's bytes (copyText): through pgx's Scan, each cost a reflective
// allocation of a *string, a tenth of leadpipe's CPU on a re-import.
func (s *recordScanner) scan(rows pgx.Rows) (Record, error) {
	t, c := s.t, s.c
	if !s.checked {
		for _, fd := range rows.FieldDescriptions()[firstField : firstField+len(s.fields)] {
			if fd.DataTypeOID != pgtype.TextOID {
				return Record{}, fmt.Errorf("%s: column %s is of type %d, not text", t.name, fd.Name, fd.DataTypeOID)
			}
		}
		s.checked = true
	}
	if err := rows.Scan(s.dest...); err != nil {
		return Record{}, err
	}
	id, custom := s.id, s.custom
	r := Record{ID: id, Values: make([]string, len(c.Fields)), UpdatedAt: s.updatedAt, Addr: s.addr}
	copyText(s.text, rows.RawValues()[firstField:firstField+len(s.fields)])
	for i, f := range s.fields {
		r.Values[f] = s.text[i]
	}
	if len(custom) > 2 {
		var m map[string]any
		if err := json.Unmarshal(custom, &m); err != nil {
			return Record{}, fmt.Errorf("%s %d: custom fields: %w", t.name, id, err)
		}
		for i, f := range c.Fields {
			switch v := m[f.Key].(type) {
			case string:
				if f.Custom {
					r.Values[i] = v
				}
			case []any:
				parts := make([]string, 0, len(v))
				for _, x := range v {
					if str, ok := x.(string); ok {
						parts = append(parts, str)
					}
				}
				r.Values[i] = strings.Join(parts, ";")
			}
		}
	}
	return r, nil
}

// row converts a record's values to the values of writeColumns.
func (t recordTable) row(c *crm.Catalog, fields []int, r Record) ([]any, error) {
	out := make([]any, 0, len(t.columns)+2)
	out = append(out, r.ID)
	for k, col := range t.columns {
		v, err := col.value(r.Values[fields[k]])
		if err != nil {
			return nil, fmt.Errorf("%s %d: %s: %w", t.name, r.ID, col.field, err)
		}
		out = append(out, v)
	}
	custom, err := t.customJSON(c, r)
	if err != nil {
		return nil, err
	}
	return append(out, custom), nil
}

// customJSON is the custom column of record r: its custom fields' values, by key.
func (t recordTable) customJSON(c *crm.Catalog, r Record) (string, error) {
	if !c.HasCustom() {
		return "{}", nil
	}
	custom := map[string]any{}
	for i, f := range c.Fields {
		if !f.Custom || r.Values[i] == "" {
			continue
		}
		if f.Type == crm.MultiPicklist {
			custom[f.Key] = strings.Split(r.Values[i], ";")
		} else {
			custom[f.Key] = r.Values[i]
		}
	}
	js, err := json.Marshal(custom)
	if err != nil {
		return "", err
	}
	return string(js), nil
}

// fieldIndexes is, for each column of t, the catalog index of its field.
func (t recordTable) fieldIndexes(c *crm.Catalog) []int {
	out := make([]int, len(t.columns))
	for k, col := range t.columns {
		out[k] = c.MustIndex(col.field)
	}
	return out
}

// value converts a field's canonical value to the column's.
func (col column) value(s string) (any, error) {
	if col.derive != nil {
		s = col.derive(s)
	}
	if s == "" {
		return nil, nil
	}
	switch col.typ {
	case "bigint":
		return nullableID(s)
	case "boolean":
		return s == "true", nil
	case "numeric":
		var n pgtype.Numeric
		if err := n.Scan(s); err != nil {
			return nil, fmt.Errorf("bad number %q", s)
		}
		return n, nil
	case "date":
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("bad date %q", s)
		}
		return pgtype.Date{Time: d, Valid: true}, nil
	}
	return s, nil
}

// loadRecords runs lookups of t and returns the records they find, each once, oldest first.
// A record two lookups find is kept as the first one read it. One lookup's repeats (of keys
// that repeat) are copies of the same version: with a single lookup, they are dropped after
// the sort, where they are neighbours, without a map of the ids seen, which took a tenth of a
// re-import's reading of its lookups (docs/architecture.md).
func loadRecords(ctx context.Context, q Querier, t recordTable, c *crm.Catalog, lookups []Statement) ([]Record, error) {
	var seen map[int64]bool // across lookups
	if len(lookups) > 1 {
		seen = map[int64]bool{}
	}
	var out []Record
	for _, l := range lookups {
		rows, err := q.Query(ctx, l.SQL, l.Args...)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", t.name, err)
		}
		sc := t.scanner(c)
		for rows.Next() {
			r, err := sc.scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load %s: %w", t.name, err)
			}
			if seen != nil {
				if seen[r.ID] {
					continue
				}
				seen[r.ID] = true
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.name, err)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b Record) bool { return a.ID == b.ID }), nil
}

// insertRecords writes new records of t (their ids already allocated) with COPY.
func insertRecords(ctx context.Context, tx pgx.Tx, t recordTable, c *crm.Catalog, accountID int64, rs []Record) error {
	if len(rs) == 0 {
		return nil
	}
	lead := []any{accountID}
	cols := []string{"account_id"}
	for _, f := range t.fixed {
		lead, cols = append(lead, f.value), append(cols, f.name)
	}
	cols = append(cols, t.writeColumns()...)
	fields := t.fieldIndexes(c)
	if t.binaryWritable() {
		data, err := t.binaryRows(c, fields, accountID, rs)
		if err != nil {
			return fmt.Errorf("insert %s: %w", t.name, err)
		}
		if _, err := data.copyTo(ctx, tx, t.name, cols); err != nil {
			return fmt.Errorf("insert %s: %w", t.name, err)
		}
		return nil
	}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		values, err := t.row(c, fields, r)
		if err != nil {
			return fmt.Errorf("insert %s: %w", t.name, err)
		}
		rows[i] = append(slices.Clip(lead), values...)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert %s: %w", t.name, err)
	}
	return nil
}

// binaryWritable reports whether binaryRows can write t's rows: its columns are text, bigint
// and boolean, and its fixed values bigints (the prospects, organizations and object records;
// deals, with a numeric and a date, go through pgx's CopyFrom).
func (t recordTable) binaryWritable() bool {
	for _, col := range t.columns {
		if col.typ != "text" && col.typ != "bigint" && col.typ != "boolean" {
			return false
		}
	}
	for _, f := range t.fixed {
		if _, ok := f.value.(int64); !ok {
			return false
		}
	}
	return true
}

// binaryRows is the binary COPY data of rs, in the order of insertRecords' columns: what
// row's values would be, appended as bytes rather than boxed one by one for pgx to encode
// (on a fresh 1M-row import, pgx's encoding of the boxed values was about a tenth of
// leadpipe's CPU).
func (t recordTable) binaryRows(c *crm.Catalog, fields []int, accountID int64, rs []Record) (*binaryCopy, error) {
	data := newBinaryCopy(len(rs), 300)
	width := 1 + len(t.fixed) + 1 + len(t.columns) + 1
	for _, r := range rs {
		data.row(width)
		data.int8(accountID)
		for _, f := range t.fixed {
			data.int8(f.value.(int64))
		}
		data.int8(r.ID)
		for k, col := range t.columns {
			v := r.Values[fields[k]]
			if col.derive != nil {
				v = col.derive(v)
			}
			switch {
			case v == "":
				data.null()
			case col.typ == "bigint":
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s %d: %s: bad id %q: %w", t.name, r.ID, col.field, v, err)
				}
				data.int8(id)
			case col.typ == "boolean":
				data.boolean(v == "true")
			default:
				data.text(v)
			}
		}
		custom, err := t.customJSON(c, r)
		if err != nil {
			return nil, err
		}
		data.jsonb([]byte(custom))
	}
	return data, nil
}

// updateRecords writes the whole row of each changed record of t in one statement.
func updateRecords(ctx context.Context, tx pgx.Tx, t recordTable, c *crm.Catalog, accountID int64, rs []Record) error {
	e, err := t.encodeUpdate(tx.Conn().TypeMap(), c, accountID, rs, nil, false)
	if err != nil {
		return err
	}
	if err := e.Exec(ctx, tx); err != nil {
		return fmt.Errorf("update %s: %w", t.name, err)
	}
	return nil
}

// encodeUpdate is the update of the fields of the catalog that changed says (by index; nil:
// every field) of each record of t, one statement encoded with m (a connection's types) for
// Encoded.Exec to run; nothing when rs is empty. The records' other columns stay as stored.
// atAddress: each record only at its row's address (unnestUpdate).
func (t recordTable) encodeUpdate(m *pgtype.Map, c *crm.Catalog, accountID int64, rs []Record, changed []bool, atAddress bool) (Encoded, error) {
	if len(rs) == 0 {
		return Encoded{}, nil
	}
	st, oids, err := t.unnestUpdate(c, accountID, rs, nil, changed, atAddress)
	if err != nil {
		return Encoded{}, err
	}
	e, err := encode(m, st, oids)
	if err != nil {
		return Encoded{}, err
	}
	e.atAddress = atAddress
	return e, nil
}

// restore is update setting each record's updated_at to updatedAt[i] instead of now(): the
// statement an undo puts records back with.
func (t recordTable) restore(c *crm.Catalog, accountID int64, rs []Record, updatedAt []time.Time) (Statement, error) {
	st, _, err := t.unnestUpdate(c, accountID, rs, updatedAt, nil, false)
	return st, err
}

// unnestUpdate is the statement of update (updatedAt nil: updated now) and restore. It sets
// the columns of the fields changed says (nil: all), and custom when a custom field is among
// them: every array costs leadpipe its encoding and Postgres its decoding, so a re-import
// that changes one field sends two arrays, not eighteen (docs/architecture.md, "Updating
// what changed"). oids are the types of its parameters, for encode. atAddress: it finds each
// record only at its row's address, and leaves a record whose row moved as it is; it must run
// with the planner's settings AtAddressPlan (Encoded.atAddress).
func (t recordTable) unnestUpdate(c *crm.Catalog, accountID int64, rs []Record, updatedAt []time.Time, changed []bool, atAddress bool) (st Statement, oids []uint32, err error) {
	fields := t.fieldIndexes(c)
	var picked []int // of t.columns
	for k := range t.columns {
		if changed == nil || changed[fields[k]] {
			picked = append(picked, k)
		}
	}
	custom := changed == nil
	for i, f := range c.Fields {
		custom = custom || (f.Custom && changed[i])
	}
	ids := make([]int64, len(rs))
	addrs := make(pgtype.FlatArray[pgtype.TID], len(rs))
	cols := make([]columnValues, len(picked))
	for j, k := range picked {
		cols[j] = newColumnValues(t.columns[k], len(rs))
	}
	var customs []string
	for n, r := range rs {
		ids[n], addrs[n] = r.ID, r.Addr
		for j, k := range picked {
			if err := cols[j].set(n, r.Values[fields[k]]); err != nil {
				return Statement{}, nil, fmt.Errorf("update %s: %s %d: %s: %w", t.name, t.name, r.ID, t.columns[k].field, err)
			}
		}
		if custom {
			js, err := t.customJSON(c, r)
			if err != nil {
				return Statement{}, nil, fmt.Errorf("update %s: %w", t.name, err)
			}
			customs = append(customs, js)
		}
	}
	args := []any{accountID, ids, addrs}
	oids = []uint32{pgtype.Int8OID, pgtype.Int8ArrayOID, pgtype.TIDArrayOID}
	names := []string{"id", "addr"}
	params := []string{"$2::bigint[]", "$3::tid[]"}
	sets := []string{}
	add := func(name, typ string, values any) {
		args = append(args, values)
		oids = append(oids, arrayOIDs[typ])
		names = append(names, name)
		params = append(params, fmt.Sprintf("$%d::%s[]", len(args), typ))
		sets = append(sets, name+" = u."+name)
	}
	for j, k := range picked {
		col := t.columns[k]
		add(col.name, col.typ, cols[j].array())
	}
	if custom {
		add("custom", "jsonb", customs)
	}
	stamp := "now()"
	if updatedAt != nil {
		args = append(args, updatedAt)
		oids = append(oids, pgtype.TimestamptzArrayOID)
		params = append(params, fmt.Sprintf("$%d::timestamptz[]", len(args)))
		names = append(names, "updated_at")
		stamp = "u.updated_at"
	}
	sets = append(sets, "updated_at = "+stamp)
	sql := "UPDATE " + t.name + " p SET " + strings.Join(sets, ", ") + " FROM unnest(" +
		strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")"
	if atAddress {
		// Joined straight to the row at its address, which the planner reads one by one only
		// because AtAddressPlan leaves it no other way to read the table: a tenth less of
		// Postgres's time per update than the subquery below (docs/architecture.md, "The early
		// update joined at its rows' addresses").
		return Statement{sql + " WHERE p.ctid = u.addr AND p.id = u.id AND p.account_id = $1", args}, oids, nil
	}
	// Each record is found at its row's address as it was loaded (Record.Addr) when the row
	// there is still the record's and visible (no statement since, of this transaction or
	// another, moved it: every update writes a new version), or else by its id within the
	// account, one probe of the primary key; the probe costs 12% of an update of 5,000 rows
	// (docs/architecture.md, "Updating by the row's address"). The address is found in a LATERAL
	// subquery the planner cannot flatten (OFFSET 0), then the row by it: joined by id or by
	// address, the planner took an account its statistics do not know yet for one row, and
	// hashed the whole table (store/lookupplans_test.go).
	sql += " CROSS JOIN LATERAL (SELECT coalesce(" +
		"(SELECT ctid FROM " + t.name + " WHERE ctid = u.addr AND id = u.id AND account_id = $1), " +
		"(SELECT ctid FROM " + t.name + " WHERE id = u.id AND account_id = $1)) AS row OFFSET 0) k WHERE p.ctid = k.row"
	return Statement{sql, args}, oids, nil
}

// arrayOIDs are the types of arrays of the column types unnestUpdate sends.
var arrayOIDs = map[string]uint32{"text": pgtype.TextArrayOID, "bigint": pgtype.Int8ArrayOID,
	"boolean": pgtype.BoolArrayOID, "numeric": pgtype.NumericArrayOID, "date": pgtype.DateArrayOID,
	"jsonb": pgtype.JSONBArrayOID}

// columnValues are one column's values for an update's array, a text column's held as text:
// a value of another type is boxed (an allocation each), and on a re-import that updates every
// prospect most of the columns it sets are text.
type columnValues struct {
	col   column
	text  pgtype.FlatArray[pgtype.Text] // a text column's
	other []any                         // another column's, converted by value
}

// newColumnValues holds n values of col.
func newColumnValues(col column, n int) columnValues {
	if col.typ == "text" {
		return columnValues{col: col, text: make(pgtype.FlatArray[pgtype.Text], n)}
	}
	return columnValues{col: col, other: make([]any, n)}
}

// set sets the n-th value from a field's canonical value s.
func (v columnValues) set(n int, s string) (err error) {
	if v.text == nil {
		v.other[n], err = v.col.value(s)
		return err
	}
	if v.col.derive != nil {
		s = v.col.derive(s)
	}
	v.text[n] = pgtype.Text{String: s, Valid: s != ""} // value's "" is NULL
	return nil
}

// array is the values as the update sends them.
func (v columnValues) array() any {
	if v.text != nil {
		return v.text
	}
	return typedArray(v.col.typ, v.other)
}

// typedArray is a column's values, not text, as an array of the column's type, where that
// spares pgx finding an encoder for each element of a []any (by reflection): bigint columns
// become FlatArray[Int8], boolean ones FlatArray[Bool]. On a re-import that updates every
// prospect, encoding the []any arrays took about a tenth of leadpipe's CPU.
func typedArray(typ string, values []any) any {
	switch typ {
	case "bigint":
		return typedValues(values, func(v int64) pgtype.Int8 { return pgtype.Int8{Int64: v, Valid: true} })
	case "boolean":
		return typedValues(values, func(v bool) pgtype.Bool { return pgtype.Bool{Bool: v, Valid: true} })
	}
	return values
}

// typedValues converts values, each a V or nil (NULL), to a FlatArray of T, or returns values
// as they are when one is of another type.
func typedValues[V any, T any](values []any, valid func(V) T) any {
	out := make(pgtype.FlatArray[T], len(values))
	for i, v := range values {
		switch x := v.(type) {
		case V:
			out[i] = valid(x)
		case nil: // the zero T is NULL
		default:
			return values
		}
	}
	return out
}

// uniqueFieldIndex is the lookup index of t's records by the field at index field of the
// catalog: only the records that have a value of it.
func (t recordTable) uniqueFieldIndex(c *crm.Catalog, field int) lookupIndex {
	f := c.Fields[field]
	e := t.fieldExpr(f)
	return lookupIndex{table: t.name, lookup: "by_" + f.Key, columns: e, cond: e + " IS NOT NULL"}
}

// uniqueFieldLookup is the lookup of an account's records of t by values of the field at index
// field. The account id is written into it, not passed as a parameter, so that the planner can
// prove the partial index of uniqueFieldIndex applies even to a generic plan.
func (t recordTable) uniqueFieldLookup(c *crm.Catalog, accountID int64, field int, values []string) Statement {
	return t.probe("unnest($1::text[]) AS k(v)", t.uniqueFieldCond(c.Fields[field], accountID), distinct(values))
}

// uniqueFieldCond is the condition of uniqueFieldLookup on the values k.v.
func (t recordTable) uniqueFieldCond(f crm.Field, accountID int64) string {
	return fmt.Sprintf("%s = k.v AND account_id = %d", t.fieldExpr(f), accountID)
}
