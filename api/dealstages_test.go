package api_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/store"
)

func (c *client) dealStages() []string {
	c.h.t.Helper()
	var s api.DealStages
	c.getJSON("/v1/deal-stages", &s)
	return s.Stages
}

func (c *client) putDealStages(body string) response {
	c.h.t.Helper()
	return c.h.do(c, http.MethodPut, "/v1/deal-stages", strings.NewReader(body), "application/json")
}

// TestDealStages: an account starts with the default stages and replaces them with PUT; a
// deals import then accepts the new stages and warns invalid_picklist_value for an old one.
// Refused lists answer 400 naming the problem and change nothing; another account keeps the
// defaults.
func TestDealStages(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.startWorkers()
	a, other := h.account(-1), h.account(-1)
	defaults := []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
	if got := a.dealStages(); !reflect.DeepEqual(got, defaults) {
		t.Fatalf("GET /v1/deal-stages of a new account: %q, want %q", got, defaults)
	}

	r := a.putDealStages(`{"stages": [" Open ", "Won", "Lost"]}`)
	var set api.DealStages
	if r.Status != http.StatusOK {
		t.Fatalf("PUT /v1/deal-stages: %s, want 200", r)
	}
	decode(t, r, &set)
	want := []string{"Open", "Won", "Lost"}
	if !reflect.DeepEqual(set.Stages, want) {
		t.Errorf("PUT answered %q, want %q", set.Stages, want)
	}
	if got := a.dealStages(); !reflect.DeepEqual(got, want) {
		t.Errorf("GET after PUT: %q, want %q", got, want)
	}

	body, ct := multipartBody(t, part{Name: "file", FileName: "deals.csv", Content: []byte("Name,Stage\nA,won\nB,Proposal\n")},
		part{Name: "kind", Content: []byte("deals")})
	r = h.do(a, http.MethodPost, "/v1/imports", body, ct)
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /v1/imports kind=deals: %s, want 202", r)
	}
	decode(t, r, &queued)
	v := a.waitFinished(queued.ImportID, store.StatusCompleted)
	if v.Created != 2 || !reflect.DeepEqual(v.WarningsByKind, map[string]int{"invalid_picklist_value": 1}) {
		t.Errorf("deals import: %d created, warnings %v; want 2 created and one invalid_picklist_value", v.Created, v.WarningsByKind)
	}
	var stages string
	if err := h.pool.QueryRow(h.ctx, `SELECT string_agg(name || '=' || coalesce(stage, ''), ',' ORDER BY name) FROM deals WHERE account_id = $1`,
		a.acct.ID).Scan(&stages); err != nil {
		t.Fatal(err)
	}
	if stages != "A=Won,B=" {
		t.Errorf("deals %q, want A at Won (the stage's spelling) and B without the old stage Proposal", stages)
	}

	for _, tc := range []struct {
		body, detail string
	}{
		{`{"stages": []}`, "give at least one stage"},
		{`{"stages": null}`, "give at least one stage"},
		{`{"stages": ["Open", "  "]}`, `deal stage "  " is empty or contains ';'`},
		{`{"stages": ["Open", "A;B"]}`, `deal stage "A;B" is empty or contains ';'`},
		{`{"stages": ["Open", "open "]}`, `deal stage "open" is given twice`},
		{`{"stages": ["Open", "Lost\u0000"]}`, `contains a control character`},
		{``, `send {"stages": [`},
		{`{"stages": "Open"}`, "the body is not {"},
		{`{"stages": ["Open"], "other": 1}`, `unknown field "other"`},
		{`{"stages": ["Open"]} {}`, "more than one JSON value"},
		{`{"stages": ["` + strings.Repeat("x", 70<<10) + `"]}`, "the body is over 64 KiB"},
	} {
		e := wantError(t, "PUT "+tc.body[:min(len(tc.body), 40)], a.putDealStages(tc.body), http.StatusBadRequest, "invalid deal stages")
		if d, _ := e.Detail.(string); !strings.Contains(d, tc.detail) {
			t.Errorf("PUT %.40s: detail %q, want it to say %q", tc.body, d, tc.detail)
		}
	}
	if got := a.dealStages(); !reflect.DeepEqual(got, want) {
		t.Errorf("GET after refused PUTs: %q, want %q", got, want)
	}
	if got := other.dealStages(); !reflect.DeepEqual(got, defaults) {
		t.Errorf("GET of another account: %q, want the defaults", got)
	}
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		wantError(t, method+" without a token", h.do(nil, method, "/v1/deal-stages", strings.NewReader(`{"stages":["X"]}`), "application/json"),
			http.StatusUnauthorized, "missing bearer token")
	}
}
