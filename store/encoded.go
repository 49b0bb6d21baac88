package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Encoded is a statement with its arguments already in Postgres's binary form, ready to send.
// An import encodes a batch's update where it applied the batch, ahead of the batch's
// transaction, so that the transaction — which holds the account's lock, and whose connection
// is what an import waits for — only sends it: on a re-import that updates every prospect,
// building and encoding the update was 1.7 of the 2.2 CPU-seconds the batches' transactions
// spent in leadpipe (docs/architecture.md, "Updates encoded ahead"). The zero Encoded runs
// nothing.
type Encoded struct {
	sql     string
	params  [][]byte
	oids    []uint32
	formats []int16
	// atAddress: an update joined to its rows at their addresses, run with AtAddressPlan.
	atAddress bool
}

// Setting is a server setting a statement runs with, and its value while it runs.
type Setting struct{ Name, Value string }

// AtAddressPlan returns the planner's settings an update at its rows' addresses
// (EncodeProspectUpdateAtAddress) runs with, for that statement only: every way to read the
// table but by a row's address off, and the nested loop of TID scans left on. Postgres plans
// what is off only at a cost too high to pick while another plan is on, so the one plan left
// is that loop. Planned freely, for an account its statistics do not know yet (one row, to the
// planner), the update read the whole table and hashed it against the batch's arrays
// (store/lookupplans_test.go).
func AtAddressPlan() []Setting {
	return []Setting{{"enable_seqscan", "off"}, {"enable_indexscan", "off"}, {"enable_indexonlyscan", "off"},
		{"enable_bitmapscan", "off"}, {"enable_memoize", "off"}, {"enable_tidscan", "on"}, {"enable_nestloop", "on"}}
}

// sendWith adds to b the sentWith statements that run e with its settings, and extra ones
// (at least one), for the statement only: one that saves the settings' values (each in a
// setting of leadpipe's own, leadpipe.<name>, so that a value the transaction or the server
// set comes back too), one that sets them, e itself (result sentAt), and one that puts the
// saved values back.
func (e Encoded) sendWith(b *pgconn.Batch, extra ...Setting) {
	settings := extra
	if e.atAddress {
		settings = append(slices.Clone(extra), AtAddressPlan()...)
	}
	var save, set, reset []string
	for _, s := range settings {
		save = append(save, fmt.Sprintf("set_config('leadpipe.%s', current_setting('%s'), true)", s.Name, s.Name))
		set = append(set, fmt.Sprintf("set_config('%s', '%s', true)", s.Name, s.Value))
		reset = append(reset, fmt.Sprintf("set_config('%s', current_setting('leadpipe.%s'), true)", s.Name, s.Name))
	}
	b.ExecParams("SELECT "+strings.Join(save, ", "), nil, nil, nil, nil)
	b.ExecParams("SELECT "+strings.Join(set, ", "), nil, nil, nil, nil)
	b.ExecParams(e.sql, e.params, e.oids, e.formats, nil)
	b.ExecParams("SELECT "+strings.Join(reset, ", "), nil, nil, nil, nil)
}

// sentWith is how many statements sendWith adds, and sentAt the index of e's among them.
const sentWith, sentAt = 4, 2

// Exec runs e in tx, as an unnamed statement: its text varies with the columns an update sets,
// and statements prepared by name would pile up on each connection. An update at its rows'
// addresses runs with its settings (AtAddressPlan), sent with it in one round trip.
func (e Encoded) Exec(ctx context.Context, tx pgx.Tx) error {
	_, err := e.ExecCount(ctx, tx)
	return err
}

// ExecCount is Exec, and returns how many rows the statement wrote.
func (e Encoded) ExecCount(ctx context.Context, tx pgx.Tx) (int64, error) {
	if e.Empty() {
		return 0, nil
	}
	if !e.atAddress {
		tag, err := tx.Conn().PgConn().ExecParams(ctx, e.sql, e.params, e.oids, e.formats, nil).Close()
		return tag.RowsAffected(), err
	}
	b := &pgconn.Batch{}
	e.sendWith(b)
	results, err := tx.Conn().PgConn().ExecBatch(ctx, b).ReadAll()
	if err != nil {
		return 0, err
	}
	if len(results) != sentWith {
		return 0, fmt.Errorf("%d results of a statement's %d with its settings", len(results), sentWith)
	}
	return results[sentAt].CommandTag.RowsAffected(), nil
}

