// Package dashboards holds what users look at: the ClickHouse analytics queries (*.sql; run
// one with `leadpipe analytics NAME`) and the Grafana dashboards. The queries are built into
// the binary.
//
// Each query starts with a comment: a title line saying what it answers, then more about it,
// then its parameters. Every query takes @account (an account's name, or empty for every
// account) and @since (a time); see docs/analytics.md.
package dashboards

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.sql
var sqlFiles embed.FS

// Query is one analytics query.
type Query struct {
	// Name is the file's name without .sql.
	Name string
	// Title is the first line of its leading comment: what it answers.
	Title string
	SQL   string
}

// Queries returns every analytics query, sorted by name.
func Queries() []Query {
	names, err := fs.Glob(sqlFiles, "*.sql")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	sort.Strings(names)
	qs := make([]Query, 0, len(names))
	for _, n := range names {
		b, err := sqlFiles.ReadFile(n)
		if err != nil {
			panic(err) // embedded files are readable
		}
		sql := string(b)
		first, _, _ := strings.Cut(sql, "\n")
		qs = append(qs, Query{
			Name:  strings.TrimSuffix(n, ".sql"),
			Title: strings.TrimSpace(strings.TrimPrefix(first, "--")),
			SQL:   sql,
		})
	}
	return qs
}

// Lookup returns the query named name.
func Lookup(name string) (Query, bool) {
	for _, q := range Queries() {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}
