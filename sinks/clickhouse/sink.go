package chsink

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
)

// SinkName names the ClickHouse sink in its cursors, metrics and logs.
const SinkName = "clickhouse"

// Sink is the pipeline.Sink that writes import analytics to ClickHouse: every row outcome to
// row_outcomes and, when an import ends (or is undone), its summary to import_summaries and its
// counts by reason to import_counts. An undo is delivered as an import is, naming the import it
// takes back. Each delivery is one batched insert per table. A delivery that is
// repeated (after a crash, or a failed delivery the relay retries) writes the same keys again,
// which queries reading with FINAL see once.
//
// The sink connects, and applies the schema migrations, on its first delivery, and again after
// a failed one: ClickHouse may be down when the daemon starts, or restart under it.
type Sink struct {
	Addr     string
	Database string
	// Querier reads an import's record when it ends, for its summary: the delivery's copy may
	// predate the events it carries.
	Querier store.Querier

	mu     sync.Mutex
	conn   driver.Conn
	writes *writeInterrupter // conn's connections
}

// Name returns SinkName.
func (s *Sink) Name() string { return SinkName }

// Ready connects to ClickHouse and brings its schema up to date, unless the sink already is
// connected.
func (s *Sink) Ready(ctx context.Context) error {
	_, _, err := s.ready(ctx)
	return err
}

// ready returns the sink's connection, and what dialled its connections.
func (s *Sink) ready(ctx context.Context) (driver.Conn, *writeInterrupter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return s.conn, s.writes, nil
	}
	if _, err := Migrate(ctx, s.Addr, s.Database); err != nil {
		return nil, nil, err
	}
	writes := newWriteInterrupter()
	conn, err := open(ctx, s.Addr, s.Database, writes.dial)
	if err != nil {
		return nil, nil, err
	}
	s.conn, s.writes = conn, writes
	return conn, writes, nil
}