// ExecUnlessLocked is ExecCount for a statement that may wait for a lock at most wait. It runs
// in a savepoint of its own, with lock_timeout set to wait (and its own settings, sendWith) and
// then back to what it was, all sent with the statement in one round trip. When a lock is not
// granted in time, or Postgres ends the statement to break a deadlock, the savepoint is rolled
// back, so that the statement wrote nothing and holds no lock, and ran is false: the
// transaction goes on. When the statement ran, the savepoint stays open until the transaction
// ends or rolls back past it: released, it would leave the rows it wrote to a subtransaction
// that is done, and Postgres makes a writer waiting for such a row wait for the whole
// transaction instead, which a rollback to an earlier savepoint would then not free. Unlike
// SKIP LOCKED, it takes no row's lock before it writes the row, which cost a re-import's early
// updates 8% of Postgres's CPU (docs/architecture.md, "Early updates without a row lock each").
func (e Encoded) ExecUnlessLocked(ctx context.Context, tx pgx.Tx, wait time.Duration) (n int64, ran bool, err error) {
	if e.Empty() {
		return 0, true, nil
	}
	conn := tx.Conn().PgConn()
	b := &pgconn.Batch{}
	b.ExecParams("SAVEPOINT "+boundedWait, nil, nil, nil, nil)
	e.sendWith(b, Setting{"lock_timeout", fmt.Sprintf("%dms", max(wait.Milliseconds(), 1))})
	results, err := conn.ExecBatch(ctx, b).ReadAll()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "40P01") { // lock_not_available, deadlock_detected
		if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+boundedWait+"; RELEASE SAVEPOINT "+boundedWait).ReadAll(); err != nil {
			return 0, false, err
		}
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(results) != 1+sentWith { // the savepoint's, then sendWith's
		return 0, false, fmt.Errorf("%d results of a bounded statement's %d", len(results), 1+sentWith)
	}
	return results[1+sentAt].CommandTag.RowsAffected(), true, nil
}

// boundedWait is the savepoint ExecUnlessLocked runs its statement in.
const boundedWait = "leadpipe_bounded_wait"

// Empty reports whether e runs nothing.
func (e Encoded) Empty() bool { return e.sql == "" }

// encode encodes st's arguments, of the types oids names (one per argument), in binary: by
// hand those an update sends for each record (bigint, tid, text, boolean and jsonb arrays, as
// binaryCopy writes COPY fields, the same bytes), through m the others (numeric and date
// arrays), as pgx would.
func encode(m *pgtype.Map, st Statement, oids []uint32) (Encoded, error) {
	e := Encoded{sql: st.SQL, params: make([][]byte, len(st.Args)), oids: oids, formats: make([]int16, len(st.Args))}
	for i, arg := range st.Args {
		e.formats[i] = pgtype.BinaryFormatCode
		var c binaryCopy
		switch v := arg.(type) {
		case int64:
			c.buf = binary.BigEndian.AppendUint64(nil, uint64(v))
		case []int64:
			c.array(pgtype.Int8OID, len(v), 12, false)
			for _, x := range v {
				c.int8(x)
			}
		case pgtype.FlatArray[pgtype.Int8]:
			flatArray(&c, pgtype.Int8OID, 12, v, func(x pgtype.Int8) bool { return x.Valid }, func(x pgtype.Int8) { c.int8(x.Int64) })
		case pgtype.FlatArray[pgtype.TID]:
			flatArray(&c, pgtype.TIDOID, 10, v, func(x pgtype.TID) bool { return x.Valid }, func(x pgtype.TID) { c.tid(x.BlockNumber, x.OffsetNumber) })
		case pgtype.FlatArray[pgtype.Text]:
			size, n := 0, max(len(v), 1)
			for _, x := range v {
				size += len(x.String)
			}
			flatArray(&c, pgtype.TextOID, 4+(size+n-1)/n, v, func(x pgtype.Text) bool { return x.Valid }, func(x pgtype.Text) { c.text(x.String) })
		case pgtype.FlatArray[pgtype.Bool]:
			flatArray(&c, pgtype.BoolOID, 5, v, func(x pgtype.Bool) bool { return x.Valid }, func(x pgtype.Bool) { c.boolean(x.Bool) })
		case []string: // custom, a jsonb[]
			if oids[i] != pgtype.JSONBArrayOID {
				return Encoded{}, fmt.Errorf("encode parameter $%d: a []string for type %d", i+1, oids[i])
			}
			c.array(pgtype.JSONBOID, len(v), 8, false)
			for _, s := range v {
				c.jsonb([]byte(s))
			}
		default:
			b, err := m.Encode(oids[i], pgtype.BinaryFormatCode, arg, nil)
			if err != nil {
				return Encoded{}, fmt.Errorf("encode parameter $%d: %w", i+1, err)
			}
			c.buf = b
		}
		e.params[i] = c.buf
	}
	return e, nil
}

// flatArray writes into c an array of the elements of a, of type elem and about elemBytes
// each: put appends a valid one, a NULL one is written as such.
func flatArray[T any](c *binaryCopy, elem uint32, elemBytes int, a []T, valid func(T) bool, put func(T)) {
	c.array(elem, len(a), elemBytes, hasNull(a, valid))
	for _, x := range a {
		if !valid(x) {
			c.null()
			continue
		}
		put(x)
	}
}

// hasNull reports whether any element of a is not valid (NULL).
func hasNull[T any](a []T, valid func(T) bool) bool {
	for _, x := range a {
		if !valid(x) {
			return true
		}
	}
	return false
}
