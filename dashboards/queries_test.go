package dashboards_test

import (
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/dashboards"
)

// TestQueriesFollowTheConventions checks what docs/analytics.md promises of every query: a
// title, its parameters documented and used, and de-duplicated reads. (The queries run against
// a real ClickHouse in sinks/clickhouse.)
func TestQueriesFollowTheConventions(t *testing.T) {
	qs := dashboards.Queries()
	if len(qs) < 5 {
		t.Fatalf("%d queries, want at least 5", len(qs))
	}
	for _, q := range qs {
		var code, comment strings.Builder
		for _, line := range strings.Split(q.SQL, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--") {
				comment.WriteString(line + "\n")
			} else {
				code.WriteString(line + "\n")
			}
		}
		switch {
		case q.Title == "" || !strings.HasPrefix(q.SQL, "-- "):
			t.Errorf("%s.sql: no title: start it with a comment saying what it answers", q.Name)
		case !strings.Contains(comment.String(), "Parameters:"):
			t.Errorf("%s.sql: its leading comment does not list its parameters", q.Name)
		case !strings.Contains(code.String(), "@account") || !strings.Contains(code.String(), "@since"):
			t.Errorf("%s.sql: does not filter by @account and @since", q.Name)
		case !strings.Contains(code.String(), " FINAL"):
			t.Errorf("%s.sql: reads without FINAL, so a replayed delivery would count twice", q.Name)
		}
		if got, ok := dashboards.Lookup(q.Name); !ok || got.SQL != q.SQL {
			t.Errorf("Lookup(%q) does not find it", q.Name)
		}
	}
	if _, ok := dashboards.Lookup("no_such_query"); ok {
		t.Error("Lookup found a query that does not exist")
	}
}
