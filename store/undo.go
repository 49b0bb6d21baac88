package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// What an undo of an import (kinds/internal/undo) reads and writes: the records the import
// created or changed, with when they were created and last updated; what links to them; the
// memberships the import added; the account's prospect count; the organizations the import
// created on the side.

// UndoTable is the table of a record kind as an undo reads and writes it.
type UndoTable struct {
	t recordTable
	// and is more of the condition that selects the kind's records (an object record's type).
	and string
}

// ProspectUndoTable is the prospects table.
func ProspectUndoTable() UndoTable { return UndoTable{t: prospectTable} }

// OrganizationUndoTable is the organizations table.
func OrganizationUndoTable() UndoTable { return UndoTable{t: organizationTable} }

// DealUndoTable is the deals table.
func DealUndoTable() UndoTable { return UndoTable{t: dealTable} }

// ObjectUndoTable is the table of the records of object type t, whose catalog is c.
func ObjectUndoTable(t ObjectType, c *crm.Catalog) (UndoTable, error) {
	table, _, err := objectTable(t, c)
	return UndoTable{t: table, and: fmt.Sprintf(" AND object_type_id = %d", t.ID)}, err
}

// StampedRecord is a record with when it was created (and, as every loaded Record, last updated).
type StampedRecord struct {
	Record
	CreatedAt time.Time
}

