package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// binaryCopy builds the data of a COPY … FROM STDIN (FORMAT binary) by hand, for a table
// written once per imported row. pgx's CopyFrom takes a row as a slice of interfaces, boxing
// every value (an allocation each) and finding each value's encoder by its type every time;
// a writer that knows its columns' types appends each value's bytes instead. Each method
// appends one field of the Postgres type it is named for; a row starts with row.
type binaryCopy struct {
	buf []byte
}

// copySignature opens binary COPY data: the signature, no flags, no header extension.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// newBinaryCopy starts the data of rows rows of about rowBytes bytes each.
func newBinaryCopy(rows, rowBytes int) *binaryCopy {
	c := &binaryCopy{buf: make([]byte, 0, len(copySignature)+rows*rowBytes+2)}
	c.buf = append(c.buf, copySignature...)
	return c
}

// row starts a row of fields fields.
func (c *binaryCopy) row(fields int) { c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(fields)) }

// null appends a NULL.
func (c *binaryCopy) null() { c.buf = binary.BigEndian.AppendUint32(c.buf, math.MaxUint32) }

// int8 appends a bigint.
func (c *binaryCopy) int8(v int64) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
}

// int4 appends an int; the caller keeps v within its range.
func (c *binaryCopy) int4(v int) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 4)
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(int32(v)))
}

// tid appends a row's address: its block, then its line in the block.
func (c *binaryCopy) tid(block uint32, line uint16) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 6)
	c.buf = binary.BigEndian.AppendUint32(c.buf, block)
	c.buf = binary.BigEndian.AppendUint16(c.buf, line)
}

// boolean appends a boolean.
func (c *binaryCopy) boolean(v bool) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 1)
	if v {
		c.buf = append(c.buf, 1)
	} else {
		c.buf = append(c.buf, 0)
	}
}

// text appends a text, or a json (whose binary form is its text).
func (c *binaryCopy) text(s string) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(s)))
	c.buf = append(c.buf, s...)
}

// bytesText is text of bytes.
func (c *binaryCopy) bytesText(b []byte) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(b)))
	c.buf = append(c.buf, b...)
}

// jsonb appends a jsonb: a version byte, then the JSON text.
func (c *binaryCopy) jsonb(b []byte) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(1+len(b)))
	c.buf = append(c.buf, 1)
	c.buf = append(c.buf, b...)
}

// field appends one field whose bytes write appends: its length, then them.
func (c *binaryCopy) field(write func()) {
	at := len(c.buf)
	c.buf = append(c.buf, 0, 0, 0, 0)
	write()
	binary.BigEndian.PutUint32(c.buf[at:], uint32(len(c.buf)-at-4))
}

// textArray appends a text[] of one dimension, without NULLs ('{}' when ss is empty).
func (c *binaryCopy) textArray(ss []string) {
	c.field(func() {
		c.arrayHeader(pgtype.TextOID, len(ss), false)
		for _, s := range ss {
			c.text(s)
		}
	})
}

// array starts a buffer holding one array of n elements of type elem, in Postgres's binary
// form (array_recv), with room for elements of about elemBytes each: the caller then appends
// each element as a field (a length, then the bytes; null for a NULL).
func (c *binaryCopy) array(elem uint32, n, elemBytes int, nulls bool) {
	c.buf = make([]byte, 0, 20+n*elemBytes)
	c.arrayHeader(elem, n, nulls)
}

// arrayHeader appends the header of a one-dimensional array of n elements of type elem (none:
// no dimension, '{}'); nulls says whether one of them is NULL.
func (c *binaryCopy) arrayHeader(elem uint32, n int, nulls bool) {
	dims, flags := uint32(0), uint32(0)
	if n > 0 {
		dims = 1
	}
	if nulls {
		flags = 1
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf, dims)
	c.buf = binary.BigEndian.AppendUint32(c.buf, flags)
	c.buf = binary.BigEndian.AppendUint32(c.buf, elem)
	if n > 0 {
		c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(n))
		c.buf = binary.BigEndian.AppendUint32(c.buf, 1) // lower bound
	}
}

// copyTo ends the data and copies it into table's columns; it returns the rows copied.
func (c *binaryCopy) copyTo(ctx context.Context, tx pgx.Tx, table string, columns []string) (int64, error) {
	c.buf = binary.BigEndian.AppendUint16(c.buf, math.MaxUint16) // the trailer: -1
	cols := make([]string, len(columns))
	for i, col := range columns {
		cols[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", pgx.Identifier{table}.Sanitize(), strings.Join(cols, ", "))
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.buf), sql)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
