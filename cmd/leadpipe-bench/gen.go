package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// genVersion is part of the generated file's name and metadata. Bump it whenever the
// generator's output changes, so that files written by an older generator are not reused.
const genVersion = 1

// csvHeader is the header row of every generated file: 14 columns, named the way a CRM export
// names them, so that leadpipe's auto-mapping (SPEC §3) maps every one of them.
var csvHeader = []string{
	"Email", "First Name", "Last Name", "Title", "Phone", "Mobile", "Company", "Website",
	"Street", "City", "State", "Postal Code", "Country", "Lead Source",
}

// Row mix, in basis points of all data rows (1 bp = 0.01%).
const (
	invalidBP   = 100 // rows whose email is invalid (SPEC §4): skipped as invalid_email
	duplicateBP = 300 // valid rows that repeat the email of an earlier valid row
)

// GenStats describes a generated file exactly. It is written beside the CSV as JSON so that
// a reused file comes with the same expectations as a freshly generated one.
type GenStats struct {
	Version int    `json:"version"`
	Seed    uint64 `json:"seed"`
	Rows    int    `json:"rows"`  // data rows, header excluded
	Bytes   int64  `json:"bytes"` // file size

	// Invalid counts rows with an invalid email; every one of them must be skipped with
	// reason invalid_email.
	Invalid int `json:"invalid"`
	// Distinct counts valid rows whose email (case-insensitive) appears for the first time:
	// with email-only matching into a fresh account, each creates exactly one prospect.
	Distinct int `json:"distinct"`
	// Duplicates counts valid rows whose email (case-insensitive) appeared on an earlier valid
	// row: each must come out updated or unchanged.
	Duplicates int `json:"duplicates"`

	// The rest breaks Duplicates down, and describes the file; informational only.
	DupAdjacent    int `json:"dup_adjacent"`     // repeat the email of the latest valid row
	DupExactRepeat int `json:"dup_exact_repeat"` // of those, byte-identical repeats of the previous line
	DupRecent      int `json:"dup_recent"`       // repeat one of the previous 1,000 distinct emails
	DupFar         int `json:"dup_far"`          // repeat any earlier distinct email, uniformly
	DupCaseChanged int `json:"dup_case_changed"` // the email differs in letter case from its first appearance
	QuotedRows     int `json:"quoted_rows"`      // rows with at least one quoted field
}

// Created is the number of prospects the import must create.
func (s GenStats) Created() int { return s.Distinct }

// genPaths returns the CSV path and its metadata path for a file of rows rows made with seed.
func genPaths(dir string, rows int, seed uint64) (csvPath, metaPath string) {
	base := fmt.Sprintf("leadpipe-bench-%d-seed%d-v%d", rows, seed, genVersion)
	return filepath.Join(dir, base+".csv"), filepath.Join(dir, base+".json")
}

// ensureFile returns the path and stats of the bench file with rows data rows made with seed
// in dir, generating it unless a complete file from an earlier run is there. reused reports
// whether the file was already there.
func ensureFile(dir string, rows int, seed uint64) (path string, st GenStats, reused bool, err error) {
	csvPath, metaPath := genPaths(dir, rows, seed)
	if st, ok := readMeta(csvPath, metaPath, rows, seed); ok {
		return csvPath, st, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", GenStats{}, false, fmt.Errorf("create directory %s: %w", dir, err)
	}
	// Write under a temporary name and rename, so that an interrupted run never leaves a
	// truncated file that a later run would reuse.
	tmp, err := os.CreateTemp(dir, filepath.Base(csvPath)+".tmp*")
	if err != nil {
		return "", GenStats{}, false, fmt.Errorf("create bench file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	st, err = generate(tmp, rows, seed)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return "", GenStats{}, false, fmt.Errorf("write bench file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), csvPath); err != nil {
		return "", GenStats{}, false, fmt.Errorf("rename bench file: %w", err)
	}
	meta, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", GenStats{}, false, err
	}
	if err := os.WriteFile(metaPath, append(meta, '\n'), 0o644); err != nil {
		return "", GenStats{}, false, fmt.Errorf("write bench metadata: %w", err)
	}
	return csvPath, st, false, nil
}

