package read_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/leadpipe/leadpipe/stages/read"
)

const benchRows = 100_000

var benchData = sync.OnceValue(func() []byte { return genProspects(benchRows) })

// genProspects generates a 14-column prospect list in the shape of a CRM export: some quoted
// fields with commas, a few quotes, accents and the odd empty cell.
func genProspects(rows int) []byte {
	var buf bytes.Buffer
	buf.WriteString("Email,First Name,Last Name,Company,Job Title,Phone,Mobile,City,State,Country,Website,LinkedIn,Lead Source,Notes\r\n")
	firsts := []string{"Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro"}
	lasts := []string{"Lee", "O'Brien", "Müller", "Smith", "García", "Nguyen", "Kowalski"}
	companies := []string{"Acme", "\"Globex, Inc.\"", "Initech", "\"Umbrella \"\"Bio\"\" Corp\"", "Hooli", "Stark Industries"}
	titles := []string{"CEO", "VP Sales", "\"Director, Marketing\"", "Engineer", ""}
	cities := []string{"Berlin", "New York", "São Paulo", "Tokyo", "Lyon"}
	for i := range rows {
		f, l := firsts[i%len(firsts)], lasts[i%len(lasts)]
		notes := ""
		if i%10 == 0 {
			notes = "\"Met at expo; follow up, maybe\nnext quarter\""
		}
		fmt.Fprintf(&buf, "%s.%s%d@example.com,%s,%s,%s,%s,+1 555 %07d,,%s,CA,US,https://example.com/%d,https://linkedin.com/in/u%d,web,%s\r\n",
			f, l, i, f, l, companies[i%len(companies)], titles[i%len(titles)], i, cities[i%len(cities)], i, i, notes)
	}
	return buf.Bytes()
}

func BenchmarkCSV(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := read.OpenCSV(bytes.NewReader(data), read.CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			rc, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rc.Malformed != "" {
				b.Fatal(err, rc.Malformed)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d records", n)
		}
	}
}

// BenchmarkEncodingCSV is the baseline: encoding/csv over the same bytes, reusing records.
func BenchmarkEncodingCSV(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		cr.FieldsPerRecord = -1
		n := -1
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d records", n)
		}
	}
}

func BenchmarkCSVSource(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := read.OpenCSV(bytes.NewReader(data), read.CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		src := read.NewSource(c, 2000)
		n := 0
		for {
			batch, err := src.Next(b.Context())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(batch.Rows)
		}
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
}

func BenchmarkCountRows(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := read.OpenCSV(bytes.NewReader(data), read.CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if n, err := c.CountRows(); err != nil || n != benchRows {
			b.Fatal(n, err)
		}
	}
}
