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
)

// TestServeAPI checks that `leadpipe serve` serves the HTTP API: an upload through it is
// imported by the daemon's workers, and its original downloads byte for byte.
func TestServeAPI(t *testing.T) {
	cliEnv(t)
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	token := strings.TrimSpace(mustCLI(t, "token", "create", "--account", account))
	addr := unusedAddr(t)
	t.Setenv("LEADPIPE_HTTP_ADDR", addr)
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")

	ctx, cancel := context.WithCancel(context.Background())
	var errOut cliBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, &errOut) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + addr
	call := func(method, path, contentType string, body io.Reader) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	deadline := time.Now().Add(20 * time.Second)
	for status, _ := call("GET", "/v1/imports", "", nil); status != http.StatusOK; status, _ = call("GET", "/v1/imports", "", nil) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's API did not answer; log:\n%s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	content := "Email,First Name\nada@serve.example,Ada\nnot-an-email,Bob\n"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "serve.csv")
	part.Write([]byte(content)) //nolint:errcheck // a bytes.Buffer does not fail
	mw.Close()
	status, b := call("POST", "/v1/imports", mw.FormDataContentType(), &body)
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &queued) != nil {
		t.Fatalf("POST /v1/imports: %d %s", status, b)
	}
	path := "/v1/imports/" + strconv.FormatInt(queued.ImportID, 10)
	var imp struct {
		Status           string `json:"status"`
		Created, Skipped int
	}
	for imp.Status != "completed" {
		if time.Now().After(deadline) {
			t.Fatalf("import %s: status %q; log:\n%s", path, imp.Status, errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
		if _, b = call("GET", path, "", nil); json.Unmarshal(b, &imp) != nil {
			t.Fatalf("GET %s: %s", path, b)
		}
	}
	if imp.Created != 1 || imp.Skipped != 1 {
		t.Fatalf("import: created %d skipped %d, want 1 and 1", imp.Created, imp.Skipped)
	}
	if status, b = call("GET", path+"/file", "", nil); status != http.StatusOK || string(b) != content {
		t.Fatalf("GET %s/file: %d %q, want the original", path, status, b)
	}
}
