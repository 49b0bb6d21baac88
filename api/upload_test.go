package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/importer"
)

const smallLimit = 2048

// TestUploadTooLarge: an upload larger than Files.MaxUpload answers 413 with a JSON error that
// names max_upload_bytes, on every endpoint that takes one; one of exactly MaxUpload bytes is
// accepted. Nothing is recorded or kept.
func TestUploadTooLarge(t *testing.T) {
	h := newHarness(t, harnessOpts{MaxUpload: smallLimit})
	a := h.account(-1)

	// A body of exactly smallLimit+extra bytes: a CSV whose one cell is padded to size.
	body := func(extra int) (*bytes.Buffer, string) {
		build := func(pad int) (*bytes.Buffer, string) {
			csv := "Email,Notes\na@example.com," + strings.Repeat("x", pad) + "\n"
			return multipartBody(t, part{Name: "file", FileName: "big.csv", Content: []byte(csv)})
		}
		b, _ := build(0)
		return build(smallLimit + extra - b.Len())
	}

	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		b, ct := body(1)
		if b.Len() != smallLimit+1 {
			t.Fatalf("body of %d bytes, want %d", b.Len(), smallLimit+1)
		}
		r := h.do(a, http.MethodPost, path, b, ct)
		e := wantError(t, "POST "+path+" one byte over", r, http.StatusRequestEntityTooLarge, "upload too large")
		if !reflect.DeepEqual(e.Detail, map[string]any{"max_upload_bytes": float64(smallLimit)}) {
			t.Errorf("POST %s: detail %#v, want {max_upload_bytes: %d}", path, e.Detail, smallLimit)
		}

		// Much larger, the file followed by options.
		big, ct := multipartBody(t,
			part{Name: "file", FileName: "big.csv", Content: bytes.Repeat([]byte("a@example.com\n"), 10*smallLimit)},
			part{Name: "options", Content: []byte("{}")})
		r = h.do(a, http.MethodPost, path, big, ct)
		wantError(t, "POST "+path+" 70 times over", r, http.StatusRequestEntityTooLarge, "upload too large")
		if !bytes.Contains(r.Body, []byte(`"max_upload_bytes":2048`)) {
			t.Errorf("POST %s: body %s does not name max_upload_bytes 2048", path, r.Body)
		}
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded from uploads over the limit", n)
	}
	// (That no spooled file is left behind is TestFailedUploadsKeepNoFiles'.)

	// Exactly at the limit: accepted.
	b, ct := body(0)
	if b.Len() != smallLimit {
		t.Fatalf("body of %d bytes, want %d", b.Len(), smallLimit)
	}
	if r := h.do(a, http.MethodPost, "/v1/imports", b, ct); r.Status != http.StatusAccepted {
		t.Errorf("upload of exactly max_upload_bytes: %s, want 202", r)
	}
}

// endless is a multipart body that never ends: a file part of ever more CSV rows.
type endless struct {
	head []byte
	sent int64
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		e.sent += int64(n)
		return n, nil
	}
	for i := range p {
		p[i] = "x@example.com\n"[i%14]
	}
	e.sent += int64(len(p))
	return len(p), nil
}

// TestUploadLimitWhileStreaming: the limit is enforced as the body streams in. A body that never
// ends gets its 413 once the limit is passed; a server reading the whole body first would never
// answer.
func TestUploadLimitWhileStreaming(t *testing.T) {
	h := newHarness(t, harnessOpts{MaxUpload: 64 << 10})
	a := h.account(-1)
	for _, path := range []string{"/v1/imports", "/v1/previews"} {
		const boundary = "endlessboundary"
		body := &endless{head: []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless.csv\"\r\n\r\nEmail\n")}
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.Header.Set("Authorization", "Bearer "+a.token)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			cancel()
			t.Fatalf("POST %s with an endless body: %v (no answer before the client gave up)", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		wantError(t, "POST "+path+" endless", response{Status: resp.StatusCode, Header: resp.Header, Body: b},
			http.StatusRequestEntityTooLarge, "upload too large")
		if !bytes.Contains(b, []byte(`"max_upload_bytes":65536`)) {
			t.Errorf("POST %s: body %s does not name max_upload_bytes 65536", path, b)
		}
	}
}

