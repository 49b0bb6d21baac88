package kafkasink_test

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: the relay delivers every import of its
// database, and these tests read back what it delivered.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_outcomes")
	os.Exit(m.Run())
}
