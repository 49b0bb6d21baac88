// Package mapping is the map stage: it decides which field each column of a file feeds (SPEC
// §3) and copies every row's cells into per-field values.
package mapping

import (
	"context"
	"fmt"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
)

// Column says what one column of the file maps to.
type Column struct {
	Header string `json:"header"`
	Field  string `json:"field,omitempty"` // field key; empty when unmapped
	// How is "auto" or "explicit" for a mapped column; for an unmapped one it says why:
	// "no matching field", "mapped to nothing", "duplicate of column N", "full name not split".
	How string `json:"how"`
}

// Mapper is the map stage. It is safe for one goroutine.
type Mapper struct {
	catalog *crm.Catalog
	columns []int  // per column: catalog index or -1
	typed   []bool // per column: it feeds a number field, which takes a number cell's Typed value
	report  []Column
}

// New maps the header against the catalog, with the explicit mapping of the options winning
// over auto-mapping. It fails when the explicit mapping names a column the file lacks or maps
// two columns to one field, and when no column maps to any field.
func New(c *crm.Catalog, header []string, o crm.Options) (*Mapper, error) {
	m := &Mapper{catalog: c, columns: make([]int, len(header)), typed: make([]bool, len(header)), report: make([]Column, len(header))}
	explicit := map[string]string{}
	for h, key := range o.Mapping {
		explicit[strings.TrimSpace(h)] = key
	}
	for h := range explicit {
		if !contains(header, h) {
			return nil, fmt.Errorf("mapping: the file has no column %q (its columns: %s)", h, strings.Join(header, ", "))
		}
	}
	// Explicit mappings claim their fields first, so that they win over auto-mapping whatever
	// the column order; auto-mapping then fills in, first column first.
	taken := map[int]int{} // field index → column
	mapped := 0
	for _, explicitPass := range []bool{true, false} {
		for col, h := range header {
			key, isExplicit := explicit[h]
			if isExplicit != explicitPass {
				continue
			}
			m.columns[col] = -1
			m.report[col] = Column{Header: h}
			field := c.AutoMap(h)
			switch {
			case isExplicit && key == "":
				m.report[col].How = "mapped to nothing"
				continue
			case isExplicit:
				field = c.Index(key)
			}
			if field < 0 {
				m.report[col].How = "no matching field"
				continue
			}
			f := c.Fields[field]
			if f.Type == crm.Prospect && isExplicit {
				return nil, fmt.Errorf("mapping: column %q cannot feed %q, the link the import sets from the prospect's email or name fields: map it to one of those", h, f.Key)
			}
			if why := Unfed(f, o); why != "" {
				m.report[col].How = why
				continue
			}
			if prev, dup := taken[field]; dup {
				if isExplicit {
					return nil, fmt.Errorf("mapping: columns %q and %q both map to field %q", header[prev], h, f.Key)
				}
				m.report[col].How = fmt.Sprintf("duplicate of column %d (%s)", prev+1, header[prev])
				continue
			}
			taken[field] = col
			m.columns[col] = field
			m.typed[col] = f.Type == crm.Number
			m.report[col].Field = f.Key
			m.report[col].How = "auto"
			if isExplicit {
				m.report[col].How = "explicit"
			}
			mapped++
		}
	}
	if mapped == 0 {
		return nil, &NothingMappedError{Noun: c.Noun, Columns: m.report}
	}
	return m, nil
}

// NothingMappedError is New's error when no column of the header maps to a field. The file
// cannot be imported so, but its columns, each with why it maps to nothing, are what a person
// maps by hand: a preview shows them (importer.Preview).
type NothingMappedError struct {
	Noun    string   // the record the catalog describes: "prospect"
	Columns []Column // every column of the header, unmapped
}

func (e *NothingMappedError) Error() string {
	headers := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		headers[i] = c.Header
	}
	return fmt.Sprintf("no column of the header maps to %s field (columns: %s); name the columns like the fields or give a mapping",
		crm.WithArticle(e.Noun), strings.Join(headers, ", "))
}

// Unfed says why a column mapped to field f feeds nothing under options o, or "" when it feeds
// f: no column feeds the prospect link (the import sets it from the prospect's fields), and
// full name feeds first and last name only with split_full_name.
func Unfed(f crm.Field, o crm.Options) string {
	switch {
	case f.Type == crm.Prospect:
		return "the prospect link is set from the prospect's email or name fields"
	case f.Key == crm.FieldFullName && !o.SplitFullName:
		return "full name not split (set split_full_name)"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Columns reports, per column of the file, what it maps to.
func (m *Mapper) Columns() []Column { return m.report }

// Unmapped returns the headers of the columns that feed no field.
func (m *Mapper) Unmapped() []string {
	out := []string{}
	for _, c := range m.report {
		if c.Field == "" {
			out = append(out, c.Header)
		}
	}
	return out
}

// Mapped reports whether some column feeds the field with that key.
func (m *Mapper) Mapped(key string) bool {
	for _, c := range m.report {
		if c.Field == key {
			return true
		}
	}
	return false
}

// Process fills every unskipped row's Values with its trimmed cells, by field: a number field
// gets a spreadsheet number cell's typed value (Row.Typed), every other field the cell as the
// user saw it.
func (m *Mapper) Process(_ context.Context, b *pipeline.Batch) error {
	n := len(m.catalog.Fields)
	backing := make([]string, n*len(b.Rows)) // one allocation per batch, not per row
	for i := range b.Rows {
		r := &b.Rows[i]
		if r.Skipped() {
			continue
		}
		r.Values = backing[i*n : (i+1)*n : (i+1)*n]
		for col, field := range m.columns {
			if field >= 0 && col < len(r.Cells) {
				cell := r.Cells[col]
				if m.typed[col] && col < len(r.Typed) && r.Typed[col] != "" {
					cell = r.Typed[col]
				}
				r.Values[field] = strings.TrimSpace(cell)
			}
		}
	}
	return nil
}