// TestBadUploads: malformed uploads answer 400, files that cannot be imported 422, each with
// a JSON error saying what is wrong; nothing is recorded or kept.
func TestBadUploads(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	csv := []byte("Email\na@example.com\n")
	binary := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00\x5c\x72\xa8\x66")
	file := func(content []byte) part { return part{Name: "file", FileName: "x.csv", Content: content} }
	opts := func(s string) part { return part{Name: "options", Content: []byte(s)} }

	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		for _, tc := range []struct {
			name   string
			parts  []part
			status int
			msg    string
			detail string // a part of the detail, when set
		}{
			{"no file part", []part{opts("{}")}, 400, `no "file" part in the upload`, ""},
			{"no parts", nil, 400, `no "file" part in the upload`, ""},
			{"two file parts", []part{file(csv), file(csv)}, 400, `more than one "file" part`, ""},
			{"unexpected part", []part{file(csv), {Name: "data", Content: []byte("x")}}, 400, `unexpected part "data"`, ""},
			{"options: unknown key", []part{file(csv), opts(`{"create_new": true, "bogus": 1}`)}, 400, "invalid import options", `unknown field "bogus"`},
			{"options: not JSON", []part{file(csv), opts(`{"list":`)}, 400, "invalid import options", "unexpected EOF"},
			{"options: two values", []part{file(csv), opts(`{} {}`)}, 400, "invalid import options", "more than one JSON value"},
			{"options: wrong type", []part{opts(`{"tags": "x"}`), file(csv)}, 400, "invalid import options", "tags"},
			{"options: unknown field", []part{file(csv), opts(`{"unique_identifier": "shoe_size"}`)}, 400, "invalid import options", `unique_identifier: unknown field "shoe_size"`},
			{"options: unknown owner", []part{file(csv), opts(`{"owner": "nobody"}`)}, 400, "invalid import options", `no user "nobody"`},
			{"binary file", []part{file(binary)}, 422, "the file cannot be imported", "file is not text"},
			{"empty file", []part{file(nil)}, 422, "the file cannot be imported", "file is empty"},
			{"blank file", []part{file([]byte("\n\n  \n"))}, 422, "the file cannot be imported", "file is empty"},
			{"UTF-16 without BOM", []part{file([]byte("E\x00m\x00a\x00i\x00l\x00\n\x00a\x00@\x00b\x00.\x00c\x00o\x00\n\x00"))}, 422, "the file cannot be imported", "UTF-16"},
		} {
			body, ct := multipartBody(t, tc.parts...)
			r := h.do(a, http.MethodPost, path, body, ct)
			what := fmt.Sprintf("POST %s, %s", path, tc.name)
			e := wantError(t, what, r, tc.status, tc.msg)
			if tc.detail != "" {
				if s, ok := e.Detail.(string); !ok || !strings.Contains(s, tc.detail) {
					t.Errorf("%s: detail %#v, want it to contain %q", what, e.Detail, tc.detail)
				}
			}
		}
		// Not multipart at all.
		r := h.do(a, http.MethodPost, path, strings.NewReader(`{"file": "x"}`), "application/json")
		wantError(t, "POST "+path+" as JSON", r, 400, "expected a multipart/form-data upload")
		r = h.do(a, http.MethodPost, path, nil, "")
		wantError(t, "POST "+path+" without a body", r, 400, "expected a multipart/form-data upload")
		// A body cut short.
		body, ct := multipartBody(t, file(csv))
		r = h.do(a, http.MethodPost, path, bytes.NewReader(body.Bytes()[:body.Len()-10]), ct)
		wantError(t, "POST "+path+" cut short", r, 400, "the upload could not be read")
	}
	body, ct := multipartBody(t, file(csv))
	r := h.do(a, http.MethodPost, "/v1/imports?dry_run=maybe", body, ct)
	wantError(t, "dry_run=maybe", r, 400, `dry_run: "maybe" is not true or false`)

	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded from bad uploads", n)
	}
}

