package requests_test

import (
	"context"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/store"
)

// TestRequestWithSavedMapping: a request whose options name a saved mapping imports with the
// saved options under its own, and its import records them resolved; a request naming none
// of the account's saved mappings is dead-lettered as bad options, naming those there are.
func TestRequestWithSavedMapping(t *testing.T) {
	e := setup(t)
	if _, err := e.importer().SaveMapping(context.Background(), importer.MappingToSave{Account: e.acct.Name, Name: "Fair",
		Columns: []string{"Mail", "Firma"}, Options: []byte(`{"mapping": {"Mail": "email", "Firma": "title"}, "list": "Fair", "tags": ["saved"]}`)}); err != nil {
		t.Fatal(err)
	}
	file := e.writeFile("fair.csv", "Mail,Firma\nann@example.com,CEO\n")
	e.produce(
		kafka.Message{Value: e.request(file, map[string]any{"options": map[string]any{"saved_mapping": "Fiar"}})},
		kafka.Message{Value: e.request(file, map[string]any{"options": map[string]any{"saved_mapping": "Fair", "tags": []string{"own"}}})},
	)
	e.start()
	imps := e.waitImports(1)
	e.runWorkers()
	done := e.waitFinished(imps[0].ID)
	if done.Status != store.StatusCompleted || done.Counts.Created != 1 {
		t.Errorf("import ended %q (%s): %+v, want completed with 1 created", done.Status, done.Error, done.Counts)
	}
	if want := `{"list": "Fair", "tags": ["own"], "mapping": {"Mail": "email", "Firma": "title"}, "saved_mapping": "Fair"}`; string(done.Options) != want {
		t.Errorf("options %s\nwant %s", done.Options, want)
	}
	var title string
	if err := e.pool.QueryRow(context.Background(), `SELECT title FROM prospects WHERE account_id = $1 AND email = 'ann@example.com'`,
		e.acct.ID).Scan(&title); err != nil || title != "CEO" {
		t.Errorf("title %q, %v; want CEO (Firma mapped by the saved mapping)", title, err)
	}
	dl := e.deadLetters(1)[0]
	if reason, detail := header(dl, requests.HeaderReason), header(dl, requests.HeaderDetail); reason != requests.ReasonBadOptions ||
		!strings.Contains(detail, `saved_mapping: no saved mapping "Fiar" for prospects; saved: Fair`) {
		t.Errorf("dead letter: reason %q, detail %q; want bad_options naming the saved mappings", reason, detail)
	}
}
