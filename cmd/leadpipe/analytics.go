package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadpipe/leadpipe/dashboards"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
)

// analyticsCmd runs one of the analytics queries of dashboards/ against ClickHouse and prints
// its result as a table; with no query it lists them.
func analyticsCmd(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "only this account (default: every account)")
	since := fs.String("since", "30d", "look back this far (30d, 12h) or from this date (2006-01-02, RFC 3339)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return listQueries(e.stdout)
	}
	if len(pos) > 1 {
		return errors.New("usage: leadpipe analytics [QUERY] [--account NAME] [--since DURATION|DATE]")
	}
	q, ok := dashboards.Lookup(pos[0])
	if !ok {
		var names []string
		for _, q := range dashboards.Queries() {
			names = append(names, q.Name)
		}
		return fmt.Errorf("no analytics query %q; the queries are %s", pos[0], strings.Join(names, ", "))
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		return err
	}
	if e.cfg.ClickHouseAddr == "" {
		return errors.New("analytics are off: set LEADPIPE_CLICKHOUSE_ADDR (host:port of ClickHouse's native protocol; deploy/services.sh env prints the local one)")
	}
	conn, err := chsink.Open(ctx, e.cfg.ClickHouseAddr, e.cfg.ClickHouseDatabase)
	if err != nil {
		return err
	}
	defer conn.Close()
	t, err := chsink.Query(ctx, conn, q.SQL, chsink.Params{Account: *account, Since: from})
	if err != nil {
		return fmt.Errorf("analytics %s: %w", q.Name, err)
	}
	return printTable(e.stdout, t)
}

// listQueries prints the name and title of every analytics query.
func listQueries(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUERY\tANSWERS")
	for _, q := range dashboards.Queries() {
		fmt.Fprintf(tw, "%s\t%s\n", q.Name, q.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nRun one with: leadpipe analytics QUERY [--account NAME] [--since DURATION|DATE]")
	return err
}

// printTable prints a result with its columns aligned, or says that it has no rows.
func printTable(w io.Writer, t *chsink.Table) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, row := range t.Rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(t.Rows) == 0 {
		_, err := fmt.Fprintln(w, "(no rows)")
		return err
	}
	return nil
}

// parseSince reads --since: a duration back from now (a number of days as "30d", or Go's
// "12h", "90m"), a date (midnight UTC) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration back from now (30d, 12h) or a date (2006-01-02) or time (RFC 3339)", s)
}
