package requests_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/store"
)

const leadsCSV = "email,first_name\na@example.com,A\nnot-an-email,B\nc@example.com,C\n"

func TestPathRequestQueuesAnImportThatWorkersComplete(t *testing.T) {
	e := setup(t)
	name := e.writeFile("may/leads.csv", leadsCSV)
	queued := requestsTotal(t, "queued")
	e.produce(kafka.Message{Key: []byte("k1"), Value: e.request(name, map[string]any{"options": map[string]any{"tags": []string{"kafka"}}}),
		Headers: []kafka.Header{{Key: "trace", Value: []byte("abc")}}})
	e.start()
	imp := e.waitImports(1)[0]
	e.waitCommitted(1)
	if imp.Source != store.SourceKafka || imp.Status != store.StatusQueued || imp.FileName != "leads.csv" || imp.RowsTotal != 3 {
		t.Errorf("queued import: source %q status %q file %q rows %d", imp.Source, imp.Status, imp.FileName, imp.RowsTotal)
	}
	if !e.files.Owns(imp.FilePath) {
		t.Errorf("the import reads %s, not a copy in the files store %s", imp.FilePath, e.cfg.FilesDir)
	}
	if got := requestsTotal(t, "queued") - queued; got != 1 {
		t.Errorf("leadpipe_requests_total{result=queued} moved by %v, want 1", got)
	}
	// The producer may remove its file once the offset is committed: the import has its copy.
	if err := os.Remove(e.cfg.FileRoot + "/" + name); err != nil {
		t.Fatal(err)
	}
	e.runWorkers()
	done := e.waitFinished(imp.ID)
	if done.Status != store.StatusCompleted || done.Counts.Rows != 3 || done.Counts.Created != 2 || done.Counts.Skipped != 1 {
		t.Errorf("import ended %q (%s): %+v", done.Status, done.Error, done.Counts)
	}
	if !slices.Equal(done.Header, []string{"email", "first_name"}) {
		t.Errorf("header %v", done.Header)
	}
	_ = context.Background
}
