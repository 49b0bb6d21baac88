package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
)

// Datasource plugin types the dashboards use.
const (
	promType       = "prometheus"
	clickhouseType = "grafana-clickhouse-datasource"
)

// dashboard is the part of Grafana's dashboard JSON model these tests read.
type dashboard struct {
	file          string
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string      `json:"refId"`
	Datasource *datasource `json:"datasource"`
	Expr       string      `json:"expr"`
	RawSQL     string      `json:"rawSql"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasource     `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// promQuery is one PromQL expression of a dashboard, ready for Prometheus.
type promQuery struct {
	where string // dashboard, panel and refId, for messages
	expr  string
}

// loadDashboards reads every dashboards/*.json.
func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob(repoPath("dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in dashboards/ (%v)", err)
	}
	var ds []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		d.file = filepath.Base(f)
		ds = append(ds, d)
	}
	return ds
}

// panels returns the dashboard's panels, those inside collapsed rows included.
func (d dashboard) panels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// intervalVars are Grafana's built-in interval variables; the tests give each one minute.
var intervalVars = map[string]bool{"__rate_interval": true, "__interval": true, "interval": true, "__range": true}

// varRef matches $name, ${name} and ${name:format}.
var varRef = regexp.MustCompile(`\$(?:\{(\w+)(?::\w+)?\}|(\w+))`)

// expand replaces Grafana variables in a PromQL expression: intervals by 1m, multi-value
// variables by their "All" value. A variable it cannot replace is an error.
func (d dashboard) expand(expr string) (string, error) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if intervalVars[name] {
			return "1m"
		}
		for _, v := range d.Templating.List {
			if v.Name == name && v.IncludeAll && v.AllValue != "" {
				return v.AllValue
			}
		}
		unknown = append(unknown, ref)
		return ref
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("variables %v have no value to test with (give them an allValue)", unknown)
	}
	return out, nil
}

// labelValues matches the label_values(EXPR, LABEL) of a Grafana variable query.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

// promQueries returns every PromQL expression of the dashboard, its Prometheus variables'
// queries included (label_values(EXPR, LABEL) is tested as EXPR), expanded.
func (d dashboard) promQueries() ([]promQuery, error) {
	var qs []promQuery
	add := func(where, expr string) error {
		e, err := d.expand(expr)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		qs = append(qs, promQuery{where: where, expr: e})
		return nil
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" || v.Datasource == nil || v.Datasource.Type != promType {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			return nil, fmt.Errorf("%s: variable %s: query: %w", d.file, v.Name, err)
		}
		expr := q.Query
		if m := labelValues.FindStringSubmatch(expr); m != nil {
			expr = m[1]
		}
		if err := add(fmt.Sprintf("%s: variable %s", d.file, v.Name), expr); err != nil {
			return nil, err
		}
	}
	for _, p := range d.panels() {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				continue
			}
			if err := add(fmt.Sprintf("%s: panel %q %s", d.file, p.Title, tg.RefID), tg.Expr); err != nil {
				return nil, err
			}
		}
	}
	return qs, nil
}

// TestDashboardsAreWellFormed checks the dashboards' JSON model: unique uids and panel ids,
// a Prometheus datasource variable, and every panel placed, titled and querying a known
// datasource.
func TestDashboardsAreWellFormed(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadDashboards(t) {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: no uid or title", d.file)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q is also %s's", d.file, d.UID, other)
		}
		uids[d.UID] = d.file
		if d.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d, want a current model (36 or later)", d.file, d.SchemaVersion)
		}
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			if v.Type == "datasource" {
				var plugin string
				if err := json.Unmarshal(v.Query, &plugin); err != nil {
					t.Errorf("%s: datasource variable %s: %v", d.file, v.Name, err)
				}
				vars[v.Name] = plugin
			}
		}
		if vars["datasource"] != promType {
			t.Errorf("%s: no datasource variable of type prometheus (templating: %v)", d.file, vars)
		}
		ids := map[int]bool{}
		for _, p := range d.panels() {
			where := fmt.Sprintf("%s: panel %q", d.file, p.Title)
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: id %d missing or not unique", where, p.ID)
			}
			ids[p.ID] = true
			if p.Title == "" || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("%s: no title or no size", where)
			}
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				ds := tg.Datasource
				if ds == nil {
					ds = p.Datasource
				}
				switch {
				case ds == nil:
					t.Errorf("%s %s: no datasource", where, tg.RefID)
				case vars[strings.Trim(ds.UID, "${}")] != ds.Type:
					t.Errorf("%s %s: datasource %+v is not one of the dashboard's datasource variables %v", where, tg.RefID, ds, vars)
				case ds.Type == promType && tg.Expr == "", ds.Type == clickhouseType && tg.RawSQL == "":
					t.Errorf("%s %s: empty query", where, tg.RefID)
				}
			}
		}
		if _, err := d.promQueries(); err != nil {
			t.Error(err)
		}
	}
}

// grafanaMacros are what Grafana's ClickHouse datasource expands in a panel's SQL before it runs
// it, with stand-ins: a time bucket, a time range, the account and kind variables.
var grafanaMacros = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\$__timeInterval\((\w+)\)`), "toStartOfHour($1)"},
	{regexp.MustCompile(`\$__timeFilter\((\w+)\)`), "$1 >= toDateTime('2000-01-01 00:00:00')"},
	{regexp.MustCompile(`\$\{account:singlequote\}`), "'acme'"},
	{regexp.MustCompile(`\$\{kind:singlequote\}`), "'prospects'"},
}

// TestDashboardClickHouseSQLRuns runs the SQL of every ClickHouse panel and variable, its Grafana
// macros expanded, against a real ClickHouse holding the analytics tables leadpipe writes: each
// must be valid for that schema.
func TestDashboardClickHouseSQLRuns(t *testing.T) {
	db := analyticstest.Database(t, "leadpipe_test_dashboards")
	conn := analyticstest.Conn(t, analyticstest.Addr(), db)
	ran := 0
	run := func(where, sql string) {
		t.Helper()
		for _, m := range grafanaMacros {
			sql = m.re.ReplaceAllString(sql, m.with)
		}
		if strings.Contains(sql, "$") {
			t.Errorf("%s: a Grafana macro this test does not know: %s", where, sql)
			return
		}
		rows, err := conn.Query(context.Background(), sql)
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, sql)
			return
		}
		rows.Close()
		ran++
	}
	for _, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Type != "query" || v.Datasource == nil || v.Datasource.Type != clickhouseType {
				continue
			}
			var sql string
			if err := json.Unmarshal(v.Query, &sql); err != nil {
				t.Errorf("%s: variable %s: query: %v", d.file, v.Name, err)
				continue
			}
			run(fmt.Sprintf("%s: variable %s", d.file, v.Name), sql)
		}
		for _, p := range d.panels() {
			for _, tg := range p.Targets {
				if tg.RawSQL != "" {
					run(fmt.Sprintf("%s %q", d.file, p.Title), tg.RawSQL)
				}
			}
		}
	}
	if ran == 0 {
		t.Fatal("no ClickHouse panel found in the dashboards")
	}
}
