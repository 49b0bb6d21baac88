package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	name, sql string
	params    [][]byte
	formats   []int16
}

// Exec runs e in tx, as a statement prepared on tx's connection (once per connection and
// statement, as pgx's own statement cache does), and returns the rows it changed.
func (e Encoded) Exec(ctx context.Context, tx pgx.Tx) (int64, error) {
	if e.sql == "" {
		return 0, nil
	}
	sd, err := tx.Conn().Prepare(ctx, e.name, e.sql)
	if err != nil {
		return 0, err
	}
	tag, err := tx.Conn().PgConn().ExecPrepared(ctx, sd.Name, e.params, e.formats, nil).Close()
	return tag.RowsAffected(), err
}

// encode encodes st's arguments, of the types oids names (one per argument), in binary: by
// hand those an update sends for each record (bigint, tid, text, boolean and jsonb arrays, as
// binaryCopy writes COPY fields, the same bytes), through m the others (numeric, date and
// timestamptz arrays), as pgx would.
func encode(m *pgtype.Map, st Statement, oids []uint32) (Encoded, error) {
	sum := sha256.Sum256([]byte(st.SQL))
	e := Encoded{name: "leadpipe_" + hex.EncodeToString(sum[:12]), sql: st.SQL,
		params: make([][]byte, len(st.Args)), formats: make([]int16, len(st.Args))}
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
			c.array(pgtype.Int8OID, len(v), 12, hasNull(v, func(x pgtype.Int8) bool { return x.Valid }))
			for _, x := range v {
				if !x.Valid {
					c.null()
					continue
				}
				c.int8(x.Int64)
			}
		case pgtype.FlatArray[pgtype.Text]:
			c.array(pgtype.TextOID, len(v), 16, hasNull(v, func(x pgtype.Text) bool { return x.Valid }))
			for _, x := range v {
				if !x.Valid {
					c.null()
					continue
				}
				c.text(x.String)
			}
		case pgtype.FlatArray[pgtype.TID]:
			c.array(pgtype.TIDOID, len(v), 10, hasNull(v, func(x pgtype.TID) bool { return x.Valid }))
			for _, x := range v {
				if !x.Valid {
					c.null()
					continue
				}
				c.tid(x.BlockNumber, x.OffsetNumber)
			}
		case pgtype.FlatArray[pgtype.Bool]:
			c.array(pgtype.BoolOID, len(v), 5, hasNull(v, func(x pgtype.Bool) bool { return x.Valid }))
			for _, x := range v {
				if !x.Valid {
					c.null()
					continue
				}
				c.boolean(x.Bool)
			}
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

// hasNull reports whether any element of a is not valid (NULL).
func hasNull[T any](a []T, valid func(T) bool) bool {
	for _, x := range a {
		if !valid(x) {
			return true
		}
	}
	return false
}