// TestFailedUploadsKeepNoFiles: an upload that fails leaves nothing under the files store — not the
// file part spooled to Dir/tmp before the failure was seen (the size limit passed mid-file, a
// second file part, bad options after the file, a body cut short), nor a file that cannot be
// imported. Otherwise every refused upload, up to max_upload_bytes each, stays on disk.
func TestFailedUploadsKeepNoFiles(t *testing.T) {
	h := newHarness(t, harnessOpts{MaxUpload: smallLimit})
	a := h.account(-1)
	csv := []byte("Email\na@example.com\n")
	file := func(content []byte) part { return part{Name: "file", FileName: "x.csv", Content: content} }
	opts := func(s string) part { return part{Name: "options", Content: []byte(s)} }
	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		for _, tc := range []struct {
			name   string
			parts  []part
			cut    int // bytes cut off the end of the body
			status int
		}{
			{"over the limit", []part{file(bytes.Repeat([]byte("a@example.com\n"), smallLimit))}, 0, 413},
			{"two file parts", []part{file(csv), file(csv)}, 0, 400},
			{"unexpected part after the file", []part{file(csv), {Name: "data"}}, 0, 400},
			{"bad options after the file", []part{file(csv), opts(`{"bogus": 1}`)}, 0, 400},
			{"cut short", []part{file(csv)}, 10, 400},
			{"binary file", []part{file([]byte("\x00\x01\x02"))}, 0, 422},
			{"unknown owner", []part{file(csv), opts(`{"owner": "nobody"}`)}, 0, 400},
			{"unknown kind", []part{file(csv), {Name: "kind", Content: []byte("bogus")}}, 0, 400},
		} {
			body, ct := multipartBody(t, tc.parts...)
			r := h.do(a, http.MethodPost, path, bytes.NewReader(body.Bytes()[:body.Len()-tc.cut]), ct)
			if r.Status != tc.status {
				t.Errorf("POST %s, %s: %s, want %d", path, tc.name, r, tc.status)
			}
			if files := storedFiles(t, h.files.Store.Dir); len(files) != 0 {
				t.Errorf("POST %s, %s (%d): files left under the files store: %q", path, tc.name, r.Status, files)
				for _, f := range files {
					os.Remove(filepath.Join(h.files.Store.Dir, f))
				}
			}
		}
	}
}

// TestBadQueryParams: query parameters that do not parse answer 400 listing every problem.
func TestBadQueryParams(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, tc := range []struct {
		path string
		want []any
	}{
		{"/v1/imports?limit=abc&status=bogus", []any{
			`limit: "abc" is not a whole number from 1 to 1000`,
			`status: "bogus" is not queued, running, completed, failed, cancelled or undone`}},
		{"/v1/imports?limit=1001", []any{`limit: "1001" is not a whole number from 1 to 1000`}},
		{"/v1/imports?limit=-1", []any{`limit: "-1" is not a whole number from 1 to 1000`}},
		{"/v1/imports?from=yesterday&to=2024-13-01&status=Completed", []any{
			`from: "yesterday" is not a date (2006-01-02) or an RFC 3339 time`,
			`to: "2024-13-01" is not a date (2006-01-02) or an RFC 3339 time`,
			`status: "Completed" is not queued, running, completed, failed, cancelled or undone`}},
		{"/v1/prospects?limit=abc&imported_from=x", []any{
			`imported_from: "x" is not a date (2006-01-02) or an RFC 3339 time`,
			`limit: "abc" is not a whole number from 1 to 1000`}},
		{"/v1/prospects?limit=5000&imported_to=2024-02-30", []any{
			`imported_to: "2024-02-30" is not a date (2006-01-02) or an RFC 3339 time`,
			`limit: "5000" is not a whole number from 1 to 1000`}},
	} {
		e := wantError(t, "GET "+tc.path, a.get(tc.path), http.StatusBadRequest, "invalid query parameters")
		if !reflect.DeepEqual(e.Detail, tc.want) {
			got, _ := json.Marshal(e.Detail)
			t.Errorf("GET %s: detail %s, want %q", tc.path, got, tc.want)
		}
	}
	// Ids that do not parse are problems too, whatever their message.
	for _, path := range []string{"/v1/imports?cursor=abc", "/v1/prospects?cursor=-5", "/v1/prospects?import_id=x"} {
		wantError(t, "GET "+path, a.get(path), http.StatusBadRequest, "invalid query parameters")
	}
}

