package api_test

import (
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	"github.com/leadpipe/leadpipe/store"
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

// TestUploadStorageFailure: an upload the server cannot store (a full files_dir) is the
// server's fault: 500, logged as an error, and the answer names no server path. A full disk
// is provoked with the process's file size limit (RLIMIT_FSIZE, which needs no privilege):
// writing the spooled upload past 64 KiB fails as writing to a full files_dir does.
func TestUploadStorageFailure(t *testing.T) {
	log := &syncbuf.Buffer{}
	h := newHarness(t, harnessOpts{Log: log})
	a := h.account(-1)
	var csv strings.Builder
	csv.WriteString("Email,Notes\n")
	for i := 0; csv.Len() < 256<<10; i++ {
		fmt.Fprintf(&csv, "p%d@full.example,%s\n", i, strings.Repeat("n", 100))
	}

	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	small := limit
	small.Cur = 64 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
			t.Fatal(err)
		}
	}
	defer restore() // also when an upload fails the test
	var answers []response
	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		answers = append(answers, a.upload(path, "full.csv", []byte(csv.String()), ""))
	}
	restore()

	for i, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		r := answers[i]
		wantError(t, "POST "+path+" with files_dir full", r, http.StatusInternalServerError, "internal error")
		if strings.Contains(string(r.Body), h.files.Store.Dir) || strings.Contains(string(r.Body), "upload-") {
			t.Errorf("POST %s: the answer %s shows a server path", path, r.Body)
		}
	}
	if n := strings.Count(log.String(), "level=ERROR"); n != 3 || !strings.Contains(log.String(), "file too large") {
		t.Errorf("%d errors logged, want 3 saying why the upload could not be stored; log:\n%s", n, log.String())
	}
	if files := storedFiles(t, h.files.Store.Dir); len(files) != 0 {
		t.Errorf("files left under the files store: %q", files)
	}
}

// TestInvalidText: a query parameter or an option that is not UTF-8 text without NUL answers
// 400 naming it, not 500: Postgres refuses such text, and it is the request's fault.
func TestInvalidText(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	for _, tc := range []struct{ path, want string }{
		{"/v1/imports?kind=%00", `kind: "\x00" is not UTF-8 text without NUL`},
		{"/v1/imports?kind=%ff", `kind: "\xff" is not UTF-8 text without NUL`},
		{"/v1/prospects?import_file=a%00b", `import_file: "a\x00b" is not UTF-8 text without NUL`},
		{"/v1/prospects?import_file=%ff%fe", `import_file: "\xff\xfe" is not UTF-8 text without NUL`},
	} {
		e := wantError(t, "GET "+tc.path, a.get(tc.path), http.StatusBadRequest, "invalid query parameters")
		if !reflect.DeepEqual(e.Detail, []any{tc.want}) {
			t.Errorf("GET %s: detail %#v, want [%q]", tc.path, e.Detail, tc.want)
		}
	}

	csv := []byte("Email\nnul@text.example\n")
	for _, path := range []string{"/v1/imports", "/v1/imports?dry_run=true", "/v1/previews"} {
		for _, option := range []string{"list", "campaign", "lead_source", "sheet"} {
			r := a.upload(path, "nul.csv", csv, fmt.Sprintf(`{%q: "a\u0000b"}`, option))
			e := wantError(t, fmt.Sprintf("POST %s, NUL in %s", path, option), r, http.StatusBadRequest, "invalid import options")
			if s, _ := e.Detail.(string); !strings.Contains(s, option+`: "a\x00b" contains a NUL character`) {
				t.Errorf("POST %s, NUL in %s: detail %q does not name the option", path, option, s)
			}
		}
		r := a.upload(path, "nul.csv", csv, `{"tags": ["ok", "\u0000"]}`)
		wantError(t, "POST "+path+", NUL in a tag", r, http.StatusBadRequest, "invalid import options")
	}
	if n := h.count("SELECT count(*) FROM imports WHERE account_id = $1", a.acct.ID); n != 0 {
		t.Errorf("%d imports recorded", n)
	}
}

// TestFileNameFormatCharacters: a right-to-left override (and the other format characters and
// line separators) in a file name is removed wherever the name is shown — in the import as the
// API shows it and in the download's Content-Disposition — whichever source named the file:
// an upload, or a watched directory or Kafka request whose name is recorded as it is.
func TestFileNameFormatCharacters(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	csv := []byte("Email\nrlo@names.example\n")
	const want = "invoicexslx.csv" // with the override kept, "invoice\u202Exslx.csv" shows as "invoicevsc.xlsx"
	check := func(what string, id int64) {
		t.Helper()
		var v importView
		a.getJSON(fmt.Sprintf("/v1/imports/%d", id), &v)
		if v.FileName != want {
			t.Errorf("%s: file_name %q, want %q", what, v.FileName, want)
		}
		cd := a.get(fmt.Sprintf("/v1/imports/%d/file", id)).Header.Get("Content-Disposition")
		if _, params, err := mime.ParseMediaType(cd); err != nil || params["filename"] != want {
			t.Errorf("%s: Content-Disposition %q, want the file name %q", what, cd, want)
		}
	}

	body, ct := multipartBody(t, part{Disposition: `form-data; name="file"; filename*=UTF-8''invoice%E2%80%AExslx.csv%E2%80%8B%E2%80%A8`, Content: csv})
	r := h.do(a, http.MethodPost, "/v1/imports", body, ct)
	if r.Status != http.StatusAccepted {
		t.Fatalf("upload: %s", r)
	}
	var up struct {
		ImportID int64 `json:"import_id"`
	}
	decode(t, r, &up)
	check("upload", up.ImportID)

	path := filepath.Join(t.TempDir(), "watched.csv")
	if err := os.WriteFile(path, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	imp, _, err := h.im.Submit(h.ctx, importer.Request{Account: a.acct.Name, Path: path,
		FileName: "invoice\u202Exslx.csv\u2066", Source: store.SourceWatch})
	if err != nil {
		t.Fatal(err)
	}
	check("watched file", imp.ID)
}

// TestImportErrorShowsNoServerPath: an import that fails because its stored file is gone says
// so naming the file as the client uploaded it, not where files_dir keeps it.
func TestImportErrorShowsNoServerPath(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(-1)
	id := a.submit("gone.csv", []byte("Email\ngone@paths.example\n"), "")
	for _, f := range storedFiles(t, h.files.Store.Dir) {
		if err := os.Remove(filepath.Join(h.files.Store.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	h.startWorkers()
	v := a.waitFinished(id, "failed")
	if strings.Contains(v.Error, h.files.Store.Dir) || !strings.Contains(v.Error, "gone.csv") {
		t.Errorf("error %q, want it to name gone.csv and no server path", v.Error)
	}
}
