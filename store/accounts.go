package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/leadpipe/leadpipe/crm"
)

// Querier is what the store's functions need of a pool, a connection or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrExists is returned when creating something whose name is taken.
var ErrExists = errors.New("already exists")

// Account is a tenant.
type Account struct {
	ID            int64
	Name          string
	ProspectLimit *int64 // nil: unlimited
	ProspectCount int64
}

// CreateAccount creates an account. limit nil means unlimited.
func CreateAccount(ctx context.Context, q Querier, name string, limit *int64) (Account, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Account{}, errors.New("account name is empty")
	}
	a := Account{Name: name, ProspectLimit: limit}
	err := q.QueryRow(ctx, `INSERT INTO accounts (name, prospect_limit) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING RETURNING id`, name, limit).Scan(&a.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("account %q: %w", name, ErrExists)
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account %q: %w", name, err)
	}
	return a, nil
}

// AccountByName returns the account with that name, or ErrNotFound.
func AccountByName(ctx context.Context, q Querier, name string) (Account, error) {
	var a Account
	err := q.QueryRow(ctx, `SELECT id, name, prospect_limit, prospect_count FROM accounts WHERE name = $1`, name).
		Scan(&a.ID, &a.Name, &a.ProspectLimit, &a.ProspectCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("look up account %q: %w", name, err)
	}
	return a, nil
}

// AccountByID returns the account with that id, or ErrNotFound.
func AccountByID(ctx context.Context, q Querier, id int64) (Account, error) {
	var a Account
	err := q.QueryRow(ctx, `SELECT id, name, prospect_limit, prospect_count FROM accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.ProspectLimit, &a.ProspectCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("account %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("look up account %d: %w", id, err)
	}
	return a, nil
}

// User is a person of an account; Lead Owner values resolve to users.
type User struct {
	ID       int64
	Username string
	Email    string
	FullName string
}

// AddUser adds a user to an account.
func AddUser(ctx context.Context, q Querier, accountID int64, u User) (User, error) {
	if strings.TrimSpace(u.Username) == "" {
		return User{}, errors.New("username is empty")
	}
	err := q.QueryRow(ctx, `INSERT INTO users (account_id, username, email, full_name) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING RETURNING id`, accountID, u.Username, u.Email, u.FullName).Scan(&u.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", u.Username, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("add user %q: %w", u.Username, err)
	}
	return u, nil
}

// Users returns the users of an account, oldest first.
func Users(ctx context.Context, q Querier, accountID int64) ([]User, error) {
	rows, err := q.Query(ctx, `SELECT id, username, email, full_name FROM users WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Username, &u.Email, &u.FullName)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// AddField adds a custom field of entity (the kind of record that carries it: "prospects", ...)
// to an account. The caller checks its definition first (crm.CheckCustomField), for which keys
// are standard depends on the entity. ErrExists when the entity has a field of that key.
func AddField(ctx context.Context, q Querier, accountID int64, entity string, f crm.Field) error {
	tag, err := q.Exec(ctx, `INSERT INTO fields (account_id, entity, key, label, type, max_length, options, aliases)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		accountID, entity, f.Key, f.Label, string(f.Type), f.MaxLength, nonNil(f.Options), nonNil(f.Aliases))
	if err != nil {
		return fmt.Errorf("add field %q: %w", f.Key, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("field %q: %w", f.Key, ErrExists)
	}
	return nil
}

// CustomFields returns the custom fields of an account's entity in the order they were added.
func CustomFields(ctx context.Context, q Querier, accountID int64, entity string) ([]crm.Field, error) {
	rows, err := q.Query(ctx, `SELECT key, label, type, max_length, options, aliases FROM fields
		WHERE account_id = $1 AND entity = $2 ORDER BY created_at, key`, accountID, entity)
	if err != nil {
		return nil, fmt.Errorf("list fields: %w", err)
	}
	fields, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Field, error) {
		var f crm.Field
		var t string
		err := r.Scan(&f.Key, &f.Label, &t, &f.MaxLength, &f.Options, &f.Aliases)
		f.Type, f.Custom = crm.FieldType(t), true
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("list fields: %w", err)
	}
	return fields, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Room is what an account's prospect limit leaves (SPEC §10), as a batch reads it.
type Room struct {
	Limit *int64 // nil: no limit
	Count int64  // the account's prospects
	// Seq is the account's write_seq, counting the batch when it took the lock.
	Seq int64
	// At is the transaction's time: the created_at and updated_at of what the batch writes.
	At time.Time
}

// ProspectRoom reads what an account's prospect limit leaves. With lock it locks the account
// row until the transaction ends, so that concurrent imports into the account take room one
// after another, and counts the batch in write_seq (a dry run reads without locking or
// counting).
func ProspectRoom(ctx context.Context, q Querier, accountID int64, lock bool) (Room, error) {
	sql := "SELECT prospect_limit, prospect_count, write_seq, now() FROM accounts WHERE id = $1"
	if lock {
		sql = "UPDATE accounts SET write_seq = write_seq + 1 WHERE id = $1 RETURNING prospect_limit, prospect_count, write_seq, now()"
	}
	var r Room
	if err := q.QueryRow(ctx, sql, accountID).Scan(&r.Limit, &r.Count, &r.Seq, &r.At); err != nil {
		return Room{}, fmt.Errorf("read prospect limit: %w", err)
	}
	return r, nil
}

// TryProspectRoom is ProspectRoom with lock, but only when no other transaction holds the
// account's lock: otherwise it returns false at once, having done nothing. A batch that holds
// row locks another writer of the account may be waiting for takes the lock so, and gives its
// row locks back before it waits (docs/architecture.md, "Updating ahead").
func TryProspectRoom(ctx context.Context, q Querier, accountID int64) (Room, bool, error) {
	var r Room
	err := q.QueryRow(ctx, "UPDATE accounts SET write_seq = write_seq + 1 WHERE id = (SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED)"+
		" RETURNING prospect_limit, prospect_count, write_seq, now()", accountID).Scan(&r.Limit, &r.Count, &r.Seq, &r.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // locked, or no such account: ProspectRoom tells which
		return Room{}, false, nil
	case err != nil:
		return Room{}, false, fmt.Errorf("read prospect limit: %w", err)
	}
	return r, true, nil
}

// LockAccount locks an account's row until the transaction ends, as ProspectRoom does with
// lock, and counts the batch in its write_seq: the batches of imports that create records no
// unique index guards (organizations, matched by name and domain) take it, so that concurrent
// imports into one account write one after another and each batch sees what the others
// committed.
func LockAccount(ctx context.Context, q Querier, accountID int64) error {
	if _, err := q.Exec(ctx, "UPDATE accounts SET write_seq = write_seq + 1 WHERE id = $1", accountID); err != nil {
		return fmt.Errorf("lock account: %w", err)
	}
	return nil
}

// AddProspectCount adds n new prospects to an account's count, in the transaction that
// created them under the lock ProspectRoom took.
func AddProspectCount(ctx context.Context, q Querier, accountID, n int64) error {
	if _, err := q.Exec(ctx, "UPDATE accounts SET prospect_count = prospect_count + $2 WHERE id = $1", accountID, n); err != nil {
		return fmt.Errorf("count new prospects: %w", err)
	}
	return nil
}
