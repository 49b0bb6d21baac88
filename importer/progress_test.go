package importer_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// progressRecorder keeps what an importer's Progress hook is told.
type progressRecorder struct {
	mu  sync.Mutex
	got []importer.Progress
}

func (r *progressRecorder) hook(p importer.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, p)
}

// take returns what was told since the last take.
func (r *progressRecorder) take() []importer.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// tenEmails is a CSV file of 176 bytes: a 6-byte header and ten rows of 17 bytes each.
func tenEmails() string {
	var b strings.Builder
	b.WriteString("Email\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "p%02d@acme.example\n", i)
	}
	return b.String()
}

func TestProgressOfARunImportAndUndo(t *testing.T) {
	e := newEnv(t, -1)
	path := writeFile(t, "ten.csv", tenEmails())
	var rec progressRecorder
	im := e.importer(3)
	im.Progress = rec.hook
	// at is what a run of import id is told (0: a dry run's), after each batch: done, total.
	at := func(id int64, undo bool, doneTotal ...int) []importer.Progress {
		var want []importer.Progress
		for i := 0; i < len(doneTotal); i += 2 {
			want = append(want, importer.Progress{ImportID: id, Kind: "prospects", Undo: undo, DryRun: id == 0, Done: doneTotal[i], Total: doneTotal[i+1]})
		}
		return want
	}

	// Without max_rows the rows are not counted: the total is estimated from the bytes read,
	// 3 rows of 57 bytes read of 176 making 9, until the end.
	sum, err := im.RunNow(e.ctx, e.request(path, crm.Options{}), testOwner, false)
	if err != nil || sum.Status != store.StatusCompleted {
		t.Fatalf("import: %v %+v", err, sum)
	}
	if got, want := rec.take(), at(sum.ImportID, false, 0, 0, 3, 9, 6, 9, 9, 9, 10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("an uncounted import told\n%+v, want\n%+v", got, want)
	}

	// With max_rows the rows are counted before the import starts.
	im.Config.MaxRows = 100
	sum, err = im.RunNow(e.ctx, e.request(path, crm.Options{}), testOwner, false)
	if err != nil || sum.Status != store.StatusCompleted {
		t.Fatalf("import: %v %+v", err, sum)
	}
	if got, want := rec.take(), at(sum.ImportID, false, 0, 10, 3, 10, 6, 10, 9, 10, 10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("a counted import told\n%+v, want\n%+v", got, want)
	}

	// An undo's dry run reports each row in its summary instead.
	undoReq := importer.UndoRequest{Account: e.acct.Name, ImportID: sum.ImportID, Source: store.SourceCLI}
	if dry, err := im.UndoNow(e.ctx, undoReq, testOwner, true); err != nil || len(dry.Rows) != 10 {
		t.Fatalf("undo's dry run: %v %+v", err, dry)
	}
	if got := rec.take(); got != nil {
		t.Errorf("an undo's dry run told %+v, want nothing", got)
	}

	// An undo counts the rows it takes back.
	undo, err := im.UndoNow(e.ctx, undoReq, testOwner, false)
	if err != nil || undo.Status != store.StatusCompleted {
		t.Fatalf("undo: %v %+v", err, undo)
	}
	if got, want := rec.take(), at(undo.UndoID, true, 0, 10, 3, 10, 6, 10, 9, 10, 10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("an undo told\n%+v, want\n%+v", got, want)
	}

	// An import's dry run, whose import is rolled back with the rest.
	if _, err := im.RunNow(e.ctx, e.request(path, crm.Options{}), testOwner, true); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	var dryID int64
	for i := range got {
		if dryID == 0 {
			dryID = got[i].ImportID
		}
		if got[i].ImportID == 0 || got[i].ImportID != dryID {
			t.Errorf("a dry run told import %d after %d", got[i].ImportID, dryID)
		}
		got[i].ImportID = 0
	}
	if want := at(0, false, 0, 10, 3, 10, 6, 10, 9, 10, 10, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("a dry run told\n%+v, want\n%+v", got, want)
	}
}
