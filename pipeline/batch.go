// Package pipeline is the import engine: the row and batch types that flow between stages, the
// stage contract, running a chain of stages over bounded channels, and the import jobs that
// workers claim, checkpoint and resume.
package pipeline

// Outcome is what an import did with a row (SPEC §6).
type Outcome string

// Row outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
	Skipped   Outcome = "skipped"
)

// The outcomes of an undo's rows: what the undo did with the record an import's row created or
// changed. An import row it had nothing to take back from is Unchanged.
const (
	// Deleted: the record the row created is deleted.
	Deleted Outcome = "deleted"
	// Restored: the record the row changed has its values before the row back (all of them, or
	// those not changed since: Undoing.FieldsKept names the others), or the memberships the row
	// added are removed.
	Restored Outcome = "restored"
	// KeptChangedSince: the record the row created, or every field it changed, was changed
	// after the import (by a later import, or another write): it is left as it is.
	KeptChangedSince Outcome = "kept_changed_since"
)

// CounterFieldsKept is the counter of an undo's fields left as they were because they changed
// after the import (one per field of each row).
const CounterFieldsKept = "fields_kept"

// UndoCounters are the counters an undo reports: its outcomes but Unchanged, and the fields it kept.
func UndoCounters() []string {
	return []string{string(Deleted), string(Restored), string(KeptChangedSince), CounterFieldsKept}
}

// Skip reasons (SPEC §2, §6, §10).
const (
	ReasonMalformedRow       = "malformed_row"
	ReasonInvalidEmail       = "invalid_email"
	ReasonMissingIdentifier  = "missing_identifier"
	ReasonNewNotAllowed      = "new_not_allowed"
	ReasonExistingNotUpdated = "existing_not_updated"
	ReasonOverLimit          = "over_limit"
)

// Field warning kinds (SPEC §4, §9).
const (
	WarnInvalidBoolean  = "invalid_boolean"
	WarnInvalidPicklist = "invalid_picklist_value"
	WarnInvalidDate     = "invalid_date"
	WarnInvalidNumber   = "invalid_number"
	WarnValueTooLong    = "value_too_long"
	WarnOwnerNotFound   = "owner_not_found"
	WarnInvalidEmail    = "invalid_email"
)

// Warning says that one field of an imported row was not imported, and why.
type Warning struct {
	Field string `json:"field"`
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
}

// Row is one data row of an import on its way through the stages. Each stage fills in its
// part. A skipped row keeps flowing, untouched by later stages, so that its outcome is recorded.
type Row struct {
	// Number is the spreadsheet row number a user sees (the header's row is 1 in most files).
	Number int
	// Cells are the cells as read — a spreadsheet's as the user saw them, number formats
	// applied (25.00%, $1,200.00, 02134); they are kept for the skipped-rows report.
	Cells []string
	// Typed, when not nil, holds as many cells as Cells: a spreadsheet number cell's number as
	// a plain decimal (0.25, 1200, 2134) where Cells shows it formatted, and "" for every other
	// cell (text, dates, booleans, blanks, and numbers shown as they are). The map stage gives a
	// number field the typed value and every other field what the user saw. Nil for a CSV
	// file and for a row with no such cell.
	Typed []string
	// Values holds one canonical value per catalog field (crm.Catalog index); "" is no value.
	Values []string
	// Warnings are the fields of the row that were not imported.
	Warnings []Warning

	// SkipReason is set when the row is skipped; SkipDetail says more, for a person.
	SkipReason string
	SkipDetail string

	// Outcome and EntityID (the record the row created or matched) are set by the stage that
	// writes the row.
	Outcome  Outcome
	EntityID int64

	// Undo, set by the writer on a row that updated a record or created others besides its own,
	// is what an undo needs to take the row back; it is recorded with the row's outcome.
	Undo *Undo
	// Undoing is set on the rows of an undo: the import's row the undo takes back.
	Undoing *Undoing
}

// Skip marks the row skipped with a reason and a detail.
func (r *Row) Skip(reason, detail string) {
	r.SkipReason, r.SkipDetail, r.Outcome = reason, detail, Skipped
}

// Skipped reports whether an earlier stage skipped the row.
func (r *Row) Skipped() bool { return r.SkipReason != "" }

// Warn records a field warning.
func (r *Row) Warn(field, kind, value string) {
	r.Warnings = append(r.Warnings, Warning{Field: field, Kind: kind, Value: value})
}

// Batch is a run of consecutive rows of one import, in file order. Stages pass batches, not
// rows, because a channel operation per row costs more than the work done on it.
type Batch struct {
	Rows []Row
	// LastRow and Offset are the checkpoint the batch commits: the row number of the last
	// record read into the batch (blank rows included) and the byte offset of the decoded
	// input just after it. A resumed import starts reading there.
	LastRow int
	Offset  int64
	// Counters are what the stage that writes the batch counted, by name, beside the rows'
	// outcomes (a prospects import counts organizations_created, for one); see Count.
	Counters map[string]int
	// Prepared is what the writer's Prepare read for the batch ahead of its turn (Preparer),
	// for its Write; the engine drops it once the batch is written.
	Prepared any

	own *ownTx // the batch's turn on a connection, when it is read ahead (PrepareStage)
}

// Count adds n to the batch's counter name.
func (b *Batch) Count(name string, n int) {
	if b.Counters == nil {
		b.Counters = map[string]int{}
	}
	b.Counters[name] += n
}
