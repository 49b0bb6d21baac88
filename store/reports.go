package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SkippedRow is one skipped row of an import, for the skipped-rows report (SPEC §11).
type SkippedRow struct {
	Row    int
	Reason string
	Detail string
	// Cells are the row's original cells as read (see read.Record.Cells): at most the header's
	// width, unless the row was malformed.
	Cells []string
}

// skippedChunk is how many skipped rows SkippedRows reads per query.
const skippedChunk = 1000

// SkippedRows calls fn for every skipped row of an import, in row order, streaming (never
// loading them all). It reads the rows in chunks of skippedChunk by keyset on the primary key
// (import_id, row_number): each chunk is a short index scan in row order, so neither this
// process nor the server ever holds more than a chunk (one query over the whole import would
// have the server sort all its skipped rows first), and no connection is held while fn runs.
// An error from fn stops the scan and is returned as is.
//
// The import id is not checked against an account here: callers get it from an import they
// have already looked up for the account (GetImport).
func SkippedRows(ctx context.Context, q Querier, importID int64, fn func(SkippedRow) error) error {
	chunk := make([]SkippedRow, 0, skippedChunk)
	after := 0
	for {
		rows, err := q.Query(ctx, `SELECT row_number, coalesce(reason, ''), coalesce(detail, ''), coalesce(cells, '{}')
			FROM import_outcome_rows WHERE import_id = $1 AND row_number > $2 AND outcome = 'skipped'
			ORDER BY row_number LIMIT $3`, importID, after, skippedChunk)
		if err != nil {
			return fmt.Errorf("skipped rows of import %d: %w", importID, err)
		}
		chunk = chunk[:0]
		for rows.Next() {
			var r SkippedRow
			if err := rows.Scan(&r.Row, &r.Reason, &r.Detail, &r.Cells); err != nil {
				rows.Close()
				return fmt.Errorf("skipped rows of import %d: %w", importID, err)
			}
			chunk = append(chunk, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("skipped rows of import %d: %w", importID, err)
		}
		for _, r := range chunk {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(chunk) < skippedChunk {
			return nil
		}
		after = chunk[len(chunk)-1].Row
	}
}

// DefaultProspectPage is the page size ListProspects uses when ProspectFilter.Limit is 0 or less.
const DefaultProspectPage = 100

// ProspectFilter selects prospects by the imports that created, updated or touched them
// (SPEC §11). Zero fields do not filter; set fields combine with AND.
type ProspectFilter struct {
	ImportID   int64
	ImportFile string    // imports whose file_name equals this (exact)
	From, To   time.Time // imports created in [From, To)
	After      int64     // keyset cursor: prospect ids greater than this
	Limit      int       // page size; 0 or less is DefaultProspectPage
}

// ProspectRecord is a prospect as the API and CLI show it.
type ProspectRecord struct {
	ID         int64  `json:"id"`
	Email      string `json:"email,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	Title      string `json:"title,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	Website    string `json:"website,omitempty"`
	Street     string `json:"street,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
	LeadSource string `json:"lead_source,omitempty"`
	LeadOwner  string `json:"lead_owner,omitempty"` // the owner's username
	EmailOptIn *bool  `json:"email_opt_in,omitempty"`
	// Organization is the organization's name.
	Organization string `json:"organization,omitempty"`
	// Custom holds the custom fields by key: a string, or a list of strings for a multi-picklist.
	Custom    map[string]any `json:"custom,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ListProspects returns the account's prospects touched (created, updated or unchanged rows)
// by the imports the filter selects, each once, by ascending id, at most f.Limit (see
// DefaultProspectPage), with times in UTC. The next page starts After the last id returned; a page shorter than
// the limit is the last one.
//
// It selects the account's matching imports first, then for each of them the first prospect
// ids after the cursor from the import_outcome_rows_entity index (import_id, entity_id) and
// from the runs that may hold one (recordsAfterEach) — never more than
// Limit of each per import — and merges those into the page. A page so costs at most Limit
// index entries and the runs that hold Limit ids per selected import, however large the
// imports are.
func ListProspects(ctx context.Context, q Querier, accountID int64, f ProspectFilter) ([]ProspectRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultProspectPage
	}
	ids, err := matchingImports(ctx, q, accountID, f)
	if err != nil {
		return nil, err
	}
	out := []ProspectRecord{}
	if len(ids) == 0 {
		return out, nil
	}
	// DISTINCT inside the lateral subquery as well: one import may touch a prospect on several
	// rows (duplicates in its file). Each lateral scan reads the index in entity_id order and
	// stops after limit distinct ids; the outer DISTINCT ... LIMIT merges them across imports.
	// The prospects, their owners and organizations are then fetched by primary key, each join
	// also scoped to the account.
	rows, err := q.Query(ctx, `WITH page AS (
			SELECT DISTINCT t.entity_id
			FROM unnest($2::bigint[]) AS i(id)
			CROSS JOIN LATERAL (
				(SELECT DISTINCT r.entity_id FROM import_outcome_rows r
				WHERE r.import_id = i.id AND r.entity_id IS NOT NULL AND r.entity_id > $3
				ORDER BY r.entity_id LIMIT $4)`+
		recordsAfterEach(func(runTable) string { return "id" }, nil, "i.id", "$3", "$4")+`) t
			ORDER BY t.entity_id LIMIT $4)
		SELECT p.id, coalesce(p.email, ''), coalesce(p.first_name, ''), coalesce(p.last_name, ''),
			coalesce(p.title, ''), coalesce(p.phone, ''), coalesce(p.mobile, ''), coalesce(p.website, ''),
			coalesce(p.street, ''), coalesce(p.city, ''), coalesce(p.state, ''), coalesce(p.postal_code, ''),
			coalesce(p.country, ''), coalesce(p.lead_source, ''), coalesce(u.username, ''), p.email_opt_in,
			coalesce(o.name, ''), p.custom, p.created_at, p.updated_at
		FROM page
		JOIN prospects p ON p.id = page.entity_id AND p.account_id = $1
		LEFT JOIN users u ON u.id = p.lead_owner_id AND u.account_id = $1
		LEFT JOIN organizations o ON o.id = p.organization_id AND o.account_id = $1
		ORDER BY p.id`, accountID, ids, f.After, limit)
	if err != nil {
		return nil, fmt.Errorf("list prospects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p ProspectRecord
		var custom []byte
		if err := rows.Scan(&p.ID, &p.Email, &p.FirstName, &p.LastName, &p.Title, &p.Phone, &p.Mobile,
			&p.Website, &p.Street, &p.City, &p.State, &p.PostalCode, &p.Country, &p.LeadSource, &p.LeadOwner,
			&p.EmailOptIn, &p.Organization, &custom, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list prospects: %w", err)
		}
		if len(custom) > 2 { // not "{}"
			if err := json.Unmarshal(custom, &p.Custom); err != nil {
				return nil, fmt.Errorf("list prospects: prospect %d: custom fields: %w", p.ID, err)
			}
			if len(p.Custom) == 0 {
				p.Custom = nil
			}
		}
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list prospects: %w", err)
	}
	return out, nil
}

// matchingImports returns the ids of the account's prospect imports that f selects, by the
// imports' primary key (an import id) or the imports_account index (account_id, created_at):
// the entity ids of other kinds' imports are not prospect ids.
func matchingImports(ctx context.Context, q Querier, accountID int64, f ProspectFilter) ([]int64, error) {
	w := newWhere("SELECT id FROM imports WHERE account_id = $1 AND kind = 'prospects'", accountID)
	w.addIf(f.ImportID != 0, "id = $%d", f.ImportID)
	w.addIf(f.ImportFile != "", "file_name = $%d", f.ImportFile)
	w.addCreatedBetween(f.From, f.To)
	w.sql.WriteString(" ORDER BY id")
	rows, err := q.Query(ctx, w.sql.String(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("list prospects: imports: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list prospects: imports: %w", err)
	}
	return ids, nil
}
