package requests_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/store"
)

const leadsCSV = "email,first_name\na@example.com,A\nnot-an-email,B\nc@example.com,C\n"

// checkCompleted waits for an import of leadsCSV to end and checks it completed, having
// created its two good rows' prospects (or found them unchanged, when it comes second).
func (e *env) checkCompleted(imp store.Import, created, unchanged int) {
	e.t.Helper()
	done := e.waitFinished(imp.ID)
	c := done.Counts
	if done.Status != store.StatusCompleted || c.Rows != 3 || c.Created != created || c.Unchanged != unchanged || c.Skipped != 1 {
		e.t.Errorf("import %d ended %q (%s): %+v", imp.ID, done.Status, done.Error, done.Counts)
	}
}

func TestPathRequestQueuesAnImportThatWorkersComplete(t *testing.T) {
	e := setup(t)
	name := e.writeFile("may/leads.csv", leadsCSV)
	// A symbolic link that stays inside the root is followed.
	if err := os.Symlink("may/leads.csv", filepath.Join(e.cfg.FileRoot, "latest.csv")); err != nil {
		t.Fatal(err)
	}
	queued := requestsTotal(t, "queued")
	e.produce(
		kafka.Message{Value: e.request(name, map[string]any{"options": map[string]any{"tags": []string{"kafka"}}})},
		kafka.Message{Value: e.request("latest.csv", map[string]any{"file_name": "Latest leads.csv"})},
	)
	e.start()
	imps := e.waitImports(2)
	e.waitCommitted(2)
	imp := imps[0]
	if imp.Source != store.SourceKafka || imp.Status != store.StatusQueued || imp.FileName != "leads.csv" || imp.RowsTotal != 3 {
		t.Errorf("queued import: source %q status %q file %q rows %d", imp.Source, imp.Status, imp.FileName, imp.RowsTotal)
	}
	if !bytes.Contains(imp.Options, []byte(`"kafka"`)) {
		t.Errorf("import options %s, want the request's", imp.Options)
	}
	if imps[1].FileName != "Latest leads.csv" || imps[1].FileSHA256 != imp.FileSHA256 {
		t.Errorf("import through the link: %q, sha256 %s, want %s", imps[1].FileName, imps[1].FileSHA256, imp.FileSHA256)
	}
	for _, imp := range imps {
		if !e.files.Owns(imp.FilePath) {
			t.Errorf("import %d reads %s, not a copy in the files store %s", imp.ID, imp.FilePath, e.cfg.FilesDir)
		}
	}
	if got := requestsTotal(t, "queued") - queued; got != 2 {
		t.Errorf("leadpipe_requests_total{result=queued} moved by %v, want 2", got)
	}
	// The producer may remove its file once the offset is committed: the imports have their copies.
	if err := os.Remove(filepath.Join(e.cfg.FileRoot, name)); err != nil {
		t.Fatal(err)
	}
	e.runWorkers() // one worker: in order
	e.checkCompleted(imps[0], 2, 0)
	e.checkCompleted(imps[1], 0, 2)
}

// kindFiles are, for each kind of record, a file of that kind whose import completes (the rows
// are the kind's: a kind registered later adds its file here).
var kindFiles = []struct{ kind, csv string }{
	{"prospects", leadsCSV},
}

// TestRequestKindReachesTheImport: a request's "kind" is the kind its import is recorded and
// run as; a request without one is of the default kind, prospects.
func TestRequestKindReachesTheImport(t *testing.T) {
	e := setup(t)
	var msgs []kafka.Message
	for _, tc := range kindFiles {
		msgs = append(msgs, kafka.Message{Value: e.request(e.writeFile(tc.kind+".csv", tc.csv), map[string]any{"kind": tc.kind})})
	}
	msgs = append(msgs, kafka.Message{Value: e.request(e.writeFile("default.csv", leadsCSV), nil)})
	e.produce(msgs...)
	e.start()
	imps := e.waitImports(len(msgs))
	e.runWorkers()
	for i, imp := range imps {
		want, file := "prospects", "default.csv"
		if i < len(kindFiles) {
			want, file = kindFiles[i].kind, kindFiles[i].kind+".csv"
		}
		done := e.waitFinished(imp.ID)
		if imp.FileName != file || imp.Kind != want || done.Status != store.StatusCompleted {
			t.Errorf("import of %s: kind %q, ended %q (%s); want kind %q, completed", imp.FileName, imp.Kind, done.Status, done.Error, want)
		}
	}
}

