package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestOptionCaps: options over the caps every source shares (crm.ParseOptions) answer 400
// naming the option and its limit, on every endpoint that takes them, and nothing is recorded.
// The first case is the issue's: 18,000 tags in a 1 MB options part, which made 3.6 million
// membership rows from a 200-row file.
func TestOptionCaps(t *testing.T) {
	h := newHarness(t, harnessOpts{MaxUpload: 4 << 20})
	a := h.account(-1)
	var csv strings.Builder
	csv.WriteString("Email\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "p%d@caps.example\n", i)
	}
	tags := func(n, size int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf(`"%0*d"`, size, i)
		}
		return `{"tags": [` + strings.Join(names, ",") + `]}`
	}
	long := strings.Repeat("x", 201)
	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		for _, tc := range []struct{ name, options, detail string }{
			{"18,000 tags in 1 MB", tags(18000, 50), "more than the limit of 64 KiB"},
			{"21 tags", tags(21, 3), "tags: 21 tags, more than the limit of 20"},
			{"a long list name", `{"list": "` + long + `"}`, "list: "},
			{"a long tag", `{"tags": ["` + long + `"]}`, "tags: "},
			{"a long campaign", `{"campaign": "` + long + `"}`, "campaign: "},
			{"a long lead source", `{"lead_source": "` + long + `"}`, "lead_source: "},
		} {
			r := a.upload(path, "caps.csv", []byte(csv.String()), tc.options)
			what := fmt.Sprintf("POST %s, %s", path, tc.name)
			e := wantError(t, what, r, http.StatusBadRequest, "invalid import options")
			if s, _ := e.Detail.(string); !strings.Contains(s, tc.detail) {
				t.Errorf("%s: detail %q, want it to say %q", what, s, tc.detail)
			}
		}
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded with options over the caps", n)
	}
	if n := h.count("SELECT count(*) FROM groupings WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d groupings created by options over the caps", n)
	}
}
