package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/leadpipe/leadpipe/store"
)

// sessionCookie names the web page's session cookie.
const sessionCookie = "leadpipe_session"

// maxSessionBody bounds the body of POST /v1/session.
const maxSessionBody = 4 << 10

// signInHint says how to get a session.
const signInHint = `sign in: POST /v1/session with {"token": "<API token>"}, an API token of your account (leadpipe token create --account NAME)`

// SessionView is a session as the page sees it: the account it acts for, the CSRF token its
// state-changing requests must send as X-CSRF-Token, and when it ends.
type SessionView struct {
	Account   string    `json:"account"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func sessionView(s store.Session) SessionView {
	return SessionView{Account: s.Account.Name, CSRFToken: s.CSRFToken, ExpiresAt: s.ExpiresAt}
}

// createSession signs in with an API token and sets the session cookie.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	if why := foreignOrigin(r); why != "" {
		writeError(w, http.StatusForbidden, "cross-site request refused", why)
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := readJSON(w, r, maxSessionBody, &body, "invalid sign-in", `{"token": "<API token>"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	cookie, sess, err := store.CreateSession(r.Context(), s.Pool, strings.TrimSpace(body.Token), s.SessionTTL)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "invalid token", "paste an API token of your account (leadpipe token create --account NAME)")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, old := range r.CookiesNamed(sessionCookie) { // signing in again ends the session it replaces
		if err := store.DeleteSession(r.Context(), s.Pool, old.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	setSessionCookie(w, r, cookie, int(s.SessionTTL.Seconds()))
	writeJSON(w, http.StatusOK, sessionView(sess))
}

func (s *Server) getSession(w http.ResponseWriter, _ *http.Request, sess store.Session, _ string) error {
	writeJSON(w, http.StatusOK, sessionView(sess))
	return nil
}

// deleteSession signs out: the session ends in the database and the cookie is cleared.
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request, _ store.Session, cookie string) error {
	if err := store.DeleteSession(r.Context(), s.Pool, cookie); err != nil {
		return err
	}
	setSessionCookie(w, r, "", -1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// withSession runs h for a request with a live session, refused as session (below) refuses.
func (s *Server) withSession(h func(http.ResponseWriter, *http.Request, store.Session, string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, cookie, ok := s.session(w, r)
		if !ok {
			return
		}
		if err := h(w, r, sess, cookie); err != nil {
			s.fail(w, r, err)
		}
	})
}

// session returns the live session of the request's cookie, and the cookie's value. Without
// one it answers 401 (clearing a cookie that names no live session); for a request other than
// GET or HEAD that another site could have sent, 403. ok is false when it has answered.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (sess store.Session, cookie string, ok bool) {
	cookies := r.CookiesNamed(sessionCookie)
	if len(cookies) == 0 {
		writeError(w, http.StatusUnauthorized, "not signed in", signInHint)
		return store.Session{}, "", false
	}
	if len(cookies) > 1 {
		// Another page of this host (another port is the same site) set a second one, with a
		// longer Path so that it comes first: honouring either could act in the wrong account.
		setSessionCookie(w, r, "", -1)
		writeError(w, http.StatusUnauthorized, "not signed in",
			"the request carries more than one leadpipe_session cookie: another page served from this host set one; "+
				"clear this site's cookies in the browser, then "+signInHint)
		return store.Session{}, "", false
	}
	c := cookies[0]
	sess, err := store.SessionByCookie(r.Context(), s.Pool, c.Value)
	if errors.Is(err, store.ErrNotFound) {
		setSessionCookie(w, r, "", -1)
		writeError(w, http.StatusUnauthorized, "not signed in",
			"the session has expired or was ended (signed out, or its API token deleted); "+signInHint)
		return store.Session{}, "", false
	}
	if err != nil {
		s.fail(w, r, err)
		return store.Session{}, "", false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		why := foreignOrigin(r)
		if why == "" {
			why = csrfMismatch(r, sess)
		}
		if why != "" {
			writeError(w, http.StatusForbidden, "cross-site request refused", why)
			return store.Session{}, "", false
		}
	}
	return sess, c.Value, true
}

// foreignOrigin says why a request's Origin header is not this server's own origin, or ""
// when it is or there is none (a client that is not a browser).
func foreignOrigin(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	scheme := "http"
	if overTLS(r) {
		scheme = "https"
	}
	own := scheme + "://" + r.Host
	if strings.EqualFold(origin, own) {
		return ""
	}
	return fmt.Sprintf("the request comes from a page of %s, not of this server (%s); use leadpipe's own page", origin, own)
}

// csrfMismatch says why a request does not carry its session's CSRF token, or "" when it does.
func csrfMismatch(r *http.Request, sess store.Session) string {
	got := r.Header.Get("X-CSRF-Token")
	switch {
	case got == "":
		return "send the session's csrf_token (from POST or GET /v1/session) in the X-CSRF-Token header"
	case subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1:
		return "X-CSRF-Token is not the session's csrf_token; read it again from GET /v1/session"
	}
	return ""
}

// overTLS reports whether the client reached the server over TLS, directly or through a proxy
// that says so.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setSessionCookie sets the session cookie to value for maxAge seconds; maxAge < 0 clears it.
func setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r),
	})
}