// readMeta returns the stats of an earlier complete generation of the same file, and false
// when there is none (missing file, other generator version, other size).
func readMeta(csvPath, metaPath string, rows int, seed uint64) (GenStats, bool) {
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return GenStats{}, false
	}
	var st GenStats
	if json.Unmarshal(b, &st) != nil || st.Version != genVersion || st.Seed != seed || st.Rows != rows {
		return GenStats{}, false
	}
	fi, err := os.Stat(csvPath)
	if err != nil || fi.Size() != st.Bytes {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "bench: cannot reuse %s: %v\n", csvPath, err)
		}
		return GenStats{}, false
	}
	return st, true
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w *os.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// generate writes a header and rows data rows to f, deterministically for seed, and returns
// the exact counts of what it wrote.
//
// Every row has an email. About 1% of the emails are invalid (no '@', no top-level domain,
// a space in the local part, two '@', a one-letter top-level domain); about 3% of the rows
// repeat the email of an earlier valid row: adjacent (half of those as a byte-identical
// repeat of the previous line), among the last 1,000 distinct emails, or anywhere earlier in
// the file; 40% of repeats upper-case part of the email they repeat. Every other email is
// new: its local part ends in the row index, so new emails never collide, even ignoring case.
func generate(f *os.File, rows int, seed uint64) (GenStats, error) {
	cw := &countingWriter{w: f}
	w := bufio.NewWriterSize(cw, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 0x1ead_b1be))
	st := GenStats{Version: genVersion, Seed: seed, Rows: rows}

	w.WriteString(strings.Join(csvHeader, ","))
	w.WriteByte('\n')

	var (
		seen      []string // distinct valid emails, in order of first appearance
		seenWho   []person // the names written with each of seen
		lastValid string   // the email of the latest valid row, as written
		lastWho   person   // the names written with lastValid
		lastK     int      // the index in seen of lastValid's first appearance
		line      []byte   // the row being written
		prev      []byte   // the previous row, when it was a new valid email
		email     []byte
		lastNew   = -1 // row index of the latest new valid email
	)
	for i := 0; i < rows; i++ {
		line = line[:0]
		r := rng.IntN(10000)
		switch {
		case r < invalidBP:
			st.Invalid++
			who := randomPerson(rng)
			email = appendInvalidEmail(email[:0], rng, who, i)
			line = appendRow(line, rng, email, who, &st)
			prev = prev[:0]
		case r < invalidBP+duplicateBP && len(seen) > 0:
			st.Duplicates++
			var src string
			var who person
			k := lastK
			switch m := rng.IntN(10); {
			case m < 3: // adjacent
				st.DupAdjacent++
				src, who = lastValid, lastWho
				if lastNew == i-1 && len(prev) > 0 && rng.IntN(2) == 0 {
					st.DupExactRepeat++
					line = append(line, prev...)
					if bytesQuoted(prev) {
						st.QuotedRows++
					}
					prev = prev[:0]
					w.Write(line)
					continue
				}
			case m < 6: // recent
				st.DupRecent++
				k = len(seen) - 1 - rng.IntN(min(len(seen), 1000))
				src, who = seen[k], seenWho[k]
			default: // far: anywhere earlier, mostly far away
				st.DupFar++
				k = rng.IntN(len(seen))
				src, who = seen[k], seenWho[k]
			}
			email = append(email[:0], src...)
			if rng.IntN(10) < 4 {
				changeCase(email, rng)
			}
			lastValid, lastWho, lastK = string(email), who, k
			if lastValid != seen[k] {
				st.DupCaseChanged++
			}
			line = appendRow(line, rng, email, who, &st)
			prev = prev[:0]
		default:
			st.Distinct++
			who := randomPerson(rng)
			email = appendNewEmail(email[:0], rng, who, i)
			lastValid, lastWho, lastK = string(email), who, len(seen)
			seen, seenWho = append(seen, lastValid), append(seenWho, who)
			line = appendRow(line, rng, email, who, &st)
			prev = append(prev[:0], line...)
			lastNew = i
		}
		if _, err := w.Write(line); err != nil {
			return st, err
		}
	}
	if err := w.Flush(); err != nil {
		return st, err
	}
	st.Bytes = cw.n
	return st, nil
}

// bytesQuoted reports whether a CSV line has a quoted field.
func bytesQuoted(line []byte) bool {
	for _, c := range line {
		if c == '"' {
			return true
		}
	}
	return false
}

// changeCase changes the letter case of an email in place, in one of three ways a user's
// spreadsheet might.
func changeCase(e []byte, rng *rand.Rand) {
	at := 0
	for at < len(e) && e[at] != '@' {
		at++
	}
	var lo, hi int
	switch rng.IntN(3) {
	case 0: // all upper case
		lo, hi = 0, len(e)
	case 1: // capitalised local part
		lo, hi = 0, 1
	default: // upper-case domain
		lo, hi = at+1, len(e)
	}
	for k := lo; k < hi && k < len(e); k++ {
		if c := e[k]; c >= 'a' && c <= 'z' {
			e[k] = c - 'a' + 'A'
		}
	}
}

