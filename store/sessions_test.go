package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestSessions: a session is made from an account's API token only, lasts its TTL, and
// signing in deletes every expired session, not only those presented again.
func TestSessions(t *testing.T) {
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acct := storetest.Account(t, pool, -1)
	token, err := store.CreateToken(ctx, pool, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "lp_", token + "x", "lps_" + token[3:]} {
		if _, _, err := store.CreateSession(ctx, pool, bad, time.Hour); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateSession(%q): %v, want ErrNotFound", bad, err)
		}
	}

	before := time.Now()
	old, s, err := store.CreateSession(ctx, pool, token, 90*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account != acct || s.CSRFToken == "" || s.ExpiresAt.Before(before.Add(89*time.Minute)) || s.ExpiresAt.After(time.Now().Add(91*time.Minute)) {
		t.Errorf("session %+v, want account %+v, a CSRF token and 90 minutes to live", s, acct)
	}
	if got, err := store.SessionByCookie(ctx, pool, old); err != nil || got != s {
		t.Errorf("SessionByCookie: %+v, %v; want %+v", got, err, s)
	}
	if _, err := store.SessionByCookie(ctx, pool, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByCookie(the API token): %v, want ErrNotFound", err)
	}

	if _, err := pool.Exec(ctx, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE csrf_token = $1", s.CSRFToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.CreateSession(ctx, pool, token, time.Hour); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE csrf_token = $1", s.CSRFToken).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d expired sessions (%v) after a sign-in, want 0", n, err)
	}
}
