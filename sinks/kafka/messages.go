package kafkasink

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/leadpipe/leadpipe/internal/jsontext"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// Version is the version of the message formats below; a change that could break a consumer
// gets a new one. docs/kafka.md describes every field, and how a consumer of version 1 moves
// to version 2 (which names the kind of record an import writes and its entity ids).
const Version = 2

// prospects is the kind whose outcomes also fill the deprecated ProspectID.
const prospects = "prospects"

// Outcome is the message published on the outcomes topic for one row of an import.
type Outcome struct {
	Version   int    `json:"version"`
	ImportID  int64  `json:"import_id"`
	RowNumber int    `json:"row_number"`
	Account   string `json:"account"`
	// Kind is the kind of record the import writes: prospects, organizations, deals or an
	// object type's key.
	Kind string `json:"kind"`
	// Outcome is created, updated, unchanged or skipped; on an undo's row deleted, restored,
	// kept_changed_since or unchanged.
	Outcome string `json:"outcome"`
	// Reason is why the row was skipped, or why an undo kept a record or some of its fields
	// ("" otherwise); Detail says more, for a person.
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	// EntityID is the record of the import's kind that the row created or matched; null for a
	// skipped row.
	EntityID *int64 `json:"entity_id"`
	// ProspectID is EntityID in a prospects import, null in any other: version 1's field, kept
	// while consumers move to EntityID.
	ProspectID *int64 `json:"prospect_id"`
	// Warnings lists the fields of the row that were not imported: objects with field,
	// kind and (when there was one) value. Empty when every field was imported.
	Warnings json.RawMessage `json:"warnings"`
	// UndoOf is, on an undo's row, the import the undo takes back, and SourceRow that import's
	// row which this row took back; both null on an import's row.
	UndoOf    *int64 `json:"undo_of"`
	SourceRow *int   `json:"source_row"`
}

// Event is the message published on the events topic for one change of an import's
// lifecycle.
type Event struct {
	Version  int   `json:"version"`
	ImportID int64 `json:"import_id"`
	// Seq numbers an import's events from 1, in the order they happened.
	Seq int `json:"seq"`
	// Event is queued, started, progress, completed, failed or cancelled, or undone when an undo
	// of the import completed.
	Event   string `json:"event"`
	Account string `json:"account"`
	// Kind is the kind of record the import writes, as in Outcome.
	Kind string `json:"kind"`
	// Status is the import's status after the event: queued, running, completed, failed,
	// cancelled or undone.
	Status string `json:"status"`
	// File is the name of the imported file; Source where the import came from (upload,
	// watch, kafka or cli).
	File   string    `json:"file"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
	Counts Counts    `json:"counts"`
	// Error says why a failed import failed; "" otherwise.
	Error string `json:"error"`
	// UndoOf is, on an undo's event, the import the undo takes back; null otherwise.
	UndoOf *int64 `json:"undo_of"`
	// UndoneBy and UndoneAt are, on an undone event, the undo that took the import back and
	// when it completed; null on every other event.
	UndoneBy *int64     `json:"undone_by"`
	UndoneAt *time.Time `json:"undone_at"`
}

// Counts are an import's row counts as an event left them.
type Counts struct {
	RowsDone int `json:"rows_done"`
	// RowsTotal is the number of data rows in the file; 0 while it is not known yet.
	RowsTotal int `json:"rows_total"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	// Counters are the totals the import's kind names (a prospects import counts
	// organizations_created and organizations_linked), {} when it names none.
	Counters map[string]int `json:"counters"`
}

// noWarnings is the warnings of a row that has none.
var noWarnings = json.RawMessage("[]")

// appendJSON appends m as JSON, byte for byte as json.Marshal writes it (TestOutcomeJSON): one
// buffer for a delivery's messages instead of a reflective encoding and an allocation each.
func (m *Outcome) appendJSON(b []byte) ([]byte, error) {
	b = append(strconv.AppendInt(append(b, `{"version":`...), int64(m.Version), 10), `,"import_id":`...)
	b = append(strconv.AppendInt(b, m.ImportID, 10), `,"row_number":`...)
	b = append(strconv.AppendInt(b, int64(m.RowNumber), 10), `,"account":`...)
	b = append(jsontext.AppendString(b, m.Account), `,"kind":`...)
	b = append(jsontext.AppendString(b, m.Kind), `,"outcome":`...)
	b = append(jsontext.AppendString(b, m.Outcome), `,"reason":`...)
	b = append(jsontext.AppendString(b, m.Reason), `,"detail":`...)
	b = append(jsontext.AppendString(b, m.Detail), `,"entity_id":`...)
	b = append(appendID(b, m.EntityID), `,"prospect_id":`...)
	b = append(appendID(b, m.ProspectID), `,"warnings":`...)
	switch string(m.Warnings) {
	case "[]":
		b = append(b, "[]"...)
	case "":
		b = append(b, "null"...)
	default: // as stored: jsonb's text, which json.Marshal compacts and escapes
		w, err := json.Marshal(m.Warnings)
		if err != nil {
			return b, err
		}
		b = append(b, w...)
	}
	b = append(appendID(append(b, `,"undo_of":`...), m.UndoOf), `,"source_row":`...)
	if m.SourceRow == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*m.SourceRow), 10)
	}
	return append(b, '}'), nil
}

func appendID(b []byte, id *int64) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *id, 10)
}

func outcomeMessage(d *pipeline.Delivery, r *store.RowOutcome) Outcome {
	m := Outcome{Version: Version, ImportID: r.ImportID, RowNumber: r.Row, Account: d.Account, Kind: d.Import.Kind,
		Outcome: r.Outcome, Reason: r.Reason, Detail: r.Detail, Warnings: r.Warnings}
	if r.EntityID != 0 {
		m.EntityID = &r.EntityID
		if d.Import.Kind == prospects {
			m.ProspectID = &r.EntityID
		}
	}
	if len(m.Warnings) == 0 || string(m.Warnings) == "null" {
		m.Warnings = noWarnings
	}
	if d.Import.UndoOf != 0 {
		m.UndoOf, m.SourceRow = &d.Import.UndoOf, &r.SourceRow
	}
	return m
}

func eventMessage(d pipeline.Delivery, e store.ImportEvent) Event {
	counters := e.Counters
	if counters == nil {
		counters = map[string]int{}
	}
	m := Event{Version: Version, ImportID: e.ImportID, Seq: e.Seq, Event: e.Kind, Account: d.Account,
		Kind: d.Import.Kind, Status: e.Status, File: d.Import.FileName, Source: d.Import.Source, At: e.At, Error: e.Error,
		Counts: Counts{RowsDone: e.RowsDone, RowsTotal: e.RowsTotal, Created: e.Created, Updated: e.Updated,
			Unchanged: e.Unchanged, Skipped: e.Skipped, Counters: counters}}
	if d.Import.UndoOf != 0 {
		m.UndoOf = &d.Import.UndoOf
	}
	// Only the undone event names the undo: the import's earlier events, published again after
	// it was undone, say what they said the first time.
	if e.Kind == store.StatusUndone && d.Import.UndoneBy != 0 {
		m.UndoneBy, m.UndoneAt = &d.Import.UndoneBy, d.Import.UndoneAt
	}
	return m
}
