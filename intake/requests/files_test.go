package requests

import "testing"

func TestFileNamesAndURLs(t *testing.T) {
	for _, c := range []struct {
		file  string
		isURL bool
		name  string
	}{
		{"leads.csv", false, "leads.csv"},
		{"may/leads.csv", false, "leads.csv"},
		{"/srv/inbox/may/leads.csv", false, "leads.csv"},
		{"odd://host/name.csv", true, "name.csv"},
		{"dir/odd://name.csv", false, "name.csv"},
		{"https://files.example/exports/May%20leads.csv?sig=x", true, "May leads.csv"},
		{"https://files.example/", true, "upload"},
		{"HTTP://files.example/a.csv", true, "a.csv"},
		{"1http://x/a.csv", false, "a.csv"},
	} {
		if got := isURL(c.file); got != c.isURL {
			t.Errorf("isURL(%q) = %v", c.file, got)
		}
		if got := displayName(c.file); got != c.name {
			t.Errorf("displayName(%q) = %q, want %q", c.file, got, c.name)
		}
	}
}
