package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// sessionPrefix marks the value of a session cookie, as tokenPrefix marks API tokens.
const sessionPrefix = "lps_"

// Session is a signed-in page: the account it acts for, the CSRF token its state-changing
// requests must carry, and when it ends.
type Session struct {
	Account   Account
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession signs in with an API token: it makes a session of the token's account that
// lasts ttl and returns it with the cookie value that names it. Only the value's hash is
// stored. A token that is not an account's is ErrNotFound. Sessions that have expired, anyone's,
// are deleted on the way.
func CreateSession(ctx context.Context, q Querier, token string, ttl time.Duration) (string, Session, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return "", Session{}, ErrNotFound
	}
	cookie, err := randomSecret(sessionPrefix)
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := randomSecret("")
	if err != nil {
		return "", Session{}, err
	}
	s := Session{CSRFToken: csrf}
	err = q.QueryRow(ctx, `INSERT INTO sessions (hash, account_id, token_id, csrf_token, expires_at)
		SELECT $2, t.account_id, t.id, $3, now() + make_interval(secs => $4) FROM api_tokens t WHERE t.hash = $1
		RETURNING account_id, expires_at`, tokenHash(token), tokenHash(cookie), csrf, ttl.Seconds()).
		Scan(&s.Account.ID, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", Session{}, ErrNotFound
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	if s.Account, err = AccountByID(ctx, q, s.Account.ID); err != nil {
		return "", Session{}, err
	}
	if _, err := q.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= now()"); err != nil {
		return "", Session{}, fmt.Errorf("delete expired sessions: %w", err)
	}
	return cookie, s, nil
}

// SessionByCookie returns the live session a cookie value names, or ErrNotFound when there is
// none: never made, signed out, its token deleted, or expired (an expired one is deleted).
func SessionByCookie(ctx context.Context, q Querier, cookie string) (Session, error) {
	if !strings.HasPrefix(cookie, sessionPrefix) {
		return Session{}, ErrNotFound
	}
	var s Session
	var expired bool
	err := q.QueryRow(ctx, `SELECT s.csrf_token, s.expires_at, s.expires_at <= now(),
			a.id, a.name, a.prospect_limit, a.prospect_count
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.hash = $1`, tokenHash(cookie)).
		Scan(&s.CSRFToken, &s.ExpiresAt, &expired, &s.Account.ID, &s.Account.Name, &s.Account.ProspectLimit, &s.Account.ProspectCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	if expired {
		if err := DeleteSession(ctx, q, cookie); err != nil {
			return Session{}, err
		}
		return Session{}, ErrNotFound
	}
	return s, nil
}

// DeleteSession ends the session a cookie value names (signing out); one that does not exist
// is no error.
func DeleteSession(ctx context.Context, q Querier, cookie string) error {
	if _, err := q.Exec(ctx, "DELETE FROM sessions WHERE hash = $1", tokenHash(cookie)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// randomSecret is prefix and 32 random bytes, base64url-encoded.
func randomSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}