// kindFiles are, for each kind of record, a file of that kind holding one record (the rows are
// the kind's: a kind registered later adds its file here).
var kindFiles = []struct {
	kind string
	csv  []byte
}{
	{"prospects", []byte("Email\nkind@kind.example\n")},
}

// TestUploadKind: the "kind" part of an upload, before or after the file, reaches imports.kind;
// the answers to an import and a dry run name it, and the history filters on it. An unknown
// kind answers 400 naming the kinds, on every path that takes an upload and on
// GET /v1/imports?kind=; nothing is recorded then.
func TestUploadKind(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, tc := range kindFiles {
		file := part{Name: "file", FileName: tc.kind + ".csv", Content: tc.csv}
		kind := part{Name: "kind", Content: []byte(tc.kind)}
		body, ct := multipartBody(t, kind, file)
		r := h.do(a, http.MethodPost, "/v1/imports", body, ct)
		var queued struct {
			ImportID int64  `json:"import_id"`
			Kind     string `json:"kind"`
		}
		if decode(t, r, &queued); r.Status != http.StatusAccepted || queued.Kind != tc.kind {
			t.Errorf("POST /v1/imports, kind %s: %s, want 202 naming the kind", tc.kind, r)
		}
		if n := h.count("SELECT count(*) FROM imports WHERE id = $1 AND kind = $2", queued.ImportID, tc.kind); n != 1 {
			t.Errorf("import %d is not recorded of kind %s", queued.ImportID, tc.kind)
		}
		if got, _ := a.history("kind=" + tc.kind); !reflect.DeepEqual(got, []int64{queued.ImportID}) {
			t.Errorf("imports?kind=%s: %v, want [%d]", tc.kind, got, queued.ImportID)
		}

		body, ct = multipartBody(t, file, kind)
		r = h.do(a, http.MethodPost, "/v1/imports?dry_run=true", body, ct)
		var dry struct {
			Summary struct {
				Kind string `json:"kind"`
				Rows int    `json:"rows"`
			} `json:"summary"`
		}
		if decode(t, r, &dry); r.Status != http.StatusOK || dry.Summary.Kind != tc.kind || dry.Summary.Rows != 1 {
			t.Errorf("dry run, kind %s: %s, want its summary naming the kind", tc.kind, r)
		}
		body, ct = multipartBody(t, file, kind)
		r = h.do(a, http.MethodPost, "/v1/previews", body, ct)
		var preview struct {
			TotalRows int `json:"total_rows"`
		}
		if decode(t, r, &preview); r.Status != http.StatusOK || preview.TotalRows != 1 {
			t.Errorf("preview, kind %s: %s, want its one row", tc.kind, r)
		}
	}

	b := h.account(-1)
	kinds := strings.Join(importer.Kinds(), ", ")
	file := part{Name: "file", FileName: "x.csv", Content: kindFiles[0].csv}
	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		for _, kind := range []string{"bogus", "prospects\x00", "\xff"} {
			body, ct := multipartBody(t, file, part{Name: "kind", Content: []byte(kind)})
			what := fmt.Sprintf("POST %s, kind %q", path, kind)
			e := wantError(t, what, h.do(b, http.MethodPost, path, body, ct), http.StatusBadRequest, "invalid import options")
			if s, _ := e.Detail.(string); !strings.Contains(s, "unknown kind") || !strings.Contains(s, kinds) {
				t.Errorf("%s: detail %#v, want it to name the kinds (%s)", what, e.Detail, kinds)
			}
		}
		body, ct := multipartBody(t, part{Name: "kind", Content: bytes.Repeat([]byte("k"), 201)}, file)
		wantError(t, "POST "+path+", a long kind", h.do(b, http.MethodPost, path, body, ct), http.StatusBadRequest, `the "kind" part is longer than 200 bytes; send one of: `+kinds)
	}
	e := wantError(t, "GET /v1/imports?kind=bogus", b.get("/v1/imports?kind=bogus"), http.StatusBadRequest, "invalid query parameters")
	if want := []any{`kind: unknown kind "bogus" (want ` + kinds + `)`}; !reflect.DeepEqual(e.Detail, want) {
		t.Errorf("GET /v1/imports?kind=bogus: detail %#v, want %q", e.Detail, want)
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", b.acct.ID); n != 0 {
		t.Errorf("%d imports recorded of unknown kinds", n)
	}
}

