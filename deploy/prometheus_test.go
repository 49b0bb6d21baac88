package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDashboardQueriesReturnData runs a real daemon, imports a file through its API, has a
// real Prometheus scrape it every second, and evaluates every PromQL expression of the
// dashboards: each must be valid and return data.
func TestDashboardQueriesReturnData(t *testing.T) {
	promBin := tool(t, "prometheus", "deploy/services.sh")
	var queries []promQuery
	for _, d := range loadDashboards(t) {
		qs, err := d.promQueries()
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, qs...)
	}

	d := startDaemon(t)
	prom := startPrometheus(t, promBin, strings.TrimPrefix(d.base, "http://"))
	// A file dropped in the watched directory is for the watcher, once it is merged.
	if err := os.WriteFile(filepath.Join(d.watched, "dropped.csv"), []byte("Email\ndropped@dash.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := d.upload(t, "dash.csv", "Email,First Name\nada@dash.example,Ada\nnot-an-email,Bob\n")
	d.waitImport(t, id, "completed")

	// Poll until every expression that must return data does: series appear with the scrape
	// after the import, and rates need two samples.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var empty []promQuery
		for _, q := range queries {
			n, err := prom.query(q.expr)
			if err != nil {
				t.Fatalf("%s: %s: %v", q.where, q.expr, err)
			}
			if n == 0 {
				empty = append(empty, q)
			}
		}
		if len(empty) == 0 || time.Now().After(deadline) {
			for _, q := range empty {
				t.Errorf("%s: no data for %s", q.where, q.expr)
			}
			if t.Failed() {
				t.Logf("daemon log:\n%s", d.log.String())
			}
			t.Logf("%d PromQL expressions evaluated, %d returned data", len(queries), len(queries)-len(empty))
			return
		}
		time.Sleep(time.Second)
	}
}

// upload posts a CSV file to the daemon's API and returns the queued import's id.
func (d *daemon) upload(t *testing.T, name, content string) int64 {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(part, content) //nolint:errcheck // a bytes.Buffer does not fail
	mw.Close()
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	status := d.call(t, "POST", "/v1/imports", mw.FormDataContentType(), &body, &queued)
	if status != http.StatusAccepted || queued.ImportID == 0 {
		t.Fatalf("POST /v1/imports: %d %+v", status, queued)
	}
	return queued.ImportID
}

// waitImport waits until the import ends, and fails unless it ends in want.
func (d *daemon) waitImport(t *testing.T, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var imp struct {
			Status, Error string
		}
		d.call(t, "GET", fmt.Sprintf("/v1/imports/%d", id), "", nil, &imp)
		switch {
		case imp.Status == want:
			return
		case imp.Status == "failed" || imp.Status == "cancelled" || time.Now().After(deadline):
			t.Fatalf("import %d: status %q (%s), want %q; daemon log:\n%s", id, imp.Status, imp.Error, want, d.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call makes an API request with the daemon's token and decodes the JSON answer into v.
func (d *daemon) call(t *testing.T, method, path, contentType string, body io.Reader, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
	}
	return resp.StatusCode
}

// prometheus is a Prometheus server run by a test.
type prometheus struct{ base string }

// startPrometheus runs Prometheus on a port of its own with a temporary storage, scraping
// target every second and loading the alert rules of deploy/prometheus, and waits until it
// has scraped target once.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	rules, err := filepath.Abs(repoPath("deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: leadpipe
    static_configs:
      - targets: [%q]
`, rules, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := &prometheus{base: "http://" + addr}
	out := start(t, os.Environ(), bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	waitHTTP(t, p.base+"/-/ready", out)
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := p.query(`up{job="leadpipe"} == 1`)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not scrape %s; its output:\n%s", target, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// query evaluates a PromQL expression now and returns how many series (or scalars) it
// returned. An invalid expression is an error.
func (p *prometheus) query(expr string) (int, error) {
	resp, err := http.PostForm(p.base+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return 0, fmt.Errorf("query prometheus: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		Status, Error string
		Data          struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("query prometheus: %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("prometheus: %s", r.Error)
	}
	switch r.Data.ResultType {
	case "scalar", "string":
		return 1, nil
	}
	var series []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &series); err != nil {
		return 0, fmt.Errorf("prometheus result: %w", err)
	}
	return len(series), nil
}
