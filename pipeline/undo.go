package pipeline

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/leadpipe/leadpipe/internal/jsontext"
)

// Undo is what an import keeps of a row so that the row can be taken back (import_rows.undo):
// the fields it changed on the record it matched, and the records it created besides its own.
type Undo struct {
	// Changes are the record's fields the row changed, in catalog order.
	Changes []Change
	// UpdatedAt is the record's updated_at before the row changed it, when the writer knows it
	// (the record was loaded from the database and the batch had not changed it yet); zero
	// otherwise. An undo that restores every field of a record nobody wrote after the import
	// ended puts it back.
	UpdatedAt time.Time
	// Made are the records the row created as a side effect (an organization a prospect links to).
	Made []Ref
}

// Change is one field of a record that a row changed: the value before the row and the value
// it wrote, both canonical ("" for none; a link's id in decimal; a multi-picklist's values
// joined by ";").
type Change struct {
	Field string // the catalog key
	Old   string
	New   string
}

// Ref names a record: its kind (as kind.Kind.Name says it) and id.
type Ref struct {
	Kind string
	ID   int64
}

// undoJSON is Undo as import_rows.undo stores it, short because a re-import stores one per
// updated row: {"c":[["title","old","new"],…],"u":"2026-12-05T04:26:00.123456Z","m":[["organizations",12],…]}.
type undoJSON struct {
	C [][3]string          `json:"c,omitempty"`
	U *time.Time           `json:"u,omitempty"`
	M [][2]json.RawMessage `json:"m,omitempty"`
}

// MarshalJSON encodes u as import_rows.undo holds it. It writes the JSON itself, as
// encoding/json would: a re-import encodes one per row, and encoding/json took 2.7 µs each.
func (u Undo) MarshalJSON() ([]byte, error) { return u.AppendJSON(make([]byte, 0, 128)), nil }

// AppendJSON appends to b what MarshalJSON encodes, and returns the extended buffer.
func (u *Undo) AppendJSON(b []byte) []byte {
	start := len(b)
	b = append(b, '{')
	if len(u.Changes) > 0 {
		b = append(b, `"c":[`...)
		for i, c := range u.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = append(jsontext.AppendString(b, c.Field), ',')
			b = append(jsontext.AppendString(b, c.Old), ',')
			b = append(jsontext.AppendString(b, c.New), ']')
		}
		b = append(b, ']')
	}
	if !u.UpdatedAt.IsZero() {
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, `"u":"`...)
		b = append(u.UpdatedAt.UTC().AppendFormat(b, time.RFC3339Nano), '"')
	}
	if len(u.Made) > 0 {
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, `"m":[`...)
		for i, m := range u.Made {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(jsontext.AppendString(append(b, '['), m.Kind), ','), strconv.FormatInt(m.ID, 10)...)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (u *Undo) UnmarshalJSON(data []byte) error {
	var j undoJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("import row's undo: %w", err)
	}
	*u = Undo{}
	for _, c := range j.C {
		u.Changes = append(u.Changes, Change{Field: c[0], Old: c[1], New: c[2]})
	}
	if j.U != nil {
		u.UpdatedAt = *j.U
	}
	for _, m := range j.M {
		var r Ref
		if err := json.Unmarshal(m[0], &r.Kind); err != nil {
			return fmt.Errorf("import row's undo: %w", err)
		}
		if err := json.Unmarshal(m[1], &r.ID); err != nil {
			return fmt.Errorf("import row's undo: %w", err)
		}
		u.Made = append(u.Made, r)
	}
	return nil
}

// Undoing is a row of an import as an undo takes it back: what the import recorded of it. The
// undo's writer sets FieldsKept and Why.
type Undoing struct {
	// Row is the row's number in the import (import_rows.row_number).
	Row int
	// Outcome is the import's outcome of the row: created, updated or unchanged.
	Outcome Outcome
	// EntityID is the record the row created or matched.
	EntityID int64
	// Undo is what the import kept of the row; nil when it kept nothing.
	Undo *Undo

	// FieldsKept are the keys of the fields the undo left as they were because they changed
	// after the import, in catalog order.
	FieldsKept []string
	// Why says, for a person, why a record or its fields were kept ("" when nothing was).
	Why string
}