// appendNewEmail appends a valid email no earlier row has: its local part is made of names
// and ends in the row index i, so no two rows' emails are equal, even ignoring case.
func appendNewEmail(b []byte, rng *rand.Rand, who person, i int) []byte {
	first, last := firstNames[who.first], lastNames[who.last]
	switch rng.IntN(4) {
	case 0:
		b = appendLower(b, first)
		b = append(b, '.')
		b = appendLower(b, last)
	case 1:
		b = appendLower(b, first[:1])
		b = appendLower(b, last)
	case 2:
		b = appendLower(b, first)
		b = append(b, '_')
		b = appendLower(b, last)
	default:
		b = append(b, first...) // keeps its capital: "Maria.Garcia12@..."
		b = append(b, '.')
		b = append(b, last...)
	}
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, '@')
	if rng.IntN(10) < 3 {
		return append(b, freeMail[rng.IntN(len(freeMail))]...)
	}
	return append(b, companies[rng.IntN(len(companies))].domain...)
}

// appendInvalidEmail appends an email that SPEC §4 rejects, in one of five ways.
func appendInvalidEmail(b []byte, rng *rand.Rand, who person, i int) []byte {
	first, last := firstNames[who.first], lastNames[who.last]
	dom := companies[rng.IntN(len(companies))].domain
	stem := dom[:strings.IndexByte(dom, '.')]
	b = appendLower(b, first)
	switch rng.IntN(5) {
	case 0: // missing '@'
		b = append(b, '.')
		b = appendLower(b, last)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, dom...)
	case 1: // missing top-level domain
		b = append(b, '.')
		b = appendLower(b, last)
		b = append(b, '@')
		b = append(b, stem...)
	case 2: // space in the local part
		b = append(b, ' ')
		b = appendLower(b, last)
		b = append(b, '@')
		b = append(b, dom...)
	case 3: // two '@'
		b = append(b, '@')
		b = appendLower(b, last)
		b = append(b, '@')
		b = append(b, dom...)
	default: // one-letter top-level domain
		b = append(b, '.')
		b = appendLower(b, last)
		b = append(b, '@')
		b = append(b, stem...)
		b = append(b, ".c"...)
	}
	return b
}

// appendRow appends one CSV line (with its newline) for the person who with the given email
// and random other values (a repeated email thus brings the same names and, mostly, other
// title, phones, company and address). Emails never need quoting; pool values are stored
// already quoted.
func appendRow(b []byte, rng *rand.Rand, email []byte, who person, st *GenStats) []byte {
	start := len(b)
	first, last := firstNames[who.first], lastNames[who.last]
	co := &companies[rng.IntN(len(companies))]
	city := &cities[rng.IntN(len(cities))]

	b = append(b, email...)
	b = append(b, ',')
	b = append(b, first...)
	b = append(b, ',')
	b = append(b, last...)
	b = append(b, ',')
	if rng.IntN(20) != 0 { // 5% without a title
		if rng.IntN(50) == 0 { // 2% with a comma or quote in the title
			b = append(b, oddTitles[rng.IntN(len(oddTitles))]...)
		} else {
			b = append(b, titles[rng.IntN(len(titles))]...)
		}
	}
	b = append(b, ',')
	b = appendPhone(b, rng, city.dial, false)
	b = append(b, ',')
	if rng.IntN(5) < 3 { // 40% without a mobile
		b = appendPhone(b, rng, city.dial, rng.IntN(2) == 0)
	}
	b = append(b, ',')
	b = append(b, co.name...)
	b = append(b, ',')
	switch rng.IntN(4) {
	case 0:
		b = append(b, "https://www."...)
	case 1:
		b = append(b, "www."...)
	case 2:
		b = append(b, "https://"...)
	}
	b = append(b, co.domain...)
	b = append(b, ',')
	if rng.IntN(10) != 0 { // 10% without a street
		suite := rng.IntN(40) == 0 // "12 Main St, Suite 300": quoted
		if suite {
			b = append(b, '"')
		}
		b = strconv.AppendInt(b, int64(1+rng.IntN(9899)), 10)
		b = append(b, ' ')
		b = append(b, streets[rng.IntN(len(streets))]...)
		if suite {
			b = append(b, ", Suite "...)
			b = strconv.AppendInt(b, int64(100+rng.IntN(900)), 10)
			b = append(b, '"')
		}
	}
	b = append(b, ',')
	b = append(b, city.city...)
	b = append(b, ',')
	b = append(b, city.state...)
	b = append(b, ',')
	b = append(b, city.postal...)
	if len(city.postal) == 3 { // a US ZIP prefix: add two digits
		b = strconv.AppendInt(b, int64(10+rng.IntN(90)), 10)
	}
	b = append(b, ',')
	b = append(b, city.country...)
	b = append(b, ',')
	b = append(b, leadSources[rng.IntN(len(leadSources))]...)
	b = append(b, '\n')
	if bytesQuoted(b[start:]) {
		st.QuotedRows++
	}
	return b
}

