package api_test

// The harness of the API's integration tests: the real handlers (api.Server.Register on a
// ServeMux, served by httptest), the real importer and the real workers (pipeline.Workers
// running Importer.Run, as `leadpipe serve` wires them), on the real Postgres of storetest, in a
// database of this package's own.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: their workers claim any queued import of
// their database.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_api")
	os.Exit(m.Run())
}

// harness is one test's daemon: HTTP API, importer, files directory and (when started) workers.
type harness struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	im    *importer.Importer
	files *api.Files
	srv   *httptest.Server
	log   *slog.Logger
}

type harnessOpts struct {
	MaxUpload int64     // 0: 1 MiB
	BatchSize int       // 0: 2
	Log       io.Writer // where the daemon logs (as text); nil: nowhere, unless LEADPIPE_TEST_LOG is set
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.MaxUpload == 0 {
		o.MaxUpload = 1 << 20
	}
	if o.BatchSize == 0 {
		o.BatchSize = 2
	}
	pool := storetest.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cfg := config.Default
	cfg.BatchSize = o.BatchSize
	cfg.Lease = config.Duration(30 * time.Second)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.Log != nil {
		log = slog.New(slog.NewTextHandler(o.Log, nil))
	}
	if os.Getenv("LEADPIPE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	h := &harness{
		t: t, ctx: ctx, pool: pool, log: log,
		im:    &importer.Importer{Pool: pool, Config: cfg, Log: log},
		files: &api.Files{Store: &filestore.Store{Dir: t.TempDir()}, MaxUpload: o.MaxUpload},
	}
	mux := http.NewServeMux()
	(&api.Server{Pool: pool, Importer: h.im, Files: h.files, Log: log, SessionTTL: time.Hour}).Register(mux)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// startWorkers runs one worker, as `leadpipe serve` does, until the returned stop (also run at
// cleanup) is called.
func (h *harness) startWorkers() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &pipeline.Workers{
		Querier: h.pool,
		Count:   1,
		Owner:   "api-test:" + h.t.Name(),
		Lease:   30 * time.Second,
		Poll:    50 * time.Millisecond,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := h.im.Run(ctx, imp, owner)
			return err
		},
		Log: h.log,
	}
	done := make(chan struct{})
	go func() { w.Serve(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	h.t.Cleanup(stop)
	return stop
}

// client is an account with an API token.
type client struct {
	h     *harness
	acct  store.Account
	token string
}

// account creates an account (limit < 0: unlimited) and a token for it. Imports the account
// leaves queued or running are cancelled at cleanup, so that no later worker claims them.
func (h *harness) account(limit int64) *client {
	h.t.Helper()
	acct := storetest.Account(h.t, h.pool, limit)
	token, err := store.CreateToken(h.ctx, h.pool, acct.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := h.pool.Exec(ctx, `UPDATE imports SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL
			WHERE account_id = $1 AND status IN ('queued', 'running')`, acct.ID); err != nil {
			h.t.Errorf("cancel leftover imports: %v", err)
		}
	})
	return &client{h: h, acct: acct, token: token}
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// do sends a request with the client's token (none when c is nil) and reads the whole answer.
func (h *harness) do(c *client, method, path string, body io.Reader, contentType string) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c != nil {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c *client) get(path string) response {
	c.h.t.Helper()
	return c.h.do(c, http.MethodGet, path, nil, "")
}

func (c *client) post(path string) response {
	c.h.t.Helper()
	return c.h.do(c, http.MethodPost, path, nil, "")
}

// part is one part of a multipart upload.
type part struct {
	Name        string // form name
	Disposition string // whole Content-Disposition; built from Name and FileName when empty
	FileName    string
	Content     []byte
}

// multipartBody builds a multipart/form-data body of parts.
func multipartBody(t *testing.T, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		switch {
		case p.Disposition != "":
			hdr.Set("Content-Disposition", p.Disposition)
		case p.FileName != "":
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.FileName))
		default:
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.Name))
		}
		w, err := mw.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.Content) //nolint:errcheck // a bytes.Buffer
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// upload posts a file (and options JSON unless empty) to path.
func (c *client) upload(path, fileName string, content []byte, options string) response {
	c.h.t.Helper()
	parts := []part{{Name: "file", FileName: fileName, Content: content}}
	if options != "" {
		parts = append(parts, part{Name: "options", Content: []byte(options)})
	}
	body, ct := multipartBody(c.h.t, parts...)
	return c.h.do(c, http.MethodPost, path, body, ct)
}

// submit uploads a file to POST /v1/imports and returns the new import's id.
func (c *client) submit(fileName string, content []byte, options string) int64 {
	c.h.t.Helper()
	r := c.upload("/v1/imports", fileName, content, options)
	if r.Status != http.StatusAccepted {
		c.h.t.Fatalf("POST /v1/imports %s: %s, want 202", fileName, r)
	}
	var out struct {
		ImportID int64 `json:"import_id"`
	}
	decode(c.h.t, r, &out)
	return out.ImportID
}

// decode reads a JSON answer into v, failing on a non-JSON content type.
func decode(t *testing.T, r response, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json (body %s)", ct, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// getJSON gets path, wants 200 and decodes the answer into v.
func (c *client) getJSON(path string, v any) {
	c.h.t.Helper()
	r := c.get(path)
	if r.Status != http.StatusOK {
		c.h.t.Fatalf("GET %s: %s, want 200", path, r)
	}
	decode(c.h.t, r, v)
}

// apiError is the JSON body of every failed request.
type apiError struct {
	Error  string `json:"error"`
	Detail any    `json:"detail"`
}

// wantError checks that r is a JSON error with that status, exactly the keys error and detail,
// and an error message containing msg; it returns the error.
func wantError(t *testing.T, what string, r response, status int, msg string) apiError {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d (body %s)", what, r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &keys); err != nil {
		t.Errorf("%s: body %q is not a JSON object: %v", what, r.Body, err)
		return apiError{}
	}
	if _, ok := keys["error"]; !ok || len(keys) != 2 {
		t.Errorf("%s: body %s, want exactly the keys error and detail", what, r.Body)
	}
	if _, ok := keys["detail"]; !ok {
		t.Errorf("%s: body %s has no detail key", what, r.Body)
	}
	var e apiError
	json.Unmarshal(r.Body, &e) //nolint:errcheck // checked above
	if !strings.Contains(e.Error, msg) {
		t.Errorf("%s: error %q, want it to contain %q", what, e.Error, msg)
	}
	return e
}

// importView is api.ImportView as a client reads it.
type importView = api.ImportView

// waitImport polls GET /v1/imports/{id} until done reports true, failing after 60 s.
func (c *client) waitImport(id int64, what string, done func(importView) bool) importView {
	c.h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v importView
		c.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
		if done(v) {
			return v
		}
		if time.Now().After(deadline) {
			c.h.t.Fatalf("import %d: still %s (%d of %d rows, error %q); waited for %s", id, v.Status,
				v.Progress.RowsDone, v.Progress.RowsTotal, v.Error, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFinished polls until the import has ended (finished_at set) and wants status.
func (c *client) waitFinished(id int64, status string) importView {
	c.h.t.Helper()
	v := c.waitImport(id, "its end", func(v importView) bool { return v.FinishedAt != nil })
	if v.Status != status {
		c.h.t.Fatalf("import %d ended %s (error %q), want %s", id, v.Status, v.Error, status)
	}
	return v
}

// fixture reads a file of testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedFiles lists the regular files under dir, relative to it.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// count runs a SELECT count(*) ... query.
func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(h.ctx, sql, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return n
}
