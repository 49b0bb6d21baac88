package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/api"
)

// page is a browser signed in to the web page: the session cookie it was given and the CSRF
// token it was told.
type page struct {
	h      *harness
	cookie string
	csrf   string
}

// send sends a request carrying the page's cookie (when set) and headers, and reads the answer.
func (p *page) send(method, path, body string, headers map[string]string) response {
	p.h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(p.h.ctx, method, p.h.srv.URL+path, rd)
	if err != nil {
		p.h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if p.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "leadpipe_session", Value: p.cookie})
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := p.h.srv.Client().Do(req)
	if err != nil {
		p.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.h.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// signIn posts the client's token to POST /v1/session and returns the signed-in page, the
// session it was told and the answer.
func (c *client) signIn(headers map[string]string) (*page, api.SessionView, response) {
	c.h.t.Helper()
	p := &page{h: c.h}
	r := p.send(http.MethodPost, "/v1/session", fmt.Sprintf(`{"token": %q}`, c.token), headers)
	if r.Status != http.StatusOK {
		c.h.t.Fatalf("POST /v1/session: %s, want 200", r)
	}
	var v api.SessionView
	decode(c.h.t, r, &v)
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "leadpipe_session" {
			p.cookie = ck.Value
		}
	}
	if p.cookie == "" {
		c.h.t.Fatalf("POST /v1/session set no leadpipe_session cookie: %q", r.Header.Values("Set-Cookie"))
	}
	p.csrf = v.CSRFToken
	return p, v, r
}

// setCookie is the answer's one Set-Cookie header.
func setCookie(t *testing.T, what string, r response) string {
	t.Helper()
	v := r.Header.Values("Set-Cookie")
	if len(v) != 1 {
		t.Fatalf("%s: Set-Cookie %q, want one", what, v)
	}
	return v[0]
}

// TestSessionSignIn: an API token signs in; the cookie is HttpOnly, SameSite=Strict, for the
// whole site, lasts session_ttl and is Secure when the client came over TLS; only its hash is
// stored; GET /v1/session answers the same session.
func TestSessionSignIn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	before := time.Now()
	p, v, r := a.signIn(nil)
	if v.Account != a.acct.Name || len(v.CSRFToken) < 40 {
		t.Errorf("session %+v, want account %q and a CSRF token of at least 40 characters", v, a.acct.Name)
	}
	if v.ExpiresAt.Before(before.Add(time.Hour-5*time.Second)) || v.ExpiresAt.After(time.Now().Add(time.Hour+5*time.Second)) {
		t.Errorf("expires_at %s, want an hour (the harness's session TTL) from now", v.ExpiresAt)
	}
	want := "leadpipe_session=" + p.cookie + "; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict"
	if got := setCookie(t, "sign-in", r); got != want {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}
	if !strings.HasPrefix(p.cookie, "lps_") || len(p.cookie) < 40 || p.cookie == a.token {
		t.Errorf("cookie value %q, want lps_ and 32 random bytes", p.cookie)
	}
	sum := sha256.Sum256([]byte(p.cookie))
	if n := h.count("SELECT count(*) FROM sessions WHERE hash = $1 AND account_id = $2", hex.EncodeToString(sum[:]), a.acct.ID); n != 1 {
		t.Errorf("%d sessions stored under the cookie's SHA-256, want 1", n)
	}
	if n := h.count("SELECT count(*) FROM sessions WHERE hash = $1 OR csrf_token = $1", p.cookie); n != 0 {
		t.Errorf("the cookie's value is stored as it is")
	}

	var got api.SessionView
	r = p.send(http.MethodGet, "/v1/session", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/session: %s", r)
	}
	decode(t, r, &got)
	if !reflect.DeepEqual(got, v) {
		t.Errorf("GET /v1/session %+v, want what sign-in said %+v", got, v)
	}

	// Over TLS, as a proxy in front says, the cookie is Secure.
	_, _, r = a.signIn(map[string]string{"X-Forwarded-Proto": "https"})
	if c := setCookie(t, "sign-in over TLS", r); !strings.HasSuffix(c, "; Secure; SameSite=Strict") {
		t.Errorf("Set-Cookie over TLS %q, want it Secure", c)
	}
}

