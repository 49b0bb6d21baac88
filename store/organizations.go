package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// Organization is a company prospects link to.
type Organization struct {
	ID      int64
	Name    string
	NameKey string // crm.NormalizeOrgName(Name)
	Domain  string
}

// LoadOrganizations and InsertOrganizations read and write what linking a prospect to an
// organization needs (SPEC §7); an organization import reads and writes whole records
// (LoadOrganizationRecords and the functions after it).

// LoadOrganizations returns the account's organizations whose name key or domain is one of
// those given, oldest first.
func LoadOrganizations(ctx context.Context, q Querier, accountID int64, nameKeys, domains []string) ([]Organization, error) {
	if len(nameKeys) == 0 && len(domains) == 0 {
		return nil, nil
	}
	st := OrganizationLookup(accountID, nameKeys, domains)
	rows, err := q.Query(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("load organizations: %w", err)
	}
	orgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organization, error) {
		var o Organization
		err := r.Scan(&o.ID, &o.Name, &o.NameKey, &o.Domain)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("load organizations: %w", err)
	}
	return orgs, nil
}

// OrganizationLookup is the query LoadOrganizations runs: each name key and each domain is
// one probe of its index (see probeEach).
func OrganizationLookup(accountID int64, nameKeys, domains []string) Statement {
	columns := []string{"id", "name", "name_key", "coalesce(domain, '')"}
	return Statement{probeEach("organizations", columns, "unnest($2::text[]) AS k(v)", orgByNameKey) +
		" UNION " + probeEach("organizations", columns, "unnest($3::text[]) AS k(v)", orgByDomain) +
		" ORDER BY 1", []any{accountID, distinct(nameKeys), distinct(domains)}}
}

// The conditions of an organization lookup by name key and by domain, on the values k.v and
// the account $1, which the indexes organizations_name and organizations_domain serve.
const (
	orgByNameKey = "name_key = k.v AND account_id = $1"
	orgByDomain  = "domain = k.v AND account_id = $1"
)

// organizationTable is the organizations table as a record kind (the organizations kind's fields);
// name_key is derived from the name.
var organizationTable = recordTable{name: "organizations", columns: append(textColumns(crm.FieldName),
	append([]column{{name: "name_key", field: crm.FieldName, typ: "text", derive: crm.NormalizeOrgName}},
		textColumns(crm.FieldDomain, "website", "phone", "street", "city", "state", "postal_code", "country", "industry")...)...)}

// OrganizationKeys names the identities of a batch whose organizations
// LoadOrganizationRecords fetches: name keys (crm.NormalizeOrgName), domains (canonical), and
// the values of a unique identifier field (UniqueField, a catalog index; -1: none).
type OrganizationKeys struct {
	NameKeys, Domains []string
	UniqueField       int
	UniqueValues      []string
}

// OrganizationLookups returns the queries LoadOrganizationRecords runs: one per identity that
// has values, each probing its index once per value.
func OrganizationLookups(c *crm.Catalog, accountID int64, k OrganizationKeys) []Statement {
	var out []Statement
	if len(k.NameKeys) > 0 {
		out = append(out, organizationTable.probe("unnest($2::text[]) AS k(v)", orgByNameKey, accountID, distinct(k.NameKeys)))
	}
	if len(k.Domains) > 0 {
		out = append(out, organizationTable.probe("unnest($2::text[]) AS k(v)", orgByDomain, accountID, distinct(k.Domains)))
	}
	if k.UniqueField >= 0 && len(k.UniqueValues) > 0 {
		out = append(out, organizationTable.uniqueFieldLookup(c, accountID, k.UniqueField, k.UniqueValues))
	}
	return out
}

// LoadOrganizationRecords returns the account's organizations, with every field of the catalog
// (the kind's standard fields and the account's custom organization fields), that have one of the
// keys' name keys, domains or unique identifier values, oldest first.
func LoadOrganizationRecords(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, k OrganizationKeys) ([]Record, error) {
	return loadRecords(ctx, q, organizationTable, c, OrganizationLookups(c, accountID, k))
}