// TestBadIDParamMessages: a bad cursor or import_id is told what it should be. params.int is
// called with max 0 for them (no upper bound) but its message always prints the bound: it
// tells the client the only valid cursor is 0.
func TestBadIDParamMessages(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, path := range []string{"/v1/imports?cursor=abc", "/v1/prospects?cursor=abc", "/v1/prospects?import_id=x"} {
		e := wantError(t, "GET "+path, a.get(path), http.StatusBadRequest, "invalid query parameters")
		got, _ := json.Marshal(e.Detail)
		if strings.Contains(string(got), "from 0 to 0") {
			t.Errorf("GET %s: detail %s says the only valid value is 0", path, got)
		}
	}
}

// TestFileNameSafety uploads a file whose name is a path with quotes and a CR LF: the import
// shows only its last element, cleaned; the original downloads with a Content-Disposition that
// parses back to that name; the file lives under the files store by account and import id.
func TestFileNameSafety(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	csv := []byte("Email\na@example.com\n")
	for _, tc := range []struct {
		disposition, want string
	}{
		// RFC 2231 encoding carries what a quoted string cannot: CR, LF.
		{`form-data; name="file"; filename*=UTF-8''..%2F..%2Fetc%2F%22evil%22%0D%0Aname.csv`, "evilname.csv"},
		{`form-data; name="file"; filename="..\\..\\windows\\\"evil\".csv"`, "evil.csv"},
		{`form-data; name="file"; filename="/etc/passwd"`, "passwd"},
		{`form-data; name="file"; filename=".."`, "upload"},
		{`form-data; name="file"`, "upload"},
		{`form-data; name="file"; filename*=UTF-8''%C3%9Cbersicht%20%E2%98%83%09.csv`, "Übersicht ☃.csv"},
		{`form-data; name="file"; filename="  a;b=c, d.csv  "`, "a;b=c, d.csv"},
	} {
		body, ct := multipartBody(t, part{Disposition: tc.disposition, Content: csv})
		r := h.do(a, http.MethodPost, "/v1/imports", body, ct)
		if r.Status != http.StatusAccepted {
			t.Errorf("%s: %s", tc.disposition, r)
			continue
		}
		var out struct {
			ImportID int64 `json:"import_id"`
		}
		decode(t, r, &out)
		var v importView
		a.getJSON(fmt.Sprintf("/v1/imports/%d", out.ImportID), &v)
		if v.FileName != tc.want {
			t.Errorf("%s: file_name %q, want %q", tc.disposition, v.FileName, tc.want)
		}
		r = a.get(fmt.Sprintf("/v1/imports/%d/file", out.ImportID))
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, csv) {
			t.Errorf("%s: GET file: %s", tc.disposition, r)
		}
		cd := r.Header.Get("Content-Disposition")
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" || params["filename"] != tc.want {
			t.Errorf("%s: Content-Disposition %q parses to %q %q (%v), want attachment with filename %q",
				tc.disposition, cd, disp, params, err, tc.want)
		}
		if strings.ContainsAny(cd, "\r\n") {
			t.Errorf("Content-Disposition %q holds a line break", cd)
		}
		// Stored under Dir/<account id>/<import id>, nowhere else.
		want := filepath.Join(strconv.FormatInt(a.acct.ID, 10), strconv.FormatInt(out.ImportID, 10))
		var path string
		if err := h.pool.QueryRow(h.ctx, "SELECT file_path FROM imports WHERE id = $1", out.ImportID).Scan(&path); err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(h.files.Store.Dir, want) {
			t.Errorf("stored at %q, want %q", path, filepath.Join(h.files.Store.Dir, want))
		}
		if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, csv) {
			t.Errorf("stored file %s: %q, %v", path, b, err)
		}
	}
	// Every stored file is named by its ids; none by the client's names.
	for _, f := range storedFiles(t, h.files.Store.Dir) {
		parts := strings.Split(f, "/")
		if len(parts) != 2 || parts[0] != strconv.FormatInt(a.acct.ID, 10) {
			t.Errorf("stored file %q, want <account id>/<import id>", f)
			continue
		}
		if _, err := strconv.ParseInt(parts[1], 10, 64); err != nil {
			t.Errorf("stored file %q is not named by an import id", f)
		}
	}
}
