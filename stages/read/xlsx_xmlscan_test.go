package read

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// TestXMLScannerOneByteAtATime reads a document through a reader that hands out one byte at a
// time, so that every tag, reference, CDATA section and line end is split across reads, and a
// tag of 256 KiB makes the buffer grow (in a number of fills that grows with the log of its
// length, not with its length: each rescans the tag from its start).
func TestXMLScannerOneByteAtATime(t *testing.T) {
	long := strings.Repeat("y", 256<<10)
	doc := "<?xml version=\"1.0\"?><!-- c --><r><v a='" + long + "'>a&amp;b&#x41;\r\nc<![CDATA[<&>]]>d</v><?pi x?></r>"
	sc := newXMLScanner(iotest.OneByteReader(strings.NewReader(doc)), 1<<20)
	var got []string
	var text []byte
	for {
		tok, err := sc.next(&text)
		if err != nil {
			t.Fatal(err)
		}
		if tok == xmlEOF {
			break
		}
		switch tok {
		case xmlStart:
			_, v, _ := nextAttr(sc.attrs)
			got = append(got, fmt.Sprintf("<%s %d>", sc.name, len(v)))
		case xmlEnd:
			got = append(got, fmt.Sprintf("</%s>", sc.name))
		case xmlChars:
			got = append(got, string(text))
			text = text[:0]
		}
	}
	want := []string{"<r 0>", fmt.Sprintf("<v %d>", len(long)), "a&bA\nc", "<&>", "d", "</v>", "</r>"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("tokens %.200q\nwant %.200q", got, want)
	}
}

// TestXMLScannerCapsText: a text longer than the scanner's cap is cut while it is read, never
// held whole.
func TestXMLScannerCapsText(t *testing.T) {
	doc := "<v>" + strings.Repeat("x", 8<<20) + "</v>"
	sc := newXMLScanner(strings.NewReader(doc), 1000)
	if tok, err := sc.next(nil); tok != xmlStart || err != nil {
		t.Fatalf("%v %v", tok, err)
	}
	text, err := readElementText(sc, nil)
	if err != nil || len(text) != 1000 || cap(text) > 1<<20 {
		t.Errorf("text of %d bytes (capacity %d), %v; want 1000 bytes, capacity under 1 MiB", len(text), cap(text), err)
	}
}

// TestSharedStringsInFiles: past the limit, the texts and the ends of a shared-string table
// (here mostly empty strings, all ends) go to temporary files, and read back the same.
func TestSharedStringsInFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("<sst>")
	var want []string
	for i := range 3000 {
		s := ""
		if i%3 == 0 {
			s = fmt.Sprintf("text %d", i)
		}
		want = append(want, s)
		fmt.Fprintf(&b, "<si><t>%s</t></si>", s)
	}
	b.WriteString("</sst>")
	dir := t.TempDir()
	sst, err := readSharedStrings(strings.NewReader(b.String()), dir, 256)
	if err != nil {
		t.Fatal(err)
	}
	defer sst.close()
	if sst.texts.f == nil || sst.endsF.f == nil || sst.data != nil || sst.ends != nil {
		t.Errorf("texts in a file: %v, ends in a file: %v; in memory: %d bytes, %d ends",
			sst.texts.f != nil, sst.endsF.f != nil, len(sst.data), len(sst.ends))
	}
	for i, w := range want {
		if got, ok, err := sst.get(i); !ok || err != nil || string(got) != w {
			t.Fatalf("text %d: %q %v %v, want %q", i, got, ok, err, w)
		}
	}
	if _, ok, _ := sst.get(len(want)); ok {
		t.Error("a text past the end")
	}
	if err := sst.close(); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) > 0 {
		t.Errorf("left in the directory: %v %v", left, err)
	}
}