// InsertOrganizationRecords writes new organizations (their ids already allocated, from
// NextIDs(…, "organization")) with COPY; each name key is derived from its name.
func InsertOrganizationRecords(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, rs []Record) error {
	return insertRecords(ctx, tx, organizationTable, c, accountID, rs)
}

// UpdateOrganizationRecords writes the whole row of each changed organization in one statement.
func UpdateOrganizationRecords(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, rs []Record) error {
	return updateRecords(ctx, tx, organizationTable, c, accountID, rs)
}

// EnsureOrganizationLookupIndex creates, when missing, the partial index of the account's
// organizations by a unique identifier field (see EnsureLookupIndexes), outside any
// transaction.
func EnsureOrganizationLookupIndex(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, uniqueField int) error {
	return ensureIndexes(ctx, q, accountID, []lookupIndex{organizationTable.uniqueFieldIndex(c, uniqueField)})
}

// InsertOrganizations writes new organizations (their ids already allocated) with COPY.
func InsertOrganizations(ctx context.Context, tx pgx.Tx, accountID int64, orgs []Organization) error {
	if len(orgs) == 0 {
		return nil
	}
	rows := make([][]any, len(orgs))
	for i, o := range orgs {
		rows[i] = []any{o.ID, accountID, o.Name, o.NameKey, nullable(o.Domain)}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"organizations"}, []string{"id", "account_id", "name", "name_key", "domain"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("insert organizations: %w", err)
	}
	return nil
}

// Grouping kinds: named groupings prospects join (SPEC §8).
const (
	KindList     = "list"
	KindTag      = "tag"
	KindCampaign = "campaign"
)

// EnsureGrouping returns the id of the account's list, tag or campaign of that name
// (case-insensitive), creating it on first use on behalf of the import importID, which it
// names (undoing the import removes it once it has no members).
func EnsureGrouping(ctx context.Context, q Querier, accountID int64, kind, name string, importID int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `WITH ins AS (
			INSERT INTO groupings (account_id, kind, name, import_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id, kind, lower(name)) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL
		SELECT id FROM groupings WHERE account_id = $1 AND kind = $2 AND lower(name) = lower($3)
		LIMIT 1`, accountID, kind, name, importID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	return id, nil
}

// Grouping names a list, tag or campaign of an account.
type Grouping struct{ Kind, Name string }