// appendPhone appends a phone number like "+1 555 123 4567", or "(555) 123-4567" when local.
func appendPhone(b []byte, rng *rand.Rand, dial string, local bool) []byte {
	area, mid, end := 200+rng.IntN(800), 100+rng.IntN(900), rng.IntN(10000)
	if local && dial == "+1" {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(area), 10)
		b = append(b, ") "...)
		b = strconv.AppendInt(b, int64(mid), 10)
		b = append(b, '-')
	} else {
		b = append(b, dial...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(area), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(mid), 10)
		b = append(b, ' ')
	}
	for d := 1000; d > 0; d /= 10 { // four digits, zero-padded
		b = append(b, byte('0'+end/d%10))
	}
	return b
}

// appendLower appends s in lower case (ASCII).
func appendLower(b []byte, s string) []byte {
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// person is a prospect's first and last name, as indices into firstNames and lastNames.
type person struct{ first, last uint16 }

// randomPerson returns a random person.
func randomPerson(rng *rand.Rand) person {
	return person{uint16(rng.IntN(len(firstNames))), uint16(rng.IntN(len(lastNames)))}
}

// csvQuote returns s as a CSV field, quoted when it holds a comma, quote or newline.
func csvQuote(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Value pools. Names are ASCII letters only: appendNewEmail relies on that for uniqueness.
var (
	firstNames = strings.Fields(`James Mary Robert Patricia John Jennifer Michael Linda David
		Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen
		Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley
		Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian
		Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey
		Cynthia Ryan Dorothy Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma
		Stephen Brenda Larry Pamela Justin Nicole Scott Anna Brandon Samantha Benjamin Katherine
		Samuel Christine Gregory Debra Alexander Rachel Priya Wei Mohammed Fatima Hiroshi Sofia
		Lukas Ingrid Mateo Chloe Olumide Aisha Dmitri Ana`)
	lastNames = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez
		Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee
		Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King
		Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell
		Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes
		Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey
		Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett
		Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster
		OBrien Schmidt Muller Tanaka Kowalski Novak Okafor Haddad Larsen Rossi`)
	titles = quoteAll([]string{
		"CEO", "CTO", "CFO", "COO", "Founder", "Co-Founder", "VP Sales", "VP Marketing",
		"VP Sales", "VP Engineering", "Director of Marketing", "Director of Demand Generation",
		"Head of Growth", "Marketing Manager", "Sales Manager", "Account Executive",
		"Senior Account Executive", "Sales Development Representative", "Product Manager",
		"Senior Software Engineer", "Engineering Manager", "IT Director", "Procurement Manager",
		"Operations Manager", "HR Business Partner", "Office Manager", "Controller",
		"Chief Revenue Officer", "Customer Success Manager", "Marketing Operations Specialist",
		"Partnerships Manager", "Consultant", "Analyst",
		"Account Manager", "Business Development Manager", "Data Scientist", "Buyer",
	})
	oddTitles = quoteAll([]string{"VP, Sales", "Director, Demand Generation", `Director of "Special Projects"`})
	streets   = strings.Split("Main St|Oak Ave|Maple Dr|Cedar Ln|Pine St|Elm St|Washington Blvd|"+
		"Park Ave|Lakeview Dr|Market St|Broadway|Mission St|Sunset Blvd|Highland Ave|"+
		"Church Rd|Mill Rd|River Rd|Commerce Pkwy|Technology Dr|Innovation Way", "|")
	freeMail    = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me"}
	leadSources = quoteAll([]string{"Web Form", "Trade Show", "Webinar", "Referral", "Purchased List",
		"LinkedIn", "Cold Call", "Partner", "Content Download", "",
		"Web Form", "Web Form", "Webinar", "Referral", "LinkedIn", "Partner", "Trade Show",
		"Content Download", "Cold Call", "Purchased List", ""})
	cities    = makeCities()
	companies = makeCompanies()
)

// quoteAll returns ss as CSV fields.
func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for k, s := range ss {
		out[k] = csvQuote(s)
	}
	return out
}

// city is a place with its state, postal code (a 3-digit prefix for US ZIP codes), country
// and dialling code.
type city struct{ city, state, postal, country, dial string }

func makeCities() []city {
	cs := []city{
		{"New York", "NY", "100", "United States", "+1"},
		{"San Francisco", "CA", "941", "United States", "+1"},
		{"Los Angeles", "CA", "900", "USA", "+1"},
		{"Chicago", "IL", "606", "United States", "+1"},
		{"Austin", "TX", "787", "US", "+1"},
		{"Seattle", "WA", "981", "United States", "+1"},
		{"Boston", "MA", "021", "United States", "+1"},
		{"Denver", "CO", "802", "United States", "+1"},
		{"Atlanta", "GA", "303", "USA", "+1"},
		{"Miami", "FL", "331", "United States", "+1"},
		{"Portland", "OR", "972", "United States", "+1"},
		{"Raleigh", "NC", "276", "United States", "+1"},
		{"Toronto", "ON", "M5V 2T6", "Canada", "+1"},
		{"London", "", "EC1A 1BB", "United Kingdom", "+44"},
		{"Berlin", "", "10115", "Germany", "+49"},
		{"Paris", "", "75001", "France", "+33"},
		{"Sydney", "NSW", "2000", "Australia", "+61"},
	}
	for k := range cs {
		cs[k].city = csvQuote(cs[k].city)
	}
	return cs
}

// company is an organization name (as a CSV field) with its web domain.
type company struct{ name, domain string }

// makeCompanies builds a fixed pool of about 2,000 companies: two words, an optional legal
// suffix ("Inc", "LLC", "GmbH", "Ltd"; 1 in 37 ", Inc." which needs quoting; 1 in 97 with an
// embedded quote), and a domain.
func makeCompanies() []company {
	a := strings.Fields(`Blue Red Green Silver Golden North South East West Bright Clear Swift
		Summit Pioneer Atlas Vertex Nova Apex Cobalt Granite Harbor Meadow Iron Crystal Falcon
		Orbit Quantum Rapid Solar Stellar Urban Vista Willow Zenith Acme Globex Initech Umbra
		Hooli Stark Wayne`)
	b := strings.Fields(`Analytics Systems Labs Logistics Health Dynamics Networks Software
		Partners Capital Foods Media Robotics Energy Solutions Consulting Works Holdings Retail
		Bio Security Cloud Data Design Freight Insurance Learning Motors Pharma Studios Textiles
		Ventures Wireless Goods Marine Aerospace Finance Foundry Mills Outfitters Supply Tools
		Travel Water Realty Printing`)
	suffixes := []string{"", "", "", "", " Inc", " Inc.", " LLC", " LLC", " Corp",
		"", "", " Inc", " Ltd", " GmbH", " Co.", " Group", " LLC", ""}
	tlds := []string{".com", ".com", ".com", ".io", ".co", ".net", ".co.uk", ".de"}
	var out []company
	for i, x := range a {
		for j, y := range b {
			k := i*len(b) + j
			name := x + " " + y + suffixes[k%len(suffixes)]
			if k%37 == 5 {
				name = x + " " + y + ", Inc." // a comma: quoted
			}
			if k%97 == 0 {
				name = `The "` + x + `" ` + y // an embedded quote, escaped as ""
			}
			out = append(out, company{
				name:   csvQuote(name),
				domain: strings.ToLower(x+y) + tlds[k%len(tlds)],
			})
		}
	}
	return out
}

// ensureRetitled returns the path of a copy of the CSV at path in which every row's title is
// changed ("Senior " before it), writing it unless an earlier run did: re-imported into the
// account the file went into, every row updates the prospect it matches.
func ensureRetitled(path string) (string, error) {
	out := strings.TrimSuffix(path, ".csv") + "-retitled.csv"
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	in, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("create retitled file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	r, w := csv.NewReader(bufio.NewReaderSize(in, 1<<20)), csv.NewWriter(tmp)
	r.ReuseRecord = true
	title := slices.Index(csvHeader, "Title")
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tmp.Close()
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		if n > 0 {
			rec[title] = strings.TrimSpace("Senior " + rec[title])
		}
		if err := w.Write(rec); err != nil {
			tmp.Close()
			return "", err
		}
	}
	if w.Flush(); w.Error() != nil {
		tmp.Close()
		return "", fmt.Errorf("write retitled file: %w", w.Error())
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write retitled file: %w", err)
	}
	return out, os.Rename(tmp.Name(), out)
}