// Load returns the account's records of the table with these ids, their values by the
// catalog c, in id order; an id of no such record is left out. One query.
func (u UndoTable) Load(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, ids []int64) ([]StampedRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	t := u.t
	rows, err := q.Query(ctx, probeEach(t.name, append(t.selectList(), "created_at"), "unnest($2::bigint[]) AS k(v)",
		"id = k.v AND account_id = $1"+u.and)+" ORDER BY 1", accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("load %s to undo: %w", t.name, err)
	}
	defer rows.Close()
	var out []StampedRecord
	for rows.Next() {
		var r StampedRecord
		if r.Record, err = t.scan(rows, c, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("load %s to undo: %w", t.name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load %s to undo: %w", t.name, err)
	}
	return out, nil
}

// Existing returns which of ids are the account's records of the table.
func (u UndoTable) Existing(ctx context.Context, q Querier, accountID int64, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, "SELECT id FROM "+u.t.name+" WHERE account_id = $1 AND id = ANY($2)"+u.and, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("%s that exist: %w", u.t.name, err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("%s that exist: %w", u.t.name, err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// Delete deletes the account's records of the table with these ids and returns how many it
// deleted.
func (u UndoTable) Delete(ctx context.Context, tx pgx.Tx, accountID int64, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, "DELETE FROM "+u.t.name+" WHERE account_id = $1 AND id = ANY($2)"+u.and, accountID, ids)
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", u.t.name, err)
	}
	return tag.RowsAffected(), nil
}

// Restore writes the whole row of each record in one statement, as the import writers' update
// does, with its updated_at as given (never now()).
func (u UndoTable) Restore(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, rs []StampedRecord) error {
	if len(rs) == 0 {
		return nil
	}
	records := make([]Record, len(rs))
	stamps := make([]time.Time, len(rs))
	for i, r := range rs {
		records[i], stamps[i] = r.Record, r.UpdatedAt
	}
	st, err := u.t.restore(c, accountID, records, stamps)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("restore %s: %w", u.t.name, err)
	}
	return nil
}

// Link is a column of a table that links its rows to records of another kind.
type Link struct {
	table, column string
	// noun is the SQL expression of what one row of the table is called, for messages.
	noun string
}

// LinksToProspects are the links to prospects: a deal's, an object record's.
var LinksToProspects = []Link{
	{"deals", "prospect_id", "'deal'"},
	{"object_records", "prospect_id", "(SELECT lower(label) FROM object_types WHERE id = object_type_id)"},
}

// LinksToOrganizations are the links to organizations: a prospect's, a deal's.
var LinksToOrganizations = []Link{
	{"prospects", "organization_id", "'prospect'"},
	{"deals", "organization_id", "'deal'"},
}

// LinkedBy returns which of the ids of the account's records one of the links links to, each
// with what links to it ("deal 12", the oldest such row of the first link that has one).
//
// No index serves a link column: each link is one scan of its table, which the ids join by a
// hash (measured: 0.2–0.5 s for 5,000 ids over 1M prospects, where column = ANY($2), its array
// a parameter, took 60 s, and NOT EXISTS per organization longer than 12 minutes).
func LinkedBy(ctx context.Context, q Querier, accountID int64, links []Link, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	parts := make([]string, len(links))
	for i, l := range links {
		parts[i] = fmt.Sprintf("(SELECT DISTINCT ON (%[2]s) %[2]s, %[3]s || ' ' || id, %[4]d FROM %[1]s JOIN unnest($2::bigint[]) AS k(v) ON %[2]s = k.v WHERE account_id = $1 ORDER BY %[2]s, id)",
			l.table, l.column, l.noun, i)
	}
	rows, err := q.Query(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY 3 DESC", accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("links to records to undo: %w", err)
	}
	var id int64
	var by string
	var link int
	_, err = pgx.ForEachRow(rows, []any{&id, &by, &link}, func() error {
		out[id] = by // the first link's row last, so that it wins
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("links to records to undo: %w", err)
	}
	return out, nil
}

// Membership is a prospect's membership of a list, tag or campaign.
type Membership struct {
	ProspectID int64
	Kind, Name string // the grouping's
	ImportID   int64  // the import that added it; 0 for none
}

// Memberships returns the memberships of the account's prospects with these ids. Each
// (grouping, prospect) pair is one probe of the primary key.
func Memberships(ctx context.Context, q Querier, accountID int64, prospectIDs []int64) ([]Membership, error) {
	if len(prospectIDs) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT m.prospect_id, g.kind, g.name, coalesce(m.import_id, 0)
		FROM groupings g CROSS JOIN unnest($2::bigint[]) AS p(id)
		CROSS JOIN LATERAL (SELECT prospect_id, import_id FROM grouping_members
			WHERE grouping_id = g.id AND prospect_id = p.id OFFSET 0) m
		WHERE g.account_id = $1 ORDER BY m.prospect_id, g.id`, accountID, prospectIDs)
	if err != nil {
		return nil, fmt.Errorf("memberships of prospects to undo: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Membership, error) {
		var m Membership
		err := r.Scan(&m.ProspectID, &m.Kind, &m.Name, &m.ImportID)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("memberships of prospects to undo: %w", err)
	}
	return out, nil
}

// DeleteMemberships removes the memberships an import added for the account's prospects with
// these ids. They are found as Memberships finds them, one probe of the primary key per
// (grouping, prospect) pair, and deleted by row address: joined to the table, Postgres chose
// to read every membership (measured: 2.7 s for 5,000 prospects among 2M memberships, 25–35
// ms this way).
func DeleteMemberships(ctx context.Context, tx pgx.Tx, accountID, importID int64, prospectIDs []int64) error {
	if len(prospectIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM grouping_members WHERE ctid = ANY(ARRAY(
		SELECT m.ctid FROM groupings g CROSS JOIN unnest($3::bigint[]) AS p(id)
		CROSS JOIN LATERAL (SELECT ctid FROM grouping_members WHERE grouping_id = g.id AND prospect_id = p.id AND import_id = $2 OFFSET 0) m
		WHERE g.account_id = $1))`, accountID, importID, prospectIDs)
	if err != nil {
		return fmt.Errorf("remove memberships of import %d: %w", importID, err)
	}
	return nil
}

// LowerProspectCount takes n deleted prospects off an account's count, in the transaction that
// deleted them under the account's lock.
func LowerProspectCount(ctx context.Context, q Querier, accountID, n int64) error {
	return AddProspectCount(ctx, q, accountID, -n)
}

// EmailHolders returns which of the account's prospects holds each of the emails (lowercased),
// by lowercased email; an email nobody holds is left out.
func EmailHolders(ctx context.Context, q Querier, accountID int64, emails []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(emails) == 0 {
		return out, nil
	}
	st := prospectLookups(nil, accountID, ProspectLookup{Emails: emails, UniqueField: -1}, []string{"lower(email)", "id"})[0]
	rows, err := q.Query(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("holders of emails to restore: %w", err)
	}
	var email string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&email, &id}, func() error { out[email] = id; return nil }); err != nil {
		return nil, fmt.Errorf("holders of emails to restore: %w", err)
	}
	return out, nil
}

// DeleteUnlinkedOrganizations deletes those of the account's organizations with these ids that
// no prospect or deal links to and that nobody changed since they were created (updated_at =
// created_at), and returns how many it deleted. The links are looked up first, all at once
// (LinkedBy).
func DeleteUnlinkedOrganizations(ctx context.Context, tx pgx.Tx, accountID int64, ids []int64) (int, error) {
	linked, err := LinkedBy(ctx, tx, accountID, LinksToOrganizations, ids)
	if err != nil {
		return 0, err
	}
	var unlinked []int64
	for _, id := range ids {
		if linked[id] == "" {
			unlinked = append(unlinked, id)
		}
	}
	if len(unlinked) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, "DELETE FROM organizations WHERE account_id = $1 AND id = ANY($2) AND updated_at = created_at", accountID, unlinked)
	if err != nil {
		return 0, fmt.Errorf("delete organizations nothing links to: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