func TestURLRequestIsFetchedFromAnAllowedHost(t *testing.T) {
	e := setup(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/exports/may.csv" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, leadsCSV)
	}))
	defer srv.Close()
	e.cfg.URLAllowList = "example.org, 127.0.0.1"
	e.produce(
		kafka.Message{Value: e.request(srv.URL+"/exports/may.csv", nil)},
		kafka.Message{Value: e.request(srv.URL+"/exports/may.csv?part=2", map[string]any{"file_name": "May leads.csv"})},
	)
	e.start()
	imps := e.waitImports(2)
	e.waitCommitted(2)
	if imps[0].FileName != "may.csv" || imps[1].FileName != "May leads.csv" {
		t.Errorf("file names %q, %q", imps[0].FileName, imps[1].FileName)
	}
	for _, imp := range imps {
		if !e.files.Owns(imp.FilePath) {
			t.Errorf("import %d reads %s, outside the files store", imp.ID, imp.FilePath)
		}
	}
	e.runWorkers() // one worker: in order
	e.checkCompleted(imps[0], 2, 0)
	e.checkCompleted(imps[1], 0, 2)
}

// malformed is a request that must be dead-lettered, for reason, with a detail containing detail.
type malformed struct {
	name, value, reason, detail string
}

func TestMalformedRequestsAreDeadLetteredWithoutBlockingThePartition(t *testing.T) {
	e := setup(t)
	e.cfg.MaxFetchBytes = 64
	e.cfg.FetchTimeout = config.Duration(300 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 100))
		case "/big-chunked":
			for range 10 {
				fmt.Fprint(w, strings.Repeat("x", 10))
				w.(http.Flusher).Flush()
			}
		case "/redirect":
			http.Redirect(w, r, strings.Replace("http://"+r.Host, "127.0.0.1", "localhost", 1)+"/big", http.StatusFound)
		case "/slow":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	e.cfg.URLAllowList = "127.0.0.1"

	outside := filepath.Join(filepath.Dir(e.cfg.FileRoot), "outside.csv")
	if err := os.WriteFile(outside, []byte(leadsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(e.cfg.FileRoot, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.cfg.FileRoot, "adir"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(e.cfg.FileRoot, "pipe.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := e.writeFile("good.csv", leadsCSV)
	binary := e.writeFile("binary.csv", strings.Repeat("\x00\x01\x02", 100))
	req := func(file string, extra map[string]any) string { return string(e.request(file, extra)) }
	cases := []malformed{
		{"not JSON", `{"version": 1, "account": `, requests.ReasonBadMessage, "not a JSON object"},
		{"no version", fmt.Sprintf(`{"account": %q, "file": "good.csv"}`, e.acct.Name), requests.ReasonBadMessage, `no "version"`},
		{"version as a string", fmt.Sprintf(`{"version": "1", "account": %q, "file": "good.csv"}`, e.acct.Name), requests.ReasonBadMessage, `"version" is "1"`},
		{"version 2", fmt.Sprintf(`{"version": 2, "account": %q, "file": "good.csv", "new": 1}`, e.acct.Name), requests.ReasonBadVersion, "version 2"},
		{"unknown field", req(good, map[string]any{"priority": "high"}), requests.ReasonBadMessage, `unknown field "priority"`},
		{"no file", `{"version": 1, "account": "x"}`, requests.ReasonBadMessage, `"file" missing`},
		{"unknown account", `{"version": 1, "account": "no such account", "file": "good.csv"}`, requests.ReasonUnknownAccount, `"no such account"`},
		{"unknown kind", req(good, map[string]any{"kind": "bogus"}), requests.ReasonUnknownKind,
			`unknown kind "bogus" (want ` + strings.Join(importer.Kinds(), ", ") + `)`},
		{"kind not a string", req(good, map[string]any{"kind": 7}), requests.ReasonBadMessage, "Message.kind of type string"},
		{"missing file", req("nope.csv", nil), requests.ReasonMissingFile, "no file nope.csv"},
		{"dot-dot", req("../outside.csv", nil), requests.ReasonForbiddenFile, "leads out of file_root"},
		{"absolute outside", req(outside, nil), requests.ReasonForbiddenFile, "not under file_root"},
		{"symlink outside", req("link.csv", nil), requests.ReasonForbiddenFile, "escapes"},
		{"directory", req("adir", nil), requests.ReasonForbiddenFile, "a directory"},
		{"fifo", req("pipe.csv", nil), requests.ReasonForbiddenFile, "a FIFO"},
		{"options do not decode", req(good, map[string]any{"options": map[string]any{"colour": "red"}}), requests.ReasonBadOptions, `unknown field "colour"`},
		{"options do not fit the account", req(good, map[string]any{"options": map[string]any{"owner": "nobody"}}), requests.ReasonBadOptions, `no user "nobody"`},
		{"options over the caps", req(good, map[string]any{"options": map[string]any{"tags": strings.Split(strings.Repeat("t,", 20)+"t", ",")}}), requests.ReasonBadOptions, "tags: 21 tags, more than the limit of 20"},
		{"mapping names a missing column", req(good, map[string]any{"options": map[string]any{"mapping": map[string]string{"E-mail": "email"}}}), requests.ReasonBadFile, `no column "E-mail"`},
		{"binary file", req(binary, nil), requests.ReasonBadFile, "binary"},
		{"host not allowed", req("https://example.com/leads.csv", nil), requests.ReasonForbiddenFile, "not on url_allow_list"},
		{"not http", req("ftp://127.0.0.1/leads.csv", nil), requests.ReasonForbiddenFile, "only http and https"},
		{"404", req(srv.URL+"/gone.csv", nil), requests.ReasonFetchFailed, "404"},
		{"too large", req(srv.URL+"/big", nil), requests.ReasonTooLarge, "max_fetch_bytes"},
		{"too large, chunked", req(srv.URL+"/big-chunked", nil), requests.ReasonTooLarge, "max_fetch_bytes"},
		{"redirect elsewhere", req(srv.URL+"/redirect", nil), requests.ReasonForbiddenFile, `host "localhost"`},
		{"slow", req(srv.URL+"/slow", nil), requests.ReasonFetchFailed, "fetch_timeout"},
	}
	if os.Geteuid() != 0 { // root reads any file
		unreadable := e.writeFile("unreadable.csv", leadsCSV)
		if err := os.Chmod(filepath.Join(e.cfg.FileRoot, unreadable), 0); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, malformed{"unreadable", req(unreadable, nil), requests.ReasonUnreadableFile, "permission denied"})
	}
	var msgs []kafka.Message
	for i, c := range cases {
		msgs = append(msgs, kafka.Message{Key: []byte("key-" + strconv.Itoa(i)), Value: []byte(c.value),
			Headers: []kafka.Header{{Key: "trace", Value: []byte(c.name)}}})
	}
	// The last request is good, and names its file by an absolute path under the root.
	msgs = append(msgs, kafka.Message{Value: e.request(filepath.Join(e.cfg.FileRoot, good), nil)})
	deadLetters := requestsTotal(t, "dead_letter")
	e.produce(msgs...)
	e.start()

	for i, m := range e.deadLetters(len(cases)) {
		c := cases[i]
		if string(m.Key) != string(msgs[i].Key) || string(m.Value) != c.value || header(m, "trace") != c.name {
			t.Errorf("dead letter %d is not %s as it was sent: key %q value %q headers %v", i, c.name, m.Key, m.Value, m.Headers)
			continue
		}
		if got := header(m, requests.HeaderReason); got != c.reason {
			t.Errorf("%s: reason %q, want %q (%s)", c.name, got, c.reason, header(m, requests.HeaderDetail))
		}
		if got := header(m, requests.HeaderDetail); !strings.Contains(got, c.detail) {
			t.Errorf("%s: detail %q does not say %q", c.name, got, c.detail)
		}
		if header(m, requests.HeaderTopic) != e.cfg.KafkaRequestsTopic || header(m, requests.HeaderPartition) != "0" ||
			header(m, requests.HeaderOffset) != strconv.Itoa(i) {
			t.Errorf("%s: dead letter names its origin %v", c.name, m.Headers)
		}
	}
	imps := e.waitImports(1)
	e.waitCommitted(int64(len(msgs)))
	if len(e.imports()) != 1 || imps[0].FileName != "good.csv" {
		t.Fatalf("imports %+v, want the good request's only", imps)
	}
	if got := requestsTotal(t, "dead_letter") - deadLetters; got != float64(len(cases)) {
		t.Errorf("leadpipe_requests_total{result=dead_letter} moved by %v, want %d", got, len(cases))
	}
	e.eventually("leadpipe_requests_lag 0 once every request is handled", func() bool { return gauge(t, "leadpipe_requests_lag") == 0 })
	// A refused request leaves no file behind in the files store.
	var stored []string
	filepath.WalkDir(e.cfg.FilesDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			stored = append(stored, p)
		}
		return err
	})
	if !slices.Equal(stored, []string{imps[0].FilePath}) {
		t.Errorf("files store holds %v, want only %s", stored, imps[0].FilePath)
	}
}