// TestSessionRefusedSignIn: a token that is not an account's, a body that is not {"token"} and
// a sign-in from another site's page make no session.
func TestSessionRefusedSignIn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	anon := &page{h: h}
	for _, tc := range []struct {
		body    string
		headers map[string]string
		status  int
		msg     string
		detail  string
	}{
		{`{"token": "lp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, nil, http.StatusUnauthorized, "invalid token",
			"paste an API token of your account (leadpipe token create --account NAME)"},
		{`{"token": ""}`, nil, http.StatusUnauthorized, "invalid token", "paste an API token"},
		{fmt.Sprintf(`{"token": %q}`, a.token+"x"), nil, http.StatusUnauthorized, "invalid token", "paste an API token"},
		{"", nil, http.StatusBadRequest, "invalid sign-in", `send {"token": "<API token>"}`},
		{`{"tokens": "x"}`, nil, http.StatusBadRequest, "invalid sign-in", `unknown field "tokens"`},
		// Login CSRF: another site's page (another port of the same host is another origin)
		// would sign the victim in to the attacker's account.
		{fmt.Sprintf(`{"token": %q}`, a.token), map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden,
			"cross-site request refused", "not of this server (" + h.srv.URL + ")"},
		{fmt.Sprintf(`{"token": %q}`, a.token), map[string]string{"Origin": "null"}, http.StatusForbidden, "cross-site request refused", "null"},
	} {
		r := anon.send(http.MethodPost, "/v1/session", tc.body, tc.headers)
		e := wantError(t, "POST /v1/session "+tc.body, r, tc.status, tc.msg)
		if d, _ := e.Detail.(string); !strings.Contains(d, tc.detail) {
			t.Errorf("POST /v1/session %s: detail %q, want it to say %q", tc.body, d, tc.detail)
		}
		if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("POST /v1/session %s: Set-Cookie %q", tc.body, c)
		}
	}
	if n := h.count("SELECT count(*) FROM sessions WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d sessions after refused sign-ins, want 0", n)
	}
	// The page's own origin signs in.
	a.signIn(map[string]string{"Origin": h.srv.URL})
}

// TestSessionAuthorises: the cookie stands for the account's token: it lists the account's
// imports and nothing of another's. A request that changes something needs the session's CSRF
// token and, when the browser names the page it comes from, this server's own origin.
func TestSessionAuthorises(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, b := h.account(-1), h.account(-1)
	mine := a.submit("mine.csv", []byte("Email\na@example.com\n"), "")
	theirs := b.submit("theirs.csv", []byte("Email\nb@example.com\n"), "")
	p, _, _ := a.signIn(nil)

	var list struct {
		Imports []struct {
			ID int64 `json:"id"`
		} `json:"imports"`
	}
	r := p.send(http.MethodGet, "/v1/imports", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/imports with the cookie: %s", r)
	}
	decode(t, r, &list)
	if len(list.Imports) != 1 || list.Imports[0].ID != mine {
		t.Errorf("GET /v1/imports with A's cookie: %s, want A's import %d only", r.Body, mine)
	}
	wantError(t, "GET B's import with A's cookie", p.send(http.MethodGet, fmt.Sprintf("/v1/imports/%d", theirs), "", nil),
		http.StatusNotFound, "not found")

	stages := `{"stages": ["Lead", "Won"]}`
	own := h.srv.URL
	for _, tc := range []struct {
		what    string
		headers map[string]string
		detail  string
	}{
		{"no X-CSRF-Token", nil, "send the session's csrf_token"},
		{"no X-CSRF-Token, own Origin", map[string]string{"Origin": own}, "send the session's csrf_token"},
		{"a wrong X-CSRF-Token", map[string]string{"X-CSRF-Token": p.csrf[:len(p.csrf)-1] + "x"}, "is not the session's csrf_token"},
		{"another session's X-CSRF-Token", map[string]string{"X-CSRF-Token": b.mustSignIn().csrf}, "is not the session's csrf_token"},
		{"a foreign Origin", map[string]string{"X-CSRF-Token": p.csrf, "Origin": "http://127.0.0.1:1"}, "from a page of http://127.0.0.1:1"},
		{"an http Origin for https", map[string]string{"X-CSRF-Token": p.csrf, "Origin": own, "X-Forwarded-Proto": "https"}, "not of this server"},
	} {
		r := p.send(http.MethodPut, "/v1/deal-stages", stages, tc.headers)
		e := wantError(t, "PUT /v1/deal-stages with the cookie and "+tc.what, r, http.StatusForbidden, "cross-site request refused")
		if d, _ := e.Detail.(string); !strings.Contains(d, tc.detail) {
			t.Errorf("%s: detail %q, want it to say %q", tc.what, d, tc.detail)
		}
	}
	if got := a.dealStages(); reflect.DeepEqual(got, []string{"Lead", "Won"}) {
		t.Fatalf("a refused request changed the deal stages")
	}
	for _, headers := range []map[string]string{{"X-CSRF-Token": p.csrf}, {"X-CSRF-Token": p.csrf, "Origin": own}} {
		if r := p.send(http.MethodPut, "/v1/deal-stages", stages, headers); r.Status != http.StatusOK {
			t.Errorf("PUT /v1/deal-stages with the cookie and %v: %s, want 200", headers, r)
		}
	}
	if got := a.dealStages(); !reflect.DeepEqual(got, []string{"Lead", "Won"}) {
		t.Errorf("deal stages %q after the page's PUT, want [Lead Won]", got)
	}
	if got := b.dealStages(); reflect.DeepEqual(got, []string{"Lead", "Won"}) {
		t.Errorf("A's page changed B's deal stages")
	}
}

// mustSignIn signs the client in and returns its page.
func (c *client) mustSignIn() *page {
	c.h.t.Helper()
	p, _, _ := c.signIn(nil)
	return p
}

// TestSessionBearerUnchanged: a bearer request needs no CSRF token and is not refused for an
// Origin (a page of another site cannot send the header); with a cookie beside, the token's
// account is the one that acts.
func TestSessionBearerUnchanged(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, b := h.account(-1), h.account(-1)
	p := b.mustSignIn()
	req := func(headers map[string]string) response {
		headers["Authorization"] = "Bearer " + a.token
		return p.send(http.MethodPut, "/v1/deal-stages", `{"stages": ["New", "Done"]}`, headers)
	}
	for _, headers := range []map[string]string{{}, {"Origin": "http://127.0.0.1:1"}} {
		if r := req(headers); r.Status != http.StatusOK {
			t.Errorf("PUT /v1/deal-stages with A's token and B's cookie, headers %v: %s, want 200", headers, r)
		}
	}
	if got := a.dealStages(); !reflect.DeepEqual(got, []string{"New", "Done"}) {
		t.Errorf("A's deal stages %q, want [New Done]", got)
	}
	if got := b.dealStages(); reflect.DeepEqual(got, []string{"New", "Done"}) {
		t.Errorf("the cookie's account B was changed by a request with A's token")
	}
}

// TestSessionEnds: a session ends when it expires, when the token it was made from is deleted
// and when it signs out; after that its cookie is refused (and cleared), saying how to sign in.
func TestSessionEnds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	anon := &page{h: h}
	wantSignedOut := func(what string, p *page) {
		t.Helper()
		paths := []string{"/v1/session", "/v1/imports"}
		if p.cookie == "" {
			paths = paths[:1] // without a cookie /v1/imports asks for a bearer token, as ever
		}
		for _, path := range paths {
			r := p.send(http.MethodGet, path, "", nil)
			e := wantError(t, what+": GET "+path, r, http.StatusUnauthorized, "not signed in")
			if d, _ := e.Detail.(string); !strings.Contains(d, `sign in: POST /v1/session with {"token": "<API token>"}`) {
				t.Errorf("%s: GET %s: detail %q, want it to say how to sign in", what, path, d)
			}
			if p.cookie != "" && !strings.Contains(setCookie(t, what, r), "leadpipe_session=; Path=/; Max-Age=0;") {
				t.Errorf("%s: GET %s does not clear the cookie", what, path)
			}
		}
	}
	wantSignedOut("no cookie", anon)
	wantSignedOut("a made-up cookie", &page{h: h, cookie: "lps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})

	// Expired: refused, and its row removed.
	expired := a.mustSignIn()
	h.exec("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE csrf_token = $1", expired.csrf)
	wantSignedOut("expired", expired)
	if n := h.count("SELECT count(*) FROM sessions WHERE csrf_token = $1", expired.csrf); n != 0 {
		t.Errorf("the expired session is still stored")
	}

	// Signed out: DELETE needs the CSRF token as every change does, then ends the session in
	// the database, so a copy of the cookie no longer works.
	p := a.mustSignIn()
	wantError(t, "DELETE /v1/session without X-CSRF-Token", p.send(http.MethodDelete, "/v1/session", "", nil),
		http.StatusForbidden, "cross-site request refused")
	r := p.send(http.MethodDelete, "/v1/session", "", map[string]string{"X-CSRF-Token": p.csrf})
	if r.Status != http.StatusNoContent {
		t.Fatalf("DELETE /v1/session: %s, want 204", r)
	}
	if c := setCookie(t, "sign-out", r); c != "leadpipe_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" {
		t.Errorf("sign-out Set-Cookie %q, want the cookie cleared", c)
	}
	wantSignedOut("signed out", p)

	// The token deleted: every session made from it ends with it.
	p = a.mustSignIn()
	h.exec("DELETE FROM api_tokens WHERE account_id = $1", a.acct.ID)
	wantSignedOut("token deleted", p)
	if n := h.count("SELECT count(*) FROM sessions WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d sessions of the deleted token remain", n)
	}
}

// exec runs a statement.
func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := h.pool.Exec(h.ctx, sql, args...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// TestSessionTossedCookie: a page of another port of the host (the same site) can set a
// leadpipe_session cookie with a longer Path — its own session, in its own account — which the
// browser then sends first, beside the person's. A request carrying two session cookies is
// refused (401, saying why), so the person's page never acts in the other account.
func TestSessionTossedCookie(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	victim, attacker := h.account(-1).mustSignIn(), h.account(-1).mustSignIn()
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		req, err := http.NewRequestWithContext(h.ctx, method, h.srv.URL+"/v1/deal-stages", strings.NewReader(`{"stages": ["Lead", "Won"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", attacker.csrf)
		req.AddCookie(&http.Cookie{Name: "leadpipe_session", Value: attacker.cookie}) // Path=/v1: sent first
		req.AddCookie(&http.Cookie{Name: "leadpipe_session", Value: victim.cookie})
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e := wantError(t, method+" with two session cookies", response{Status: resp.StatusCode, Header: resp.Header, Body: b},
			http.StatusUnauthorized, "not signed in")
		if d, _ := e.Detail.(string); !strings.Contains(d, "more than one leadpipe_session cookie") {
			t.Errorf("%s with two session cookies: detail %q, want it to say why", method, d)
		}
	}
}

// TestSessionSignInAgain: signing in with a session's cookie ends that session.
func TestSessionSignInAgain(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	first := a.mustSignIn()
	r := first.send(http.MethodPost, "/v1/session", fmt.Sprintf(`{"token": %q}`, a.token), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("sign in again: %s", r)
	}
	if n := h.count("SELECT count(*) FROM sessions WHERE csrf_token = $1", first.csrf); n != 0 {
		t.Errorf("the first session is still there after signing in again (%d rows)", n)
	}
	wantError(t, "the first session's cookie", first.send(http.MethodGet, "/v1/session", "", nil), http.StatusUnauthorized, "not signed in")
}