// reset drops the connection after a failure, so that the next delivery connects afresh.
func (s *Sink) reset(conn driver.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == conn {
		s.conn.Close()
		s.conn = nil
	}
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// Deliver writes d's row outcomes, and the summary of the import when one of d's events ended
// it.
func (s *Sink) Deliver(ctx context.Context, d pipeline.Delivery) error {
	conn, writes, err := s.ready(ctx)
	if err != nil {
		return err
	}
	err = s.deliver(ctx, conn, writes, d)
	if err != nil {
		s.reset(conn)
	}
	return err
}

func (s *Sink) deliver(ctx context.Context, conn driver.Conn, writes *writeInterrupter, d pipeline.Delivery) error {
	if len(d.Rows) > 0 {
		if err := insertRows(ctx, conn, writes, d); err != nil {
			return fmt.Errorf("row outcomes: %w", err)
		}
	}
	for _, ev := range d.Events {
		if !finalEvent(ev.Kind) {
			continue
		}
		im, err := store.GetImport(ctx, s.Querier, d.Import.AccountID, d.Import.ID)
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if err := insertSummary(ctx, conn, d.Account, im, ev); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
	}
	return nil
}

// finalEvent reports whether an import event ends the import, or marks it undone.
func finalEvent(kind string) bool {
	switch kind {
	case store.StatusCompleted, store.StatusFailed, store.StatusCancelled, store.StatusUndone:
		return true
	}
	return false
}

// insert sends one batched INSERT into the named columns of query, of the rows add appends
// (and flushes, a block at a time). When add fails or panics, the INSERT is abandoned: its
// connection is closed before the end of its data. ClickHouse (18.16, here) may still keep the
// blocks it was sent before, so insertRows checks what could fail before it sends any.
func insert(ctx context.Context, conn driver.Conn, query string, add func(driver.Batch) error) error {
	batch, err := conn.PrepareBatch(ctx, query)
	if err != nil {
		return err
	}
	defer func() {
		if !batch.IsSent() {
			batch.Abort()
		}
	}()
	if err := add(batch); err != nil {
		return err
	}
	return batch.Send()
}

// blockRows is the most row outcomes in one block of a delivery's INSERT. A delivery (up to
// clickhouse_batch_rows, 50,000 by default) goes as one INSERT of blocks of blockRows, each
// sent as soon as it is built, into columns that are reused for the next: a column built whole
// for 50,000 rows grew by copying itself, about five times its final size, and clickhouse-go's
// string columns took 1.58 GB of the daemon's 10.61 GB allocated over the serve step's two
// imports (docs/architecture.md, "The serve step's sinks without copies").
// ClickHouse squashes an INSERT's small blocks into one part (min_insert_block_size_rows;
// TestDeliveryInBlocks, on 18.16).
var blockRows = 5000

// insertRows inserts a delivery's row outcomes, column by column: a typed slice per column
// instead of a boxed value per cell, which clickhouse-go would inspect one by one. Every row's
// warnings are read before the first block is sent, so that a row the sink cannot write fails
// the delivery with nothing written. A connection lost once a block was sent may leave the
// blocks before it in ClickHouse; the relay delivers them again, and FINAL sees each row once.
// When ctx ends while a block is sent, the writes on conn's connections (dialled by writes) are
// interrupted.
func insertRows(ctx context.Context, conn driver.Conn, writes *writeInterrupter, d pipeline.Delivery) error {
	at := d.Import.CreatedAt
	if d.Import.StartedAt != nil {
		at = *d.Import.StartedAt
	}
	warnings := make([]string, len(d.Rows))
	for i := range d.Rows {
		kinds, err := warningKinds(d.Rows[i].Warnings)
		if err != nil {
			return fmt.Errorf("row %d: %w", d.Rows[i].Row, err)
		}
		warnings[i] = kinds
	}
	block := newOutcomeBlock(d, at, min(len(d.Rows), blockRows))
	defer context.AfterFunc(ctx, writes.interrupt)()
	return insert(ctx, conn, `INSERT INTO row_outcomes (account, import_id, kind, undo_of, row_number, source_row, outcome,
		reason, entity_id, prospect_id, warnings, source, file_name, at)`, func(b driver.Batch) error {
		for start := 0; start < len(d.Rows); start += blockRows {
			if start > 0 {
				if err := b.Flush(); err != nil {
					return err
				}
			}
			end := min(start+blockRows, len(d.Rows))
			block.fill(d.Import.Kind, d.Rows[start:end], warnings[start:end])
			if err := block.appendTo(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// outcomeBlock holds the columns of a block of row outcomes, in the order insertRows names them.
// Those every row of a delivery shares are filled once.
type outcomeBlock struct {
	n                        int // rows in the block
	accounts, kinds, sources []string
	fileNames                []string
	importIDs, undoOfs       []uint64
	ats                      []time.Time
	rowNumbers, sourceRows   []uint32
	outcomes, reasons        []string
	warnings                 []string // the delivery's, a block's stretch of it at a time
	entityIDs, prospectIDs   []uint64
}

// newOutcomeBlock returns a block of up to size rows of delivery d, whose import started at.
func newOutcomeBlock(d pipeline.Delivery, at time.Time, size int) *outcomeBlock {
	return &outcomeBlock{
		accounts: repeat(d.Account, size), kinds: repeat(d.Import.Kind, size), sources: repeat(d.Import.Source, size),
		fileNames: repeat(d.Import.FileName, size), importIDs: repeat(uint64(d.Import.ID), size),
		undoOfs: repeat(uint64(d.Import.UndoOf), size), ats: repeat(at, size),
		rowNumbers: make([]uint32, size), sourceRows: make([]uint32, size),
		outcomes: make([]string, size), reasons: make([]string, size),
		entityIDs: make([]uint64, size), prospectIDs: make([]uint64, size),
	}
}

// fill sets the block's rows to rows of an import of kind, whose warnings' kinds are warnings:
// no more rows than the block was made for.
func (o *outcomeBlock) fill(kind string, rows []store.RowOutcome, warnings []string) {
	o.n, o.warnings = len(rows), warnings
	for i := range rows {
		r := &rows[i]
		o.rowNumbers[i], o.sourceRows[i] = uint32(r.Row), uint32(r.SourceRow)
		o.outcomes[i], o.reasons[i] = r.Outcome, r.Reason
		o.entityIDs[i], o.prospectIDs[i] = uint64(r.EntityID), prospectID(kind, r.EntityID)
	}
}

// appendTo appends the block's rows to b, column by column.
func (o *outcomeBlock) appendTo(b driver.Batch) error {
	n := o.n
	columns := []any{o.accounts[:n], o.importIDs[:n], o.kinds[:n], o.undoOfs[:n], o.rowNumbers[:n], o.sourceRows[:n],
		o.outcomes[:n], o.reasons[:n], o.entityIDs[:n], o.prospectIDs[:n], o.warnings, o.sources[:n],
		o.fileNames[:n], o.ats[:n]}
	for i, c := range columns {
		if err := b.Column(i).Append(c); err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	return nil
}

// repeat is n copies of v: a column whose every row of a delivery has the same value.
func repeat[T any](v T, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// prospectsKind is the kind whose rows also fill prospect_id, the column of the rows written
// before imports had kinds.
const prospectsKind = "prospects"

// prospectID is prospect_id of a row of an import of kind: its entity in a prospects import,
// 0 in any other (another kind's id is no prospect's).
func prospectID(kind string, entityID int64) uint64 {
	if kind != prospectsKind {
		return 0
	}
	return uint64(entityID)
}

// warningKinds returns the distinct kinds of a row's field warnings, sorted and joined by
// commas.
func warningKinds(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	var ws []pipeline.Warning
	if err := json.Unmarshal(raw, &ws); err != nil {
		return "", fmt.Errorf("warnings: %w", err)
	}
	kinds := make([]string, 0, len(ws))
	for _, w := range ws {
		kinds = append(kinds, w.Kind)
	}
	slices.Sort(kinds)
	return strings.Join(slices.Compact(kinds), ","), nil
}

// neverStarted is the start time of an import that never started, and the undone_at of one
// not undone.
var neverStarted = time.Unix(0, 0).UTC()

func insertSummary(ctx context.Context, conn driver.Conn, account string, im store.Import, ev store.ImportEvent) error {
	started, finished := neverStarted, ev.At
	if im.StartedAt != nil {
		started = *im.StartedAt
	}
	if im.FinishedAt != nil {
		finished = *im.FinishedAt
	}
	var queued, run time.Duration
	if im.StartedAt != nil {
		queued, run = max(started.Sub(im.CreatedAt), 0), max(finished.Sub(started), 0)
	}
	c := im.Counts
	var rate uint64
	if run > 0 {
		rate = uint64(float64(c.Rows) / run.Seconds())
	}
	var overLimit uint8
	if im.OverLimitWarning {
		overLimit = 1
	}
	undoneAt := neverStarted
	if im.UndoneAt != nil {
		undoneAt = *im.UndoneAt
	}
	names := slices.Sorted(maps.Keys(c.Counters))
	values := make([]uint64, len(names))
	for i, name := range names {
		values[i] = uint64(c.Counters[name])
	}
	err := insert(ctx, conn, `INSERT INTO import_summaries (account, import_id, version, kind, undo_of, source, file_name,
		file_size, file_sha256, options, status, error, over_limit_warning, rows_total, rows_done, created, updated,
		unchanged, skipped, counters.name, counters.value, organizations_created, organizations_linked, created_at,
		started_at, finished_at, undone_by, undone_at, queued_ms, run_ms, rows_per_second)`, func(b driver.Batch) error {
		return b.Append(account, uint64(im.ID), uint32(ev.Seq), im.Kind, uint64(im.UndoOf), im.Source, im.FileName,
			uint64(im.FileSize), im.FileSHA256, string(im.Options), im.Status, im.Error, overLimit, uint32(im.RowsTotal),
			uint32(c.Rows), uint32(c.Created), uint32(c.Updated), uint32(c.Unchanged), uint32(c.Skipped), names, values,
			uint32(c.Counters["organizations_created"]), uint32(c.Counters["organizations_linked"]), im.CreatedAt, started,
			finished, uint64(im.UndoneBy), undoneAt, uint64(queued.Milliseconds()), uint64(run.Milliseconds()), rate)
	})
	if err != nil || len(c.SkippedByReason)+len(c.WarningsByKind) == 0 {
		return err
	}
	return insert(ctx, conn, `INSERT INTO import_counts (account, import_id, import_kind, version, kind, name, count,
		source, file_name, created_at, finished_at)`, func(b driver.Batch) error {
		for kind, counts := range map[string]map[string]int{"skip_reason": c.SkippedByReason, "warning": c.WarningsByKind} {
			for name, n := range counts {
				err := b.Append(account, uint64(im.ID), im.Kind, uint32(ev.Seq), kind, name, uint64(n), im.Source,
					im.FileName, im.CreatedAt, finished)
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}
