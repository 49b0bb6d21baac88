package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// ObjectType is a custom object type of an account. Its fields are the account's fields of
// entity Key; Identifier is the key of the one whose value identifies a record.
type ObjectType struct {
	ID         int64
	Key        string
	Label      string
	Identifier string
	CreatedAt  time.Time
}

// CreateObjectType adds an object type to an account after checking its definition
// (crm.CheckObjectType). A key or a label (case aside) the account already has is ErrExists.
// The identifier field is not created here (kinds/objects.Create does it in the same
// transaction): the fields of a type are the account's fields of entity key, and the type's
// records cannot be read or written until that one exists (ObjectRecordLookup says so).
func CreateObjectType(ctx context.Context, q Querier, accountID int64, key, label, identifier string) (ObjectType, error) {
	label = strings.TrimSpace(label)
	if err := crm.CheckObjectType(key, label, identifier); err != nil {
		return ObjectType{}, err
	}
	t := ObjectType{Key: key, Label: label, Identifier: identifier}
	err := q.QueryRow(ctx, `INSERT INTO object_types (account_id, key, label, identifier) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING id, created_at`, accountID, key, label, identifier).Scan(&t.ID, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := ObjectTypeByKey(ctx, q, accountID, key); err == nil {
			return ObjectType{}, fmt.Errorf("object type %q: %w", key, ErrExists)
		}
		return ObjectType{}, fmt.Errorf("object type labelled %q: %w", label, ErrExists)
	}
	if err != nil {
		return ObjectType{}, fmt.Errorf("create object type %q: %w", key, err)
	}
	return t, nil
}

// LockObjectType locks the row of an object type until the transaction ends, so that
// concurrent imports into the type write their batches one after another, each seeing the
// records the others created.
func LockObjectType(ctx context.Context, q Querier, t ObjectType) error {
	var id int64
	if err := q.QueryRow(ctx, "SELECT id FROM object_types WHERE id = $1 FOR UPDATE", t.ID).Scan(&id); err != nil {
		return fmt.Errorf("lock object type %q: %w", t.Key, err)
	}
	return nil
}

const objectTypeColumns = "id, key, label, identifier, created_at"

func scanObjectType(r pgx.CollectableRow) (ObjectType, error) {
	var t ObjectType
	err := r.Scan(&t.ID, &t.Key, &t.Label, &t.Identifier, &t.CreatedAt)
	return t, err
}

// ObjectTypes returns the account's object types in the order they were created.
func ObjectTypes(ctx context.Context, q Querier, accountID int64) ([]ObjectType, error) {
	rows, err := q.Query(ctx, "SELECT "+objectTypeColumns+" FROM object_types WHERE account_id = $1 ORDER BY id", accountID)
	if err != nil {
		return nil, fmt.Errorf("object types: %w", err)
	}
	types, err := pgx.CollectRows(rows, scanObjectType)
	if err != nil {
		return nil, fmt.Errorf("object types: %w", err)
	}
	return types, nil
}

// ObjectTypeByKey returns the account's object type with key, or ErrNotFound.
func ObjectTypeByKey(ctx context.Context, q Querier, accountID int64, key string) (ObjectType, error) {
	rows, err := q.Query(ctx, "SELECT "+objectTypeColumns+" FROM object_types WHERE account_id = $1 AND key = $2", accountID, key)
	if err != nil {
		return ObjectType{}, fmt.Errorf("object type %q: %w", key, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanObjectType)
	if errors.Is(err, pgx.ErrNoRows) {
		return ObjectType{}, fmt.Errorf("object type %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return ObjectType{}, fmt.Errorf("object type %q: %w", key, err)
	}
	return t, nil
}

// ObjectIdentifierKey returns the rule by which the identifying values of type t, with catalog
// c, compare, as identifier_value stores them: an email identifier case aside (SPEC §4), any
// other exactly.
func ObjectIdentifierKey(t ObjectType, c *crm.Catalog) func(string) string {
	if i := c.Index(t.Identifier); i >= 0 && c.Fields[i].Type == crm.Email {
		return strings.ToLower
	}
	return func(s string) string { return s }
}

// objectTable is object_records as the table of the records of type t, whose catalog c is the
// object kind's standard fields (the prospect link, kinds/objects) and the type's fields:
// identifier_value is derived from the identifying field (which custom holds too) by
// ObjectIdentifierKey.
func objectTable(t ObjectType, c *crm.Catalog) (recordTable, func(string) string, error) {
	i := c.Index(t.Identifier)
	if i < 0 {
		return recordTable{}, nil, fmt.Errorf("object %q: its identifier field %q does not exist yet: add it to the object's fields", t.Key, t.Identifier)
	}
	canon := ObjectIdentifierKey(t, c)
	return objectRecords(t, canon), canon, nil
}

// objectRecords is objectTable's table, whose identifier_value is canon(identifying value).
func objectRecords(t ObjectType, canon func(string) string) recordTable {
	return recordTable{name: "object_records", columns: []column{
		{name: "identifier_value", field: t.Identifier, typ: "text", derive: canon},
		{name: "prospect_id", field: crm.FieldProspect, typ: "bigint"},
	}, fixed: []fixedColumn{{"object_type_id", t.ID}}}
}

// ObjectRecordLookup is the query LoadObjectRecords runs: one probe of the unique index of
// (identifier_value, object_type_id) per value.
func ObjectRecordLookup(t ObjectType, c *crm.Catalog, accountID int64, identifiers []string) (Statement, error) {
	_, st, err := objectLookup(t, c, accountID, identifiers)
	return st, err
}

// objectLookup returns the table of type t and its lookup of the identifying values given.
func objectLookup(t ObjectType, c *crm.Catalog, accountID int64, identifiers []string) (recordTable, Statement, error) {
	table, canon, err := objectTable(t, c)
	if err != nil {
		return recordTable{}, Statement{}, err
	}
	values := make([]string, len(identifiers))
	for i, v := range identifiers {
		values[i] = canon(v)
	}
	return table, table.probe("unnest($3::text[]) AS k(v)", "identifier_value = k.v AND object_type_id = $2 AND account_id = $1",
		accountID, t.ID, distinct(values)), nil
}

// LoadObjectRecords returns the account's records of type t whose identifying field has one of
// the values given (as the value rules give them), oldest first.
func LoadObjectRecords(ctx context.Context, q Querier, t ObjectType, c *crm.Catalog, accountID int64, identifiers []string) ([]Record, error) {
	table, st, err := objectLookup(t, c, accountID, identifiers)
	if err != nil || len(identifiers) == 0 {
		return nil, err
	}
	return loadRecords(ctx, q, table, c, []Statement{st})
}

// InsertObjectRecords writes new records of type t (their ids already allocated, from
// NextIDs(…, "object_record")) with COPY. Each must have a value of the identifying field.
func InsertObjectRecords(ctx context.Context, tx pgx.Tx, t ObjectType, c *crm.Catalog, accountID int64, rs []Record) error {
	table, _, err := objectTable(t, c)
	if err != nil {
		return err
	}
	return insertRecords(ctx, tx, table, c, accountID, rs)
}

// UpdateObjectRecords writes the whole row of each changed record of type t in one statement.
func UpdateObjectRecords(ctx context.Context, tx pgx.Tx, t ObjectType, c *crm.Catalog, accountID int64, rs []Record) error {
	table, _, err := objectTable(t, c)
	if err != nil {
		return err
	}
	return updateRecords(ctx, tx, table, c, accountID, rs)
}
