package main

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: `leadpipe serve` runs workers that claim
// any queued import of their database.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_cmd")
	os.Exit(m.Run())
}
