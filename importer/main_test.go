package importer_test

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read/isolate"
)

// TestMain lets this test binary serve as the child process of the tests that parse
// spreadsheets in one.
func TestMain(m *testing.M) {
	isolate.ServeChild()
	os.Exit(m.Run())
}
