package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/store"
)

// TestCLIViews runs one import and reads it back through every command that shows what the
// HTTP API shows: token create, preview, imports list/show/file/skipped/cancel, prospects list.
func TestCLIViews(t *testing.T) {
	pool := cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account, "--prospect-limit", "3")

	token := strings.TrimSpace(mustCLI(t, "token", "create", "--account", account))
	a, err := store.AccountByToken(context.Background(), pool, token)
	if err != nil || a.Name != account {
		t.Fatalf("token %q resolves to %+v (%v), want account %s", token, a, err, account)
	}

	content := "Email,First Name,Notes\n" +
		"ann@views.example,Ann,=1+1\n" +
		"bad-email,Bob,@x\n" +
		"cy@views.example,Cy,plain\n" +
		"ann@views.example,Annie,-2\n"
	path := writeTestFile(t, "views.csv", []byte(content))

	var preview struct {
		TotalRows        int  `json:"total_rows"`
		OverLimitWarning bool `json:"over_limit_warning"`
		Rows             []struct {
			Row     int               `json:"row_number"`
			Outcome string            `json:"outcome"`
			Reason  string            `json:"reason"`
			Values  map[string]string `json:"values"`
		} `json:"rows"`
		Unmapped []string `json:"unmapped_columns"`
	}
	decode(t, mustCLI(t, "preview", path, "--account", account), &preview)
	gotRows := []string{}
	for _, r := range preview.Rows {
		gotRows = append(gotRows, strconv.Itoa(r.Row)+":"+r.Outcome+":"+r.Reason+":"+r.Values["first_name"])
	}
	wantRows := []string{"2:created::Ann", "3:skipped:invalid_email:Bob", "4:created::Cy", "5:updated::Annie"}
	if preview.TotalRows != 4 || !preview.OverLimitWarning || strings.Join(gotRows, " ") != strings.Join(wantRows, " ") ||
		strings.Join(preview.Unmapped, ",") != "Notes" {
		t.Fatalf("preview: total %d, over limit %v, rows %v, unmapped %v; want 4, true, %v, [Notes]",
			preview.TotalRows, preview.OverLimitWarning, gotRows, preview.Unmapped, wantRows)
	}
	if n := count(t, pool, "SELECT count(*) FROM imports WHERE account_id = $1", accountID(t, pool, account)); n != 0 {
		t.Fatalf("preview wrote %d imports, want none", n)
	}

	sum := oneJSON(t, mustCLI(t, "import", path, "--account", account))
	id := jsonInt(t, sum, "import_id")
	ids := strconv.FormatInt(id, 10)

	var list struct {
		Imports []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"imports"`
	}
	decode(t, mustCLI(t, "imports", "list", "--account", account, "--status", "completed"), &list)
	if len(list.Imports) != 1 || list.Imports[0].ID != id {
		t.Fatalf("imports list: %+v, want just import %d", list.Imports, id)
	}
	var show struct {
		Status   string `json:"status"`
		Progress struct {
			Done  int `json:"rows_done"`
			Total int `json:"rows_total"`
		} `json:"progress"`
		Created, Updated, Skipped int
	}
	decode(t, mustCLI(t, "imports", "show", ids, "--account", account), &show)
	if show.Status != "completed" || show.Progress.Done != 4 || show.Progress.Total != 4 || show.Created != 2 || show.Updated != 1 || show.Skipped != 1 {
		t.Fatalf("imports show: %+v", show)
	}
	if got := mustCLI(t, "imports", "file", ids, "--account", account); got != content {
		t.Fatalf("imports file: %q, want the original %q", got, content)
	}
	wantSkipped := "Email,First Name,Notes,row_number,skip_reason,skip_detail\n" +
		"bad-email,Bob,'@x,3,invalid_email,\"\"\"bad-email\"\" is not a valid email address\"\n"
	if got := mustCLI(t, "imports", "skipped", ids, "--account", account); got != wantSkipped {
		t.Fatalf("imports skipped:\n%s\nwant:\n%s", got, wantSkipped)
	}
	var records struct {
		Kind    string `json:"kind"`
		Records []struct {
			Created bool              `json:"created"`
			Values  map[string]string `json:"values"`
		} `json:"records"`
		Next string `json:"next_cursor"`
	}
	decode(t, mustCLI(t, "imports", "records", ids, "--account", account, "--limit", "1"), &records)
	if records.Kind != "prospects" || len(records.Records) != 1 || !records.Records[0].Created ||
		records.Records[0].Values["first_name"] != "Annie" || records.Next == "" {
		t.Fatalf("imports records --limit 1: %+v, want Annie (created, then updated by row 5) and a next cursor", records)
	}
	next := records.Next
	records.Next = ""
	decode(t, mustCLI(t, "imports", "records", ids, "--account", account, "--created", "--cursor", next), &records)
	if len(records.Records) != 1 || records.Records[0].Values["email"] != "cy@views.example" || records.Next != "" {
		t.Fatalf("imports records --created --cursor: %+v, want cy@ alone", records)
	}
	if _, _, err := cli(t, "imports", "cancel", ids, "--account", account); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Fatalf("cancelling a completed import: err %v; want an error saying it already ended", err)
	}

	var prospects struct {
		Prospects []struct {
			Email     string `json:"email"`
			FirstName string `json:"first_name"`
		} `json:"prospects"`
	}
	decode(t, mustCLI(t, "prospects", "list", "--account", account, "--import-file", "views.csv"), &prospects)
	if len(prospects.Prospects) != 2 || prospects.Prospects[0].FirstName != "Annie" || prospects.Prospects[1].Email != "cy@views.example" {
		t.Fatalf("prospects list: %+v, want Annie (ann@) then cy@", prospects.Prospects)
	}
	csvOut := mustCLI(t, "prospects", "list", "--account", account, "--import-id", ids, "--format", "csv")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "id,email,first_name,") || !strings.Contains(lines[1], ",ann@views.example,Annie,") {
		t.Fatalf("prospects list --format csv:\n%s", csvOut)
	}

	// Another account sees none of it.
	other := uniqueName(t)
	mustCLI(t, "account", "create", other)
	if _, _, err := cli(t, "imports", "show", ids, "--account", other); err == nil {
		t.Fatal("another account could show the import")
	}
	decode(t, mustCLI(t, "prospects", "list", "--account", other), &prospects)
	if len(prospects.Prospects) != 0 {
		t.Fatalf("another account lists %d prospects, want 0", len(prospects.Prospects))
	}
	_ = os.Remove(path)
	if _, _, err := cli(t, "imports", "file", ids, "--account", account); err == nil || !strings.Contains(err.Error(), "no longer stored") {
		t.Fatalf("file of a removed original: err %v", err)
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}
