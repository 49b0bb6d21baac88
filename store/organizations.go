package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Organization is a company prospects link to.
type Organization struct {
	ID      int64
	Name    string
	NameKey string // crm.NormalizeOrgName(Name)
	Domain  string
}

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
	return Statement{probeEach("organizations", columns, "unnest($2::text[]) AS k(v)", "name_key = k.v AND account_id = $1") +
		" UNION " + probeEach("organizations", columns, "unnest($3::text[]) AS k(v)", "domain = k.v AND account_id = $1") +
		" ORDER BY 1", []any{accountID, distinct(nameKeys), distinct(domains)}}
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
// (case-insensitive), creating it on first use.
func EnsureGrouping(ctx context.Context, q Querier, accountID int64, kind, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `WITH ins AS (
			INSERT INTO groupings (account_id, kind, name) VALUES ($1, $2, $3)
			ON CONFLICT (account_id, kind, lower(name)) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL
		SELECT id FROM groupings WHERE account_id = $1 AND kind = $2 AND lower(name) = lower($3)
		LIMIT 1`, accountID, kind, name).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	return id, nil
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

// AddMembersStatement is the statement AddMembers runs.
func AddMembersStatement(groupingIDs, prospectIDs []int64, importID int64) Statement {
	return Statement{`INSERT INTO grouping_members (grouping_id, prospect_id, import_id)
		SELECT g, p, $3 FROM unnest($1::bigint[]) g, unnest($2::bigint[]) p
		ON CONFLICT DO NOTHING`, []any{groupingIDs, prospectIDs, importID}}
}
