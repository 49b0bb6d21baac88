package chsink

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Params are the parameters of every analytics query (dashboards/*.sql): @account, one
// account's name or "" for every account, and @since, the earliest time it looks at.
type Params struct {
	Account string
	Since   time.Time
}

// Table is a query's result as text: its column names and its rows of cells.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Query runs an analytics query with p bound to its @account and @since. The driver writes
// them into the query as quoted literals; no user text is spliced into SQL.
func Query(ctx context.Context, conn driver.Conn, sql string, p Params) (*Table, error) {
	rows, err := conn.Query(ctx, sql, clickhouse.Named("account", p.Account),
		clickhouse.DateNamed("since", p.Since.UTC(), clickhouse.Seconds))
	if err != nil {
		return nil, explain(err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	t := &Table{Columns: rows.Columns()}
	dest := make([]any, len(types))
	for i, ct := range types {
		dest[i] = reflect.New(ct.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read result: %w", err)
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			row[i] = cell(reflect.ValueOf(d).Elem(), types[i].DatabaseTypeName())
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	return t, nil
}

// cell writes one value of a result as text: dates as ISO dates, times in UTC to the second,
// numbers in plain decimal, NULL as "".
func cell(v reflect.Value, dbType string) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if strings.HasPrefix(strings.TrimPrefix(dbType, "Nullable("), "Date") && !strings.Contains(dbType, "DateTime") {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.DateTime)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
