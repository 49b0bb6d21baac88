package watch_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// TestOptionsFileSavedMapping: an options file naming a saved mapping imports its file with the
// saved options under its own, and the import records them resolved; one naming no saved
// mapping fails its file, saying which there are.
func TestOptionsFileSavedMapping(t *testing.T) {
	f := newFixture(t)
	if _, err := f.im.SaveMapping(f.ctx, importer.MappingToSave{Account: f.acct.Name, Name: "Fair", Columns: []string{"Mail", "Firma"},
		Options: []byte(`{"mapping": {"Mail": "email", "Firma": "title"}, "list": "Fair", "tags": ["saved"]}`)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := f.watcher(config.WatchDir{Dir: dir, Account: f.acct.Name})
	workers(t, f.pool, f.im, "mappings")
	drop(t, dir, "fair.csv.options.json", `{"saved_mapping": "Fair", "tags": ["own"]}`)
	drop(t, dir, "fair.csv", "Mail,Firma\nann@example.com,CEO\n")
	drop(t, dir, "typo.csv.options.json", `{"saved_mapping": "Fiar"}`)
	drop(t, dir, "typo.csv", "Mail\nbob@example.com\n")
	f.scanUntil(w, "fair.csv is imported and typo.csv failed", func() bool {
		imps := f.imports()
		return len(imps) == 1 && imps[0].Status == store.StatusCompleted && exists(filepath.Join(dir, "failed", "typo.csv.error.txt"))
	})
	imp := f.imports()[0]
	if want := `{"list": "Fair", "tags": ["own"], "mapping": {"Mail": "email", "Firma": "title"}, "saved_mapping": "Fair"}`; string(imp.Options) != want {
		t.Errorf("options %s\nwant %s", imp.Options, want)
	}
	var got string
	if err := f.pool.QueryRow(f.ctx, `SELECT p.email || '/' || p.title || ' ' || string_agg(g.kind || ':' || g.name, ',' ORDER BY g.kind)
		FROM prospects p JOIN grouping_members m ON m.prospect_id = p.id JOIN groupings g ON g.id = m.grouping_id
		WHERE p.account_id = $1 GROUP BY p.id`, f.acct.ID).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "ann@example.com/CEO list:Fair,tag:own" {
		t.Errorf("prospect %q, want ann@example.com/CEO in the saved list and the options file's tag", got)
	}
	if text, want := readFile(t, filepath.Join(dir, "failed", "typo.csv.error.txt")),
		`invalid import options: saved_mapping: no saved mapping "Fiar" for prospects; saved: Fair`; !strings.Contains(text, want) {
		t.Errorf("failed/typo.csv.error.txt does not say %q:\n%s", want, text)
	}
}
