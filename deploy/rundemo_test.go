package deploy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// demoCopy lays out in a temporary directory what deploy/run-demo.sh uses of the repository —
// the script, the sample, bin/leadpipe — with a deploy/services.sh that starts nothing and
// points at the test database, and returns the copy of the script.
func demoCopy(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"deploy/sample", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"deploy/run-demo.sh", "deploy/sample/prospects.csv", "deploy/sample/options.json"} {
		b, err := os.ReadFile(repoPath(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	services := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = env ] && printf '%%s\\n' 'LEADPIPE_POSTGRES_URL=%s' 'LEADPIPE_CLICKHOUSE_ADDR='\nexit 0\n", storetest.URL())
	if err := os.WriteFile(filepath.Join(root, "deploy/services.sh"), []byte(services), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(buildLeadpipe(t), filepath.Join(root, "bin/leadpipe")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "deploy/run-demo.sh")
}

// TestRunDemoPrintsThePageAndAToken runs make run's script (with services already running):
// it prints the page's address, where the daemon serves the page, and a token of the demo
// account that the API takes.
func TestRunDemoPrintsThePageAndAToken(t *testing.T) {
	pool := storetest.Pool(t) // migrated and reachable, or skip (fail in CI)
	script := demoCopy(t)
	addr := freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEADPIPE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "LEADPIPE_HTTP_ADDR="+addr, "LEADPIPE_KAFKA_EMBEDDED_ADDR="+freeAddr(t))
	out := start(t, env, "bash", script)

	block := regexp.MustCompile(`\n\n  Open (\S+) and sign in with this token of the account demo:\n\n    (\S+)\n\n` +
		`  \(Each run prints a new token; those of earlier runs keep working\.\)\n\n`)
	deadline := time.Now().Add(time.Minute)
	var m []string
	for m = block.FindStringSubmatch(out.String()); m == nil; m = block.FindStringSubmatch(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("run-demo.sh printed no page and token:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	page, token := m[1], m[2]
	if want := "http://" + addr + "/"; page != want {
		t.Errorf("the page is at %s, want %s", page, want)
	}
	if acct, err := store.AccountByToken(t.Context(), pool, token); err != nil || acct.Name != "demo" {
		t.Errorf("the token is of account %q (%v), want demo", acct.Name, err)
	}
	waitHTTP(t, page, out)

	req, err := http.NewRequest(http.MethodGet, page+"v1/imports", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var list struct {
		Imports []json.RawMessage `json:"imports"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("GET /v1/imports with the token: %s %s", resp.Status, body)
	}
}
