// Package deploy_test checks what deploy/ and dashboards/ hold against the real tools: the
// dashboards' PromQL against a real Prometheus scraping a real daemon, the alert rules with
// promtool, and the manifests' syntax.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own: the daemon they start claims any queued
// import of its database.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_deploy")
	os.Exit(m.Run())
}

// tool returns the path of a program the test needs. When it is missing the test is skipped,
// unless CI is set: there it fails, naming what installs it.
func tool(t *testing.T, name, installedBy string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v (%s installs it)", name, err, installedBy)
		}
		t.Skipf("%s not found (%s installs it)", name, installedBy)
	}
	return path
}

// repoPath returns a path inside the repository, from its root (tests run in deploy/).
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{".."}, elem...)...)
}
