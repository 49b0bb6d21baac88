package main

import (
	"os"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// asCLIVar, set in its environment, makes this test binary run as `leadpipe` (see TestMain).
const asCLIVar = "LEADPIPE_TEST_AS_CLI"

// TestMain gives these tests a database of their own: `leadpipe serve` runs workers that claim
// any queued import of their database. Each `leadpipe serve` gets an embedded Kafka broker of
// its own, on a free port and in memory, unless a test says otherwise.
//
// Spreadsheets are parsed in child processes, which are this test binary serving as one.
//
// With asCLIVar set, this test binary is the leadpipe command itself (its main, signal
// handling included), for tests that run it as a process of its own (startCLI, serveProcess).
func TestMain(m *testing.M) {
	isolate.ServeChild()
	if os.Getenv(asCLIVar) != "" {
		main()
		os.Exit(0)
	}
	storetest.UseOwnDatabase("leadpipe_test_cmd")
	os.Setenv("LEADPIPE_KAFKA_BROKERS", "")
	os.Setenv("LEADPIPE_KAFKA_EMBEDDED_ADDR", "127.0.0.1:0")
	os.Setenv("LEADPIPE_KAFKA_DATA_DIR", "")
	os.Exit(m.Run())
}
