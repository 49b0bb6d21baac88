package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

// TestTenantIsolation: account B's token sees nothing of account A. Every endpoint with an
// import id answers 404 for A's imports, exactly as for an id that does not exist; B's lists
// show none of A's imports or prospects; B cannot cancel A's queued import.
func TestTenantIsolation(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	stop := h.startWorkers()
	a, b := h.account(-1), h.account(-1)
	done := a.submit("flow.csv", fixture(t, "flow.csv"), "")
	a.waitFinished(done, store.StatusCompleted)
	stop()
	queued := a.submit("queued.csv", []byte("Email\nq@example.com\n"), "")

	const missing = 999999999
	for _, id := range []int64{done, queued} {
		for _, ep := range []struct{ method, path string }{
			{http.MethodGet, "/v1/imports/%d"},
			{http.MethodGet, "/v1/imports/%d/file"},
			{http.MethodGet, "/v1/imports/%d/skipped.csv"},
			{http.MethodPost, "/v1/imports/%d/cancel"},
			{http.MethodGet, "/v1/prospects?import_id=%d"},
		} {
			what := ep.method + " " + fmt.Sprintf(ep.path, id) + " with B's token"
			r := h.do(b, ep.method, fmt.Sprintf(ep.path, id), nil, "")
			wantError(t, what, r, http.StatusNotFound, "not found")
			if bytes.Contains(r.Body, []byte("flow.csv")) || bytes.Contains(r.Body, []byte("queued.csv")) {
				t.Errorf("%s: the answer names A's file: %s", what, r.Body)
			}
			// Indistinguishable from an id that does not exist.
			r2 := h.do(b, ep.method, fmt.Sprintf(ep.path, missing), nil, "")
			if r2.Status != r.Status || !bytes.Equal(r2.Body, r.Body) {
				t.Errorf("%s: %s; for a missing id: %s; want the same answer", what, r, r2)
			}
		}
	}

	// B's cancel did not cancel A's queued import; A's own token still works on both.
	var v importView
	a.getJSON(fmt.Sprintf("/v1/imports/%d", queued), &v)
	if v.Status != "queued" {
		t.Errorf("A's queued import is %s after B tried to cancel it", v.Status)
	}
	for _, path := range []string{"/v1/imports/%d", "/v1/imports/%d/file", "/v1/imports/%d/skipped.csv", "/v1/prospects?import_id=%d"} {
		if r := a.get(fmt.Sprintf(path, done)); r.Status != http.StatusOK {
			t.Errorf("A: GET %s: %s", fmt.Sprintf(path, done), r)
		}
	}

	// B's lists hold nothing of A's, whatever the filter.
	for _, q := range []string{"", "status=completed", "status=queued", "from=2000-01-01"} {
		var l api.ImportList
		b.getJSON("/v1/imports?"+q, &l)
		if len(l.Imports) != 0 {
			t.Errorf("B: GET /v1/imports?%s lists %d imports of A", q, len(l.Imports))
		}
	}
	for _, q := range []string{"", "import_file=flow.csv", "imported_from=2000-01-01", fmt.Sprintf("cursor=0&limit=%d", api.MaxLimit)} {
		if got := b.prospects(q); len(got.Prospects) != 0 {
			t.Errorf("B: GET /v1/prospects?%s lists A's prospects: %+v", q, got.Prospects)
		}
	}
	// And A's lists hold both of A's imports and A's prospects.
	if ids, _ := a.history(""); len(ids) != 2 {
		t.Errorf("A's history: %v, want 2 imports", ids)
	}
	if got, _ := a.emails("import_file=flow.csv"); len(got) != 2 {
		t.Errorf("A's prospects of flow.csv: %q", got)
	}
}

// routes are the API's operations, with an id where the path takes one.
var testRoutes = []struct{ method, path string }{
	{http.MethodPost, "/v1/previews"},
	{http.MethodPost, "/v1/imports"},
	{http.MethodGet, "/v1/imports"},
	{http.MethodGet, "/v1/imports/1"},
	{http.MethodGet, "/v1/imports/1/file"},
	{http.MethodGet, "/v1/imports/1/skipped.csv"},
	{http.MethodPost, "/v1/imports/1/cancel"},
	{http.MethodGet, "/v1/prospects"},
}

// TestAuth: every endpoint wants a bearer token of an account: none, a malformed one or an
// unknown one answers 401 with a JSON error and a WWW-Authenticate challenge.
func TestAuth(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, rt := range testRoutes {
		for _, tc := range []struct {
			name, auth, msg, challenge string
		}{
			{"no token", "", "missing bearer token", `Bearer realm="leadpipe"`},
			{"empty bearer", "Bearer ", "missing bearer token", `Bearer realm="leadpipe"`},
			{"basic auth", "Basic dXNlcjpwYXNz", "missing bearer token", `Bearer realm="leadpipe"`},
			{"token without Bearer", a.token, "missing bearer token", `Bearer realm="leadpipe"`},
			{"unknown token", "Bearer lp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid bearer token", `Bearer realm="leadpipe", error="invalid_token"`},
			{"not a leadpipe token", "Bearer hunter2", "invalid bearer token", `Bearer realm="leadpipe", error="invalid_token"`},
			{"token with a suffix", "Bearer " + a.token + "x", "invalid bearer token", `Bearer realm="leadpipe", error="invalid_token"`},
		} {
			req, err := http.NewRequestWithContext(h.ctx, rt.method, h.srv.URL+rt.path, strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body) //nolint:errcheck // checked as JSON below
			resp.Body.Close()
			r := response{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes()}
			what := fmt.Sprintf("%s %s, %s", rt.method, rt.path, tc.name)
			wantError(t, what, r, http.StatusUnauthorized, tc.msg)
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("%s: WWW-Authenticate %q, want %q", what, got, tc.challenge)
			}
		}
	}
	if r := a.get("/v1/imports"); r.Status != http.StatusOK {
		t.Errorf("good token: %s", r)
	}
}
