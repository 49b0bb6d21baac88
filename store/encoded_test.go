package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// TestEncodeAsPgx checks that encode writes each argument as pgx encodes it for the same type:
// by hand the arrays an update sends for each record, NULLs included; through pgx the others.
// (An update sends no empty array; pgx would give one a dimension of length 0, binaryCopy none,
// as Postgres's array_send does.)
func TestEncodeAsPgx(t *testing.T) {
	var amount pgtype.Numeric
	if err := amount.Scan("1234.50"); err != nil {
		t.Fatal(err)
	}
	args := []struct {
		name string
		oid  uint32
		arg  any
	}{
		{"account id", pgtype.Int8OID, int64(42)},
		{"ids", pgtype.Int8ArrayOID, []int64{1, -2, 1 << 40}},
		{"texts", pgtype.TextArrayOID, pgtype.FlatArray[pgtype.Text]{{String: "Ann", Valid: true}, {}, {String: "é 🙂", Valid: true}, {String: "", Valid: true}}},
		{"texts without NULL", pgtype.TextArrayOID, pgtype.FlatArray[pgtype.Text]{{String: "x", Valid: true}}},
		{"links", pgtype.Int8ArrayOID, pgtype.FlatArray[pgtype.Int8]{{Int64: 7, Valid: true}, {}}},
		{"addresses", pgtype.TIDArrayOID, pgtype.FlatArray[pgtype.TID]{{BlockNumber: 1 << 31, OffsetNumber: 7, Valid: true}, {}}},
		{"flags", pgtype.BoolArrayOID, pgtype.FlatArray[pgtype.Bool]{{Bool: true, Valid: true}, {Bool: false, Valid: true}, {}}},
		{"custom", pgtype.JSONBArrayOID, []string{`{}`, `{"tier":"gold","tags":["a","b"]}`}},
		{"amounts (through pgx)", pgtype.NumericArrayOID, []any{amount, nil}},
		{"dates (through pgx)", pgtype.DateArrayOID, []any{pgtype.Date{Time: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Valid: true}, nil}},
	}
	m := pgtype.NewMap()
	st := Statement{SQL: "SELECT 1"}
	var oids []uint32
	for _, a := range args {
		st.Args = append(st.Args, a.arg)
		oids = append(oids, a.oid)
	}
	e, err := encode(m, st, oids)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		want, err := m.Encode(a.oid, pgtype.BinaryFormatCode, a.arg, nil)
		if err != nil {
			t.Fatalf("%s: pgx: %v", a.name, err)
		}
		if !bytes.Equal(e.params[i], want) {
			t.Errorf("%s: encoded\n%x\npgx encodes\n%x", a.name, e.params[i], want)
		}
		if e.formats[i] != pgtype.BinaryFormatCode {
			t.Errorf("%s: format %d, want binary", a.name, e.formats[i])
		}
	}
	if _, err := encode(m, Statement{SQL: "SELECT 1", Args: []any{[]string{"x"}}}, []uint32{pgtype.TextArrayOID}); err == nil {
		t.Error("a []string for a text[] was encoded as jsonb")
	}
}
