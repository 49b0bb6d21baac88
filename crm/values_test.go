package crm_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/crm"
)

func TestValidEmail(t *testing.T) {
	long := func(local int) string { return strings.Repeat("a", local) + "@example.com" } // 12 after local
	tests := []struct {
		in   string
		want bool
	}{
		// valid
		{"a@x.io", true},
		{"First.Last+tag@sub.example.co.uk", true},
		{"o'brien@x.io", true},
		{"UPPER@EXAMPLE.COM", true},
		{"a@b-c.com", true},
		{"a@1.2.com", true},
		{"user_name-1!#$%&*=?^`{|}~@x-1.y2.info", true},
		{"josé@example.com", true},
		{"a..b@x.com", true}, // the local part is only checked for spaces and printability
		{"a@xn--mnchen-3ya.de", true},
		{long(242), true}, // 254 characters
		{strings.Repeat("é", 242) + "@example.com", true},
		{"a@" + strings.Repeat("x", 63) + ".com", true},
		// invalid
		{"", false},
		{"a", false},
		{"a@b", false},
		{"a@b.c", false},
		{"a b@x.com", false},
		{"a@@x.com", false},
		{"a@x@y.com", false},
		{"@x.com", false},
		{"a@", false},
		{"a@-x.com", false},
		{"a@x-.com", false},
		{"a@x.-com", false},
		{"a@x..com", false},
		{"a@.x.com", false},
		{"a@x.c0m", false},
		{"a@x.com.", false},
		{"a@x.com-", false},
		{"a@x_y.com", false},
		{"a@x y.com", false},
		{"a@münchen.de", false},
		{"a@127.0.0.1", false},
		{"a@[127.0.0.1]", false},
		{" a@x.com", false},
		{"a@x.com ", false},
		{"a\t@x.com", false},
		{"a\x00b@x.com", false},
		{"a\x7fb@x.com", false},
		{"a\u00a0b@x.com", false},
		{"a\u200bb@x.com", false},
		{"a\xffb@x.com", false},
		{"a@" + strings.Repeat("x", 64) + ".com", false},
		{long(243), false}, // 255 characters
		{strings.Repeat("é", 243) + "@example.com", false},
	}
	for _, tt := range tests {
		if got := crm.ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseBoolean(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"1", "true", true},
		{"true", "true", true},
		{"TRUE", "true", true},
		{"True", "true", true},
		{"yes", "true", true},
		{"YES", "true", true},
		{" Yes\t", "true", true},
		{"false", "false", true},
		{"FALSE", "false", true},
		{"no", "false", true},
		{" no ", "false", true},
		{"No", "false", true},
		{"0", "", true},
		{" 0 ", "", true},
		{"", "", false},
		{"  ", "", false},
		{"2", "", false},
		{"-1", "", false},
		{"00", "", false},
		{"01", "", false},
		{"y", "", false},
		{"n", "", false},
		{"t", "", false},
		{"f", "", false},
		{"on", "", false},
		{"off", "", false},
		{"yes!", "", false},
		{"ye s", "", false},
	}
	for _, tt := range tests {
		got, ok := crm.ParseBoolean(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseBoolean(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestMatchOption(t *testing.T) {
	options := []string{"Hot", "Warm", "Cold", "Très Chaud", "N/A"}
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"Hot", "Hot", true},
		{"hot", "Hot", true},
		{"HOT", "Hot", true},
		{"  warm ", "Warm", true},
		{"TRÈS CHAUD", "Très Chaud", true},
		{"n/a", "N/A", true},
		{"", "", false},
		{"   ", "", false},
		{"Ho", "", false},
		{"Hot ish", "", false},
		{"Très  Chaud", "", false}, // inner spacing is significant
	}
	for _, tt := range tests {
		got, ok := crm.MatchOption(options, tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MatchOption(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	if got, ok := crm.MatchOption(nil, "x"); ok || got != "" {
		t.Errorf("MatchOption(nil, x) = %q, %v", got, ok)
	}
	// The first matching option wins when options differ only in case.
	if got, _ := crm.MatchOption([]string{"abc", "ABC"}, "Abc"); got != "abc" {
		t.Errorf("MatchOption first wins: got %q", got)
	}
}

func TestParseMultiPicklist(t *testing.T) {
	options := []string{"Red", "Green", "Blue"}
	tests := []struct {
		in          string
		valid       []string
		invalid     []string
		description string
	}{
		{"", nil, nil, "empty"},
		{" ; ;; ", nil, nil, "only separators"},
		{"red", []string{"Red"}, nil, "single"},
		{"red;GREEN; blue ", []string{"Red", "Green", "Blue"}, nil, "all"},
		{"blue;red", []string{"Blue", "Red"}, nil, "input order kept"},
		{"red;Red; RED ;green;red", []string{"Red", "Green"}, nil, "dedupe keeps first"},
		{"red;purple;green;Pink;purple;PURPLE", []string{"Red", "Green"}, []string{"purple", "Pink"}, "invalid dropped and deduped"},
		{"purple", nil, []string{"purple"}, "only invalid"},
		{"red,green", nil, []string{"red,green"}, "comma is not a separator"},
		{";red;", []string{"Red"}, nil, "leading and trailing separators"},
	}
	for _, tt := range tests {
		valid, invalid := crm.ParseMultiPicklist(options, tt.in)
		if !slices.Equal(valid, tt.valid) || !slices.Equal(invalid, tt.invalid) ||
			(valid == nil) != (tt.valid == nil) || (invalid == nil) != (tt.invalid == nil) {
			t.Errorf("%s: ParseMultiPicklist(%q) = %q, %q; want %q, %q", tt.description, tt.in, valid, invalid, tt.valid, tt.invalid)
		}
	}
}

func TestMergeMulti(t *testing.T) {
	tests := []struct {
		existing, imported, want []string
	}{
		{nil, nil, nil},
		{[]string{"A"}, nil, []string{"A"}},
		{nil, []string{"B", "A"}, []string{"B", "A"}},
		{[]string{"A", "B"}, []string{"C", "a", "D", "b"}, []string{"A", "B", "C", "D"}},
		{[]string{"b", "A"}, []string{"a", "B", "c"}, []string{"b", "A", "c"}},
		{[]string{"A", "a"}, []string{"C", "c"}, []string{"A", "C"}},
		{[]string{"", "A"}, []string{""}, []string{"A"}},
		{[]string{""}, []string{""}, nil},
	}
	for _, tt := range tests {
		existing := slices.Clone(tt.existing)
		imported := slices.Clone(tt.imported)
		got := crm.MergeMulti(existing, imported)
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("MergeMulti(%q, %q) = %q, want %q", tt.existing, tt.imported, got, tt.want)
		}
		if !slices.Equal(existing, tt.existing) || !slices.Equal(imported, tt.imported) {
			t.Errorf("MergeMulti(%q, %q) modified its arguments", tt.existing, tt.imported)
		}
	}
	// The result never shares the existing slice's backing array.
	existing := make([]string, 1, 10)
	existing[0] = "A"
	got := crm.MergeMulti(existing, []string{"B"})
	got[0] = "Z"
	if existing[0] != "A" {
		t.Error("MergeMulti result aliases existing")
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		// ISO 8601
		{"2024-01-31", "2024-01-31", true},
		{" 2024-01-31 ", "2024-01-31", true},
		{"2024-02-29", "2024-02-29", true},
		{"2000-02-29", "2000-02-29", true},
		{"0001-01-01", "0001-01-01", true},
		{"9999-12-31", "9999-12-31", true},
		{"2024-01-31T10:00:00Z", "2024-01-31", true},
		{"2024-01-31t10:00:00z", "2024-01-31", true},
		{"2024-01-31T23:59:59.999999999+14:00", "2024-01-31", true},
		{"2024-01-31T10:00:00,5-0500", "2024-01-31", true},
		{"2024-01-31T10:00-05", "2024-01-31", true},
		{"2024-01-31T10:00", "2024-01-31", true},
		{"2024-01-31 10:00:00", "2024-01-31", true},
		{"2024-01-31 10:00:00+00", "2024-01-31", true},
		{"2024-01-31 10:00:00 UTC", "2024-01-31", true},
		{"2024-01-31 10:00:00 +0000", "2024-01-31", true},
		{"2016-12-31T23:59:60Z", "2016-12-31", true},
		{"2023-02-29", "", false},
		{"1900-02-29", "", false},
		{"2024-04-31", "", false},
		{"2024-13-01", "", false},
		{"2024-00-10", "", false},
		{"2024-01-00", "", false},
		{"2024-01-32", "", false},
		{"0000-01-01", "", false},
		{"2024-1-31", "", false},
		{"2024-01-1", "", false},
		{"24-01-31", "", false},
		{"2024/01/31", "", false},
		{"20240131", "", false},
		{"2024-01-31T", "", false},
		{"2024-01-31T24:00:00", "", false},
		{"2024-01-31T10:60", "", false},
		{"2024-01-31T10:00:61", "", false},
		{"2024-01-31T10", "", false},
		{"2024-01-31T1:00", "", false},
		{"2024-01-31T10:00:00X", "", false},
		{"2024-01-31T10:00:00+25:00", "", false},
		{"2024-01-31T10:00:00+05:", "", false},
		{"2024-01-31x", "", false},
		{"2024-01-31  10:00", "", false},
		{"2024-01-31 10:00 AM", "", false},
		// m/d/yyyy
		{"1/31/2024", "2024-01-31", true},
		{"01/31/2024", "2024-01-31", true},
		{"1/5/2024", "2024-01-05", true},
		{"12/1/1999", "1999-12-01", true},
		{"2/29/2024", "2024-02-29", true},
		{"1/31/2024 10:00", "2024-01-31", true},
		{"1/31/2024 9:05:07", "2024-01-31", true},
		{"1/31/2024 10:00 PM", "2024-01-31", true},
		{"1/31/2024 12:00:00 am", "2024-01-31", true},
		{"2/29/2023", "", false},
		{"31/1/2024", "", false},
		{"13/1/2024", "", false},
		{"0/1/2024", "", false},
		{"1/0/2024", "", false},
		{"1/31/24", "", false},
		{"1/31/02024", "", false},
		{"001/31/2024", "", false},
		{"1/31/2024 0:00 AM", "", false},
		{"1/31/2024 13:00 PM", "", false},
		{"1/31/2024 25:00", "", false},
		{"1/31/2024 10", "", false},
		{"1/31/2024T10:00", "", false},
		{"1/31", "", false},
		{"1//2024", "", false},
		{"/31/2024", "", false},
		// spreadsheet serial day numbers (Excel 1900 system)
		{"1", "1900-01-01", true},
		{"2", "1900-01-02", true},
		{"31", "1900-01-31", true},
		{"59", "1900-02-28", true},
		{"60", "", false}, // Excel's fictitious 1900-02-29
		{"61", "1900-03-01", true},
		{"366", "1900-12-31", true},
		{"367", "1901-01-01", true},
		{"36526", "2000-01-01", true},
		{"45292", "2024-01-01", true},
		{"45351", "2024-02-29", true},
		{"045292", "2024-01-01", true},
		{"2958465", "9999-12-31", true},
		{"2958466", "", false},
		{"0", "", false},
		{"-1", "", false},
		{"+45292", "", false},
		{"45292.5", "", false},
		{"45,292", "", false},
		{"99999999", "", false},
		{"", "", false},
		{"  ", "", false},
		{"today", "", false},
		{"Jan 31, 2024", "", false},
	}
	for _, tt := range tests {
		got, ok := crm.ParseDate(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseDate(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestParseDateSerialAgainstTime checks serials after Excel's fake leap day against the time
// package: serial n is n days after 1899-12-30. Every serial up to 100,000 (year 2173) is
// checked, then a sample up to the last one.
func TestParseDateSerialAgainstTime(t *testing.T) {
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	check := func(n int) {
		want := epoch.AddDate(0, 0, n).Format(time.DateOnly)
		if got, ok := crm.ParseDate(strconv.Itoa(n)); !ok || got != want {
			t.Fatalf("ParseDate(%d) = %q, %v; want %q", n, got, ok, want)
		}
	}
	for n := 61; n <= 100000; n++ {
		check(n)
	}
	for n := 100000; n <= 2958465; n += 997 {
		check(n)
	}
	check(2958465)
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"0", "0", true},
		{"42", "42", true},
		{" 42 ", "42", true},
		{"+42", "42", true},
		{"-42", "-42", true},
		{"007", "7", true},
		{"-007", "-7", true},
		{"+007.50", "7.5", true},
		{"100", "100", true},
		{"100.00", "100", true},
		{"1.0", "1", true},
		{"1.", "1", true},
		{"1.50", "1.5", true},
		{"1.05", "1.05", true},
		{"0.5", "0.5", true},
		{"-0.5", "-0.5", true},
		{"00.50", "0.5", true},
		{"-00.50", "-0.5", true},
		{".5", "0.5", true},
		{"-.5", "-0.5", true},
		{"+.5", "0.5", true},
		{"000", "0", true},
		{"-0", "0", true},
		{"+0", "0", true},
		{"-0.0", "0", true},
		{"-.0", "0", true},
		{"0.", "0", true},
		{".0", "0", true},
		{"-000.000", "0", true},
		{"123456789012345678901234567890.123456789012345678901", "123456789012345678901234567890.123456789012345678901", true},
		{"", "", false},
		{" ", "", false},
		{"-", "", false},
		{"+", "", false},
		{".", "", false},
		{"-.", "", false},
		{"1e5", "", false},
		{"1E5", "", false},
		{"1,000", "", false},
		{"1 000", "", false},
		{"1.2.3", "", false},
		{"--1", "", false},
		{"+-1", "", false},
		{"- 1", "", false},
		{"1-", "", false},
		{"$5", "", false},
		{"5%", "", false},
		{"0x1F", "", false},
		{"NaN", "", false},
		{"Inf", "", false},
		{"١٢", "", false}, // non-ASCII digits
	}
	for _, tt := range tests {
		got, ok := crm.ParseNumber(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSplitFullName(t *testing.T) {
	tests := []struct {
		in, first, last string
	}{
		{"", "", ""},
		{"   ", "", ""},
		{"Cher", "Cher", ""},
		{"  Cher  ", "Cher", ""},
		{"John Smith", "John", "Smith"},
		{"John  Paul\tSmith", "John", "Paul Smith"},
		{" Mary\u00a0Ann   van der Berg ", "Mary", "Ann van der Berg"},
		{"Smith, John", "John", "Smith"},
		{"Smith,John", "John", "Smith"},
		{"  van der  Berg ,  Jan   Peter ", "Jan Peter", "van der Berg"},
		{"Smith,", "", "Smith"},
		{", John", "John", ""},
		{",", "", ""},
		{"John Smith, Jr.", "John", "Smith, Jr."},
		{"John Smith, PhD", "John", "Smith, PhD"},
		{"John Smith, III", "John", "Smith, III"},
		{"Smith, Jr.", "Jr.", "Smith"}, // a single word before the comma: still Last, First
		{"Smith, John Jr.", "John Jr.", "Smith"},
		{"John Smith, Jr., PhD", "John", "Smith, Jr., PhD"}, // two commas: first word rule
		{"José García", "José", "García"},
		{"García, José", "José", "García"},
	}
	for _, tt := range tests {
		first, last := crm.SplitFullName(tt.in)
		if first != tt.first || last != tt.last {
			t.Errorf("SplitFullName(%q) = %q, %q; want %q, %q", tt.in, first, last, tt.first, tt.last)
		}
	}
}

func TestCharLen(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"héllo", 5},
		{"日本語", 3},
		{"ab日本", 4},
		{"😀", 1},
		{"a\xffb", 3}, // an invalid byte counts as one character
		{strings.Repeat("x", 300), 300},
	}
	for _, tt := range tests {
		if got := crm.CharLen(tt.in); got != tt.want {
			t.Errorf("CharLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestValueAllocs pins the allocation-free paths the row pipeline relies on.
func TestValueAllocs(t *testing.T) {
	options := []string{"Red", "Green", "Blue"}
	cases := []struct {
		name string
		f    func()
	}{
		{"ValidEmail", func() { crm.ValidEmail("First.Last+tag@sub.example.co.uk") }},
		{"ValidEmail invalid", func() { crm.ValidEmail("a@x..com") }},
		{"ParseBoolean", func() { crm.ParseBoolean(" YES ") }},
		{"MatchOption", func() { crm.MatchOption(options, " green ") }},
		{"ParseDate ISO", func() { crm.ParseDate("2024-01-31T10:00:00Z") }},
		{"ParseNumber canonical", func() { crm.ParseNumber("-1234.5") }},
		{"ParseNumber trailing zeros", func() { crm.ParseNumber("+0001234.500") }},
		{"SplitFullName", func() { crm.SplitFullName("John Smith") }},
		{"SplitFullName comma", func() { crm.SplitFullName("Smith, John") }},
		{"CharLen", func() { crm.CharLen("héllo wörld") }},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
}

func BenchmarkValidEmail(b *testing.B) {
	emails := []string{
		"john.smith@example.com",
		"First.Last+tag@sub.example.co.uk",
		"o'brien@x.io",
		"a@x..com",
		"not an email",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		crm.ValidEmail(emails[i%len(emails)])
	}
}

func BenchmarkParseDate(b *testing.B) {
	dates := []string{"2024-01-31", "1/31/2024", "45292", "2024-01-31T10:00:00Z"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		crm.ParseDate(dates[i%len(dates)])
	}
}

func BenchmarkParseNumber(b *testing.B) {
	numbers := []string{"42", "-1234.5", "+007.50", ".5"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		crm.ParseNumber(numbers[i%len(numbers)])
	}
}
