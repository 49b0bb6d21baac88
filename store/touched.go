package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// Touched is a record an import created or touched: the record's id and whether one of the
// import's rows created it.
type Touched struct {
	ID      int64
	Created bool
}

// TouchedRecords returns a page of the records an import created or touched (its rows'
// entity ids, each once), in id order after the id after, at most limit; with createdOnly,
// only those it created. The page is read from the index of (import_id, entity_id) and from
// the runs that may hold one of its ids (recordsAfterEach), each part at most limit ids: a
// page costs what it returns and the runs that hold its ids (a few thousand ids each), however
// many rows the import had.
func TouchedRecords(ctx context.Context, q Querier, importID, after int64, createdOnly bool, limit int) ([]Touched, error) {
	rows, err := q.Query(ctx, `SELECT entity_id, bool_or(created) FROM (
			(SELECT entity_id, bool_or(outcome = 'created') AS created FROM import_outcome_rows
			WHERE import_id = $1 AND entity_id IS NOT NULL AND entity_id > $2
			GROUP BY entity_id HAVING bool_or(outcome = 'created') OR NOT $3
			ORDER BY entity_id LIMIT $4)`+
		recordsAfterEach(func(t runTable) string {
			return fmt.Sprintf("id, %t", t == createdRuns)
		}, func(t runTable) string {
			if t == createdRuns {
				return ""
			}
			return "NOT $3" // only created records asked for: the others' runs are not read
		}, "$1", "$2", "$4")+`) t
		GROUP BY entity_id HAVING bool_or(created) OR NOT $3 ORDER BY entity_id LIMIT $4`, importID, after, createdOnly, limit)
	if err != nil {
		return nil, fmt.Errorf("records of import %d: %w", importID, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Touched, error) {
		var t Touched
		err := r.Scan(&t.ID, &t.Created)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("records of import %d: %w", importID, err)
	}
	return list, nil
}

// byID is the lookup of an account's records of t with the ids given; and is more of the
// condition (an object record's type).
func (t recordTable) byID(accountID int64, ids []int64, and string) Statement {
	return t.probe("unnest($2::bigint[]) AS k(v)", "id = k.v AND account_id = $1"+and, accountID, ids)
}

// ProspectsByID returns the account's prospects with these ids, by id; ids of no prospect of
// the account are left out.
func ProspectsByID(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, ids []int64) ([]Record, error) {
	return loadRecords(ctx, q, prospectTable, c, []Statement{prospectTable.byID(accountID, ids, "")})
}

// OrganizationsByID is ProspectsByID for organizations.
func OrganizationsByID(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, ids []int64) ([]Record, error) {
	return loadRecords(ctx, q, organizationTable, c, []Statement{organizationTable.byID(accountID, ids, "")})
}

// DealsByID is ProspectsByID for deals.
func DealsByID(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, ids []int64) ([]Record, error) {
	return loadRecords(ctx, q, dealTable, c, []Statement{dealTable.byID(accountID, ids, "")})
}

// ObjectRecordsByID is ProspectsByID for the records of object type t.
func ObjectRecordsByID(ctx context.Context, q Querier, t ObjectType, c *crm.Catalog, accountID int64, ids []int64) ([]Record, error) {
	table, _, err := objectTable(t, c)
	if err != nil {
		return nil, err
	}
	st := table.byID(accountID, ids, fmt.Sprintf(" AND object_type_id = %d", t.ID))
	return loadRecords(ctx, q, table, c, []Statement{st})
}
