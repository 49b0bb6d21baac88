package store

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
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
}

// Exec runs e in tx, as an unnamed statement: its text varies with the columns an update sets,
// and statements prepared by name would pile up on each connection.
func (e Encoded) Exec(ctx context.Context, tx pgx.Tx) error {
	_, err := e.ExecCount(ctx, tx)
	return err
}

// ExecCount is Exec, and returns how many rows the statement wrote.
func (e Encoded) ExecCount(ctx context.Context, tx pgx.Tx) (int64, error) {
	if e.Empty() {
		return 0, nil
	}
	tag, err := tx.Conn().PgConn().ExecParams(ctx, e.sql, e.params, e.oids, e.formats, nil).Close()
	return tag.RowsAffected(), err
}

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
