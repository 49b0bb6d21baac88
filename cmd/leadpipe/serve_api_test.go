package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/internal/syncbuf"
)

// daemon is `leadpipe serve` running in the test's process, with an account and its token.
type daemon struct {
	t       *testing.T
	ctx     context.Context
	base    string
	token   string
	account string
	log     *syncbuf.Buffer
}

// startDaemon runs `leadpipe serve` until the test ends and waits for its API to answer.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	token := strings.TrimSpace(mustCLI(t, "token", "create", "--account", account))
	addr := unusedAddr(t)
	t.Setenv("LEADPIPE_HTTP_ADDR", addr)
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")

	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{t: t, ctx: ctx, base: "http://" + addr, token: token, account: account, log: &syncbuf.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, d.log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for status, _ := d.call("GET", "/v1/imports", "", nil); status != http.StatusOK; status, _ = d.call("GET", "/v1/imports", "", nil) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's API did not answer; log:\n%s", d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// call makes an API request with the account's token; status 0 means no answer.
func (d *daemon) call(method, path, contentType string, body io.Reader) (int, []byte) {
	d.t.Helper()
	req, err := http.NewRequestWithContext(d.ctx, method, d.base+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error()) // status 0: no answer, and why
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// upload posts a file to /v1/imports and returns the status and body of the answer.
func (d *daemon) upload(name string, content []byte) (int, []byte) {
	d.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", name)
	part.Write(content) //nolint:errcheck // a bytes.Buffer does not fail
	mw.Close()
	return d.call("POST", "/v1/imports", mw.FormDataContentType(), &body)
}

// importStatus is an import as GET /v1/imports/ID shows it.
type importStatus struct {
	Status           string `json:"status"`
	Error            string `json:"error"`
	Created, Skipped int
}

// waitImport polls an import until it has ended, and returns it.
func (d *daemon) waitImport(id int64) importStatus {
	d.t.Helper()
	path := "/v1/imports/" + strconv.FormatInt(id, 10)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var imp importStatus
		if _, b := d.call("GET", path, "", nil); json.Unmarshal(b, &imp) != nil {
			d.t.Fatalf("GET %s: %s", path, b)
		}
		switch imp.Status {
		case "completed", "failed", "cancelled":
			return imp
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("import %s: status %q; log:\n%s", path, imp.Status, d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeAPI checks that `leadpipe serve` serves the HTTP API: an upload through it is
// imported by the daemon's workers, and its original downloads byte for byte.
func TestServeAPI(t *testing.T) {
	d := startDaemon(t)
	content := "Email,First Name\nada@serve.example,Ada\nnot-an-email,Bob\n"
	status, b := d.upload("serve.csv", []byte(content))
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &queued) != nil {
		t.Fatalf("POST /v1/imports: %d %s", status, b)
	}
	imp := d.waitImport(queued.ImportID)
	if imp.Status != "completed" || imp.Created != 1 || imp.Skipped != 1 {
		t.Fatalf("import: %+v, want completed, 1 created and 1 skipped", imp)
	}
	path := "/v1/imports/" + strconv.FormatInt(queued.ImportID, 10)
	if status, b = d.call("GET", path+"/file", "", nil); status != http.StatusOK || string(b) != content {
		t.Fatalf("GET %s/file: %d %q, want the original", path, status, b)
	}
}
