package storetest_test

import (
	"net/url"
	"testing"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestURLIsNotTheDaemons: without a database named in the environment, tests use
// leadpipe_test beside the database `make run`'s daemon works on, never that one, whose workers
// would claim the imports tests leave queued.
func TestURLIsNotTheDaemons(t *testing.T) {
	t.Setenv("LEADPIPE_TEST_POSTGRES_URL", "")
	t.Setenv("LEADPIPE_POSTGRES_URL", "")
	storetest.Pool(t) // skips without Postgres, unless CI is set
	got, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	daemon, err := url.Parse(config.Default.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != "/leadpipe_test" || got.Host != daemon.Host {
		t.Errorf("tests use %s, want leadpipe_test on %s (the daemon's is %s)", got.Redacted(), daemon.Host, daemon.Path)
	}
}
