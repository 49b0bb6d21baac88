package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tokenPrefix marks leadpipe API tokens, so that a leaked one is easy to recognise.
const tokenPrefix = "lp_"

// CreateToken makes a new API token for an account and returns it. Only its hash is stored:
// the token cannot be shown again.
func CreateToken(ctx context.Context, q Querier, accountID int64) (string, error) {
	token, err := randomSecret(tokenPrefix)
	if err != nil {
		return "", err
	}
	if _, err := q.Exec(ctx, "INSERT INTO api_tokens (account_id, hash) VALUES ($1, $2)", accountID, tokenHash(token)); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// AccountByToken returns the account an API token belongs to, or ErrNotFound.
func AccountByToken(ctx context.Context, q Querier, token string) (Account, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return Account{}, ErrNotFound
	}
	var a Account
	err := q.QueryRow(ctx, `SELECT a.id, a.name, a.prospect_limit, a.prospect_count
		FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = $1`, tokenHash(token)).
		Scan(&a.ID, &a.Name, &a.ProspectLimit, &a.ProspectCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("look up token: %w", err)
	}
	return a, nil
}