// FindGroupings returns the ids of the account's groupings gs (names case-insensitive), in
// their order, without creating any; ok is false when one does not exist yet.
func FindGroupings(ctx context.Context, q Querier, accountID int64, gs []Grouping) (ids []int64, ok bool, err error) {
	kinds, names := make([]string, len(gs)), make([]string, len(gs))
	for i, g := range gs {
		kinds[i], names[i] = g.Kind, g.Name
	}
	rows, err := q.Query(ctx, `SELECT g.id FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS w(kind, name, n)
		JOIN groupings g ON g.account_id = $1 AND g.kind = w.kind AND lower(g.name) = lower(w.name)
		ORDER BY w.n`, accountID, kinds, names)
	if err != nil {
		return nil, false, fmt.Errorf("find groupings: %w", err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, false, fmt.Errorf("find groupings: %w", err)
	}
	return ids, len(ids) == len(gs), nil
}

// MembersOfAll returns which of the prospects are members of every one of the groupings.
func MembersOfAll(ctx context.Context, q Querier, groupingIDs, prospectIDs []int64) (map[int64]bool, error) {
	st, groupings, sorted := membersOfAll(groupingIDs, prospectIDs)
	rows, err := q.Query(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	// The ranges hold ids of prospects that are not among prospectIDs: their memberships are
	// read and left out here. A prospect is counted once per grouping (the primary key).
	counts := make(map[int64]int, len(prospectIDs))
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		if _, ok := slices.BinarySearch(sorted, id); ok {
			counts[id]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	out := make(map[int64]bool, len(counts))
	for id, n := range counts {
		if n == len(groupings) {
			out[id] = true
		}
	}
	return out, nil
}

// memberRunGap is the widest gap between two prospect ids that MembersOfAllStatement reads
// across rather than starting a new range: a range reads at most memberRunGap memberships per
// prospect asked for, where a probe per prospect costs about as much as reading ten in a row.
const memberRunGap = 4

// MembersOfAllStatement is the statement MembersOfAll runs. It reads the primary
// key over runs of the prospects' ids (ids a gap of at most memberRunGap apart), one range per
// grouping and run: a batch's prospects were mostly created together, and the ids of a
// re-import's 5,000 found prospects fall in a run or a few, read in 1.2 ms where a probe per
// pair took 12.7 (docs/architecture.md, "Memberships read by range"). Prospects spread over an
// account make runs of one, a probe each. Each range is an index condition of its own in a
// LATERAL subquery (see probeEach): with the prospects as a filter instead, the plan Postgres
// made for a table it still believed small read a whole grouping per batch, and a fresh
// 1M-row import took 73 s instead of 18.
func MembersOfAllStatement(groupingIDs, prospectIDs []int64) Statement {
	st, _, _ := membersOfAll(groupingIDs, prospectIDs)
	return st
}

// membersOfAll returns MembersOfAllStatement and the groupings and prospects it reads, sorted
// and without repeats.
func membersOfAll(groupingIDs, prospectIDs []int64) (st Statement, groupings, prospects []int64) {
	groupings = slices.Compact(slices.Sorted(slices.Values(groupingIDs)))
	prospects = slices.Compact(slices.Sorted(slices.Values(prospectIDs)))
	var lo, hi []int64
	for i, id := range prospects {
		if i == 0 || id-hi[len(hi)-1] > memberRunGap {
			lo, hi = append(lo, id), append(hi, id)
			continue
		}
		hi[len(hi)-1] = id
	}
	return Statement{`SELECT m.prospect_id FROM unnest($1::bigint[]) AS g(id)
		CROSS JOIN unnest($2::bigint[], $3::bigint[]) AS r(lo, hi)
		CROSS JOIN LATERAL (SELECT prospect_id FROM grouping_members
			WHERE grouping_id = g.id AND prospect_id BETWEEN r.lo AND r.hi OFFSET 0) m`,
		[]any{groupings, lo, hi}}, groupings, prospects
}

// AddMembers makes each prospect a member of each grouping; existing memberships stay.
func AddMembers(ctx context.Context, q Querier, groupingIDs, prospectIDs []int64, importID int64) error {
	if len(groupingIDs) == 0 || len(prospectIDs) == 0 {
		return nil
	}
	st := AddMembersStatement(groupingIDs, prospectIDs, importID)
	_, err := q.Exec(ctx, st.SQL, st.Args...)
	if err != nil {
		return fmt.Errorf("add members: %w", err)
	}
	return nil
}

// AddNewMembers makes each prospect a member of each grouping, where none of the prospects is a
// member of anything yet: prospects created in the caller's transaction. It inserts without
// looking for the memberships first, which costs Postgres half of what AddMembers does
// (docs/architecture.md, "Memberships of new prospects"); a membership that exists after all
// fails the statement with a unique violation, not silently.
func AddNewMembers(ctx context.Context, q Querier, groupingIDs, prospectIDs []int64, importID int64) error {
	if len(groupingIDs) == 0 || len(prospectIDs) == 0 {
		return nil
	}
	groupingIDs = slices.Compact(slices.Sorted(slices.Values(groupingIDs)))
	_, err := q.Exec(ctx, `INSERT INTO grouping_members (grouping_id, prospect_id, import_id)
		SELECT g, p, $3 FROM unnest($1::bigint[]) g, unnest($2::bigint[]) p`, groupingIDs, prospectIDs, importID)
	if err != nil {
		return fmt.Errorf("add members: %w", err)
	}
	return nil
}

// AddMembersStatement is the statement AddMembers runs.
func AddMembersStatement(groupingIDs, prospectIDs []int64, importID int64) Statement {
	return Statement{`INSERT INTO grouping_members (grouping_id, prospect_id, import_id)
		SELECT g, p, $3 FROM unnest($1::bigint[]) g, unnest($2::bigint[]) p
		ON CONFLICT DO NOTHING`, []any{groupingIDs, prospectIDs, importID}}
}
