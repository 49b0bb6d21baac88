package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SavedMapping is a named set of import options of one kind in one account, with the columns
// of the file it was saved from (migration 0017).
type SavedMapping struct {
	Kind    string          `json:"kind"`
	Name    string          `json:"name"`
	Columns []string        `json:"columns"`
	Options json.RawMessage `json:"options"`
	// CreatedAt is when it was first saved, UpdatedAt when it was last saved.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const savedMappingColumns = "kind, name, columns, options, created_at, updated_at"

func scanSavedMapping(row pgx.CollectableRow) (SavedMapping, error) {
	var m SavedMapping
	err := row.Scan(&m.Kind, &m.Name, &m.Columns, &m.Options, &m.CreatedAt, &m.UpdatedAt)
	if m.Columns == nil {
		m.Columns = []string{}
	}
	return m, err
}

// SaveMapping creates the account's saved mapping of m's kind and name, or replaces its
// columns and options (keeping when it was created), and returns it as stored. Its options are
// stored as given: the caller has checked them.
func SaveMapping(ctx context.Context, q Querier, accountID int64, m SavedMapping) (SavedMapping, error) {
	if m.Columns == nil {
		m.Columns = []string{}
	}
	if len(m.Options) == 0 {
		m.Options = json.RawMessage("{}")
	}
	rows, err := q.Query(ctx, `INSERT INTO saved_mappings (account_id, kind, name, columns, options) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, kind, name) DO UPDATE SET columns = EXCLUDED.columns, options = EXCLUDED.options,
			updated_at = now()
		RETURNING `+savedMappingColumns, accountID, m.Kind, m.Name, m.Columns, m.Options)
	if err != nil {
		return SavedMapping{}, fmt.Errorf("save mapping: %w", err)
	}
	saved, err := pgx.CollectExactlyOneRow(rows, scanSavedMapping)
	if err != nil {
		return SavedMapping{}, fmt.Errorf("save mapping: %w", err)
	}
	return saved, nil
}

// SavedMappings returns the account's saved mappings of a kind ("": of every kind), by name,
// then kind.
func SavedMappings(ctx context.Context, q Querier, accountID int64, kind string) ([]SavedMapping, error) {
	rows, err := q.Query(ctx, `SELECT `+savedMappingColumns+` FROM saved_mappings
		WHERE account_id = $1 AND ($2 = '' OR kind = $2) ORDER BY name, kind`, accountID, kind)
	if err != nil {
		return nil, fmt.Errorf("saved mappings: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanSavedMapping)
	if err != nil {
		return nil, fmt.Errorf("saved mappings: %w", err)
	}
	return list, nil
}

// GetSavedMapping returns the account's saved mapping of a kind by name; ErrNotFound when it
// has none of that name.
func GetSavedMapping(ctx context.Context, q Querier, accountID int64, kind, name string) (SavedMapping, error) {
	rows, err := q.Query(ctx, `SELECT `+savedMappingColumns+` FROM saved_mappings WHERE account_id = $1 AND kind = $2 AND name = $3`,
		accountID, kind, name)
	if err != nil {
		return SavedMapping{}, fmt.Errorf("saved mapping: %w", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanSavedMapping)
	if errors.Is(err, pgx.ErrNoRows) {
		return SavedMapping{}, ErrNotFound
	}
	if err != nil {
		return SavedMapping{}, fmt.Errorf("saved mapping: %w", err)
	}
	return m, nil
}

// DeleteSavedMapping deletes the account's saved mapping of a kind by name; ErrNotFound when it
// has none of that name. Imports that named it keep the options it gave them.
func DeleteSavedMapping(ctx context.Context, q Querier, accountID int64, kind, name string) error {
	tag, err := q.Exec(ctx, "DELETE FROM saved_mappings WHERE account_id = $1 AND kind = $2 AND name = $3", accountID, kind, name)
	if err != nil {
		return fmt.Errorf("delete saved mapping: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
