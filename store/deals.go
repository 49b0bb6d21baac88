package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
)

// dealTable is the deals table as a record kind (deals.Fields and the account's custom deal
// fields); name_key is derived from the name. The prospect fields a deal file names its
// prospect by are not stored: the writer resolves them into the prospect link.
var dealTable = recordTable{name: "deals", columns: []column{
	{name: "name", field: crm.FieldName, typ: "text"},
	{name: "name_key", field: crm.FieldName, typ: "text", derive: crm.DealNameKey},
	{name: "amount", field: crm.FieldAmount, typ: "numeric"},
	{name: "stage", field: crm.FieldStage, typ: "text"},
	{name: "close_date", field: crm.FieldCloseDate, typ: "date"},
	{name: "owner_id", field: crm.FieldOwner, typ: "bigint"},
	{name: "organization_id", field: crm.FieldOrganization, typ: "bigint"},
	{name: "prospect_id", field: crm.FieldProspect, typ: "bigint"},
}}

// DealKeys names the identities of a batch whose deals LoadDeals fetches: deal names within
// their organization, as pairs of OrganizationIDs (0: no organization) and NameKeys
// (crm.DealNameKey), and the values of a unique identifier field (UniqueField, a catalog
// index; -1: none).
type DealKeys struct {
	OrganizationIDs []int64
	NameKeys        []string
	UniqueField     int
	UniqueValues    []string
}

// DealLookups returns the queries LoadDeals runs: one per identity that has values, each
// probing its index once per value (deals_name, or the account's unique identifier index).
func DealLookups(c *crm.Catalog, accountID int64, k DealKeys) []Statement {
	var out []Statement
	if len(k.NameKeys) > 0 {
		orgs, names := distinctPairs(k.OrganizationIDs, k.NameKeys)
		out = append(out, dealTable.probe("unnest($2::bigint[], $3::text[]) AS k(org, name)",
			"name_key = k.name AND coalesce(organization_id, 0) = k.org AND account_id = $1", accountID, orgs, names))
	}
	if k.UniqueField >= 0 && len(k.UniqueValues) > 0 {
		out = append(out, dealTable.uniqueFieldLookup(c, accountID, k.UniqueField, k.UniqueValues))
	}
	return out
}

// LoadDeals returns the account's deals, with every field of the catalog, that have one of
// the keys' (organization, name key) pairs or unique identifier values, oldest first.
func LoadDeals(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, k DealKeys) ([]Record, error) {
	return loadRecords(ctx, q, dealTable, c, DealLookups(c, accountID, k))
}

// InsertDeals writes new deals (their ids already allocated, from NextIDs(…, "deal")) with
// COPY; each name key is derived from its name.
func InsertDeals(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, rs []Record) error {
	return insertRecords(ctx, tx, dealTable, c, accountID, rs)
}

// UpdateDeals writes the whole row of each changed deal in one statement.
func UpdateDeals(ctx context.Context, tx pgx.Tx, c *crm.Catalog, accountID int64, rs []Record) error {
	return updateRecords(ctx, tx, dealTable, c, accountID, rs)
}

// EnsureDealLookupIndex creates, when missing, the partial index of the account's deals by a
// unique identifier field (see EnsureLookupIndexes), outside any transaction.
func EnsureDealLookupIndex(ctx context.Context, q Querier, c *crm.Catalog, accountID int64, uniqueField int) error {
	return ensureIndexes(ctx, q, accountID, []lookupIndex{dealTable.uniqueFieldIndex(c, uniqueField)})
}

// DealStages returns the account's deal stages in order: crm.DefaultDealStages until it sets
// its own.
func DealStages(ctx context.Context, q Querier, accountID int64) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT name FROM deal_stages WHERE account_id = $1 ORDER BY position", accountID)
	if err != nil {
		return nil, fmt.Errorf("deal stages: %w", err)
	}
	stages, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("deal stages: %w", err)
	}
	if len(stages) == 0 {
		return crm.DefaultDealStages(), nil
	}
	return stages, nil
}

// ErrInvalidDealStages is wrapped by SetDealStages' refusals of the stages it is given; the
// message says which stage is wrong and why.
var ErrInvalidDealStages = errors.New("invalid deal stages")

// SetDealStages replaces the account's deal stages by stages, in that order. Each is trimmed;
// none may be empty, contain ';' (they are the options of the stage picklist), a control
// character or bytes that are not UTF-8, or repeat another, case aside: such stages are
// refused with ErrInvalidDealStages and nothing changes. Deals keep the stage they have.
func SetDealStages(ctx context.Context, q Querier, accountID int64, stages []string) error {
	if len(stages) == 0 {
		return fmt.Errorf("%w: give at least one stage", ErrInvalidDealStages)
	}
	names := make([]string, len(stages))
	seen := map[string]bool{}
	for i, s := range stages {
		names[i] = strings.TrimSpace(s)
		switch folded := strings.ToLower(names[i]); {
		case names[i] == "" || strings.Contains(names[i], ";"):
			return fmt.Errorf("%w: deal stage %q is empty or contains ';'", ErrInvalidDealStages, s)
		case !utf8.ValidString(names[i]) || strings.IndexFunc(names[i], unicode.IsControl) >= 0:
			return fmt.Errorf("%w: deal stage %q contains a control character or is not UTF-8", ErrInvalidDealStages, s)
		case seen[folded]:
			return fmt.Errorf("%w: deal stage %q is given twice", ErrInvalidDealStages, names[i])
		default:
			seen[folded] = true
		}
	}
	// One statement, so that it replaces the stages whole on any Querier. The insert reads the
	// count of the deleted rows so that the delete runs first: an unread data-modifying WITH
	// would run after it, and the new stages would collide with the old.
	_, err := q.Exec(ctx, `WITH gone AS (DELETE FROM deal_stages WHERE account_id = $1 RETURNING 1)
		INSERT INTO deal_stages (account_id, position, name)
		SELECT $1, s.position, s.name FROM unnest($2::text[]) WITH ORDINALITY AS s(name, position)
		WHERE (SELECT count(*) FROM gone) >= 0`, accountID, names)
	if err != nil {
		return fmt.Errorf("set deal stages: %w", err)
	}
	return nil
}
