package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// Page sizes of the list endpoints.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// ParseTime reads a time given as RFC 3339 or as a date (YYYY-MM-DD, midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02) or an RFC 3339 time", s)
	}
	return t, nil
}

// params reads a request's query parameters, collecting every problem.
type params struct {
	r        *http.Request
	problems []string
}

func (p *params) time(name string) time.Time {
	s := p.r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		p.problems = append(p.problems, name+": "+err.Error())
	}
	return t
}

// int reads a whole number from min to max (max 0: no upper bound).
func (p *params) int(name string, def, min, max int64) int64 {
	s := p.r.URL.Query().Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || (max > 0 && n > max) {
		if max > 0 {
			p.problems = append(p.problems, fmt.Sprintf("%s: %q is not a whole number from %d to %d", name, s, min, max))
		} else {
			p.problems = append(p.problems, fmt.Sprintf("%s: %q is not a whole number of at least %d", name, s, min))
		}
	}
	return n
}

// checkQueryText checks that every query parameter is text Postgres can compare: valid UTF-8
// without NUL (?kind=%ff or ?import_file=%00 would otherwise fail the query).
func checkQueryText(r *http.Request) error {
	p := &params{r: r}
	q := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[name] {
			if !utf8.ValidString(name+v) || strings.ContainsRune(name+v, 0) {
				p.problems = append(p.problems, fmt.Sprintf("%s: %q is not UTF-8 text without NUL", strings.ToValidUTF8(name, "\ufffd"), v))
			}
		}
	}
	return p.err()
}

func (p *params) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return badRequest("invalid query parameters", p.problems)
}

func boolParam(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest(fmt.Sprintf("%s: %q is not true or false", name, s), nil)
	}
	return b, nil
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// importFilter reads GET /v1/imports' status, kind, undos, from, to, limit and cursor.
func importFilter(r *http.Request) (store.ImportFilter, error) {
	p := &params{r: r}
	q := r.URL.Query()
	f := store.ImportFilter{
		Status: q.Get("status"),
		Kind:   q.Get("kind"),
		From:   p.time("from"),
		To:     p.time("to"),
		Before: p.int("cursor", 0, 0, 0),
		Limit:  int(p.int("limit", DefaultLimit, 1, MaxLimit)),
		// RequestID: the imports of one workbook request.
		RequestID: p.int("request_id", 0, 0, 0),
		Undos:     q.Get("undos"),
	}
	if f.Status != "" && !slices.Contains(store.Statuses, f.Status) {
		p.problems = append(p.problems, fmt.Sprintf("status: %q is not %s", f.Status, orList(store.Statuses)))
	}
	if f.Undos != "" && !slices.Contains(store.UndosFilters, f.Undos) {
		p.problems = append(p.problems, fmt.Sprintf("undos: %q is not %s", f.Undos, orList(store.UndosFilters)))
	}
	return f, p.err()
}

// kindParam answers a ?kind the account imports no records of as the query parameter's
// problem (400); any other error as it is.
func kindParam(err error) error {
	if errors.Is(err, importer.ErrUnknownKind) {
		return badRequest("invalid query parameters", []string{"kind: " + err.Error()})
	}
	return err
}
