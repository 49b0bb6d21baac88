package requests_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/intake/requests"
)

// lineCounter passes a log on to out, counting the lines that hold phrase.
type lineCounter struct {
	out    io.Writer
	phrase string
	mu     sync.Mutex
	n      int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += bytes.Count(p, []byte(c.phrase))
	c.mu.Unlock()
	return c.out.Write(p)
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestUnwritableFilesStoreIsWaitedOutNotDeadLettered(t *testing.T) {
	e := setup(t)
	e.cfg.KafkaRequestMaxAttempts = 1 // the files store's trouble is not bounded by it
	retries := &lineCounter{out: t.Output(), phrase: "queue import request failed; retrying"}
	e.log = slog.New(slog.NewTextHandler(retries, nil))
	// files_dir is a regular file: every write into the store fails (ENOTDIR), as root too.
	if err := os.WriteFile(e.cfg.FilesDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.produce(kafka.Message{Value: e.request(e.writeFile("leads.csv", leadsCSV), nil)})
	e.start()

	e.eventually("retries against the unwritable files store", func() bool { return retries.count() >= 3 })
	if n := len(e.imports()); n != 0 || e.committed() != -1 {
		t.Fatalf("with the files store unwritable: %d imports, committed offset %d", n, e.committed())
	}
	if err := os.Remove(e.cfg.FilesDir); err != nil { // the operator fixes files_dir
		t.Fatal(err)
	}
	imps := e.waitImports(1)
	e.waitCommitted(1)
	if !e.files.Owns(imps[0].FilePath) {
		t.Errorf("import %d reads %s, outside the files store", imps[0].ID, imps[0].FilePath)
	}

	// Nothing was dead-lettered: the first dead letter is a malformed request sent now.
	e.produce(kafka.Message{Value: []byte("not JSON")})
	if dl := e.deadLetters(1)[0]; string(dl.Value) != "not JSON" || header(dl, requests.HeaderOffset) != "1" {
		t.Errorf("first dead letter %q at offset %s", dl.Value, header(dl, requests.HeaderOffset))
	}
}
