package pipeline_test

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: workers claim any queued import of
// their database.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_pipeline")
	os.Exit(m.Run())
}
