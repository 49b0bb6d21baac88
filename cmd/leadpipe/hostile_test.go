package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestServeSurvivesHostileFiles uploads every kind of hostile file of the hardening issue to
// one running daemon: each is refused (422) or fails or completes its import with a reason,
// the daemon goes on serving and importing, its goroutines come back to their number before the
// uploads, and no temporary file is left behind. (The exact error of each file is checked where
// it is read, in stages/read.)
func TestServeSurvivesHostileFiles(t *testing.T) {
	tmp := t.TempDir() // spreadsheet readers put their temporary files here
	t.Setenv("TMPDIR", tmp)
	t.Setenv("LEADPIPE_MAX_UNZIPPED_BYTES", "1048576")
	t.Setenv("LEADPIPE_MAX_SHEET_XML_BYTES", "1048576")
	d := startDaemon(t)

	files := hostileFiles(t)
	// The baseline is the daemon at rest after a first import: its Kafka clients have
	// connected and joined their group by then.
	importGood(t, d, "warm-up.csv")
	baseline := settledGoroutines()
	for _, f := range files {
		status, b := d.upload(f.name, f.data)
		switch status {
		case http.StatusUnprocessableEntity:
			var e struct{ Detail string }
			if json.Unmarshal(b, &e) != nil || e.Detail == "" {
				t.Errorf("%s: refused without a reason: %s", f.name, b)
			}
		case http.StatusAccepted:
			var queued struct {
				ImportID int64 `json:"import_id"`
			}
			if err := json.Unmarshal(b, &queued); err != nil {
				t.Fatalf("%s: %s", f.name, b)
			}
			imp := d.waitImport(queued.ImportID)
			if imp.Status == "failed" && imp.Error == "" {
				t.Errorf("%s: import failed without a reason", f.name)
			}
		default:
			t.Fatalf("%s: POST /v1/imports: %d %s; log:\n%s", f.name, status, b, d.log.String())
		}
	}

	if status, _ := d.call("GET", "/healthz", "", nil); status != http.StatusOK {
		t.Fatalf("healthz after the hostile files: %d", status)
	}
	importGood(t, d, "good.csv")

	// Idle HTTP connections keep goroutines of their own; close them first.
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for n := countGoroutines(); n > baseline; n = countGoroutines() {
		if time.Now().After(deadline) {
			buf := make([]byte, 4<<20)
			t.Fatalf("%d goroutines (Kafka's left out) after the hostile files, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
		http.DefaultClient.CloseIdleConnections()
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

// importGood imports a small good file through the daemon and fails the test unless it completes.
func importGood(t *testing.T, d *daemon, name string) {
	t.Helper()
	status, b := d.upload(name, []byte("Email,First Name\n"+name+"@hostile.example,Good\n"))
	var queued struct {
		ImportID int64 `json:"import_id"`
	}
	if status != http.StatusAccepted || json.Unmarshal(b, &queued) != nil {
		t.Fatalf("%s: %d %s", name, status, b)
	}
	if imp := d.waitImport(queued.ImportID); imp.Status != "completed" || imp.Created != 1 {
		t.Fatalf("%s: %+v", name, imp)
	}
}

// settledGoroutines returns the number of goroutines, those of the Kafka client and broker
// left out (their connection pools open and reap connections on their own schedule), once it
// has not changed for half a second.
func settledGoroutines() int {
	n := countGoroutines()
	for stable := 0; stable < 10; stable++ {
		time.Sleep(50 * time.Millisecond)
		if m := countGoroutines(); m != n {
			n, stable = m, 0
		}
	}
	return n
}

// countGoroutines counts the goroutines whose stacks are not in the Kafka libraries.
func countGoroutines() int {
	buf := make([]byte, 4<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "segmentio/kafka-go") && !strings.Contains(g, "franz-go/pkg/kfake") {
			n++
		}
	}
	return n
}

type namedFile struct {
	name string
	data []byte
}

// hostileFiles returns one file per hostile kind: the CSV fixtures of stages/read, generated
// huge fields and wide headers, and XLSX, XLS and ODS files damaged in the ways the issues list.
func hostileFiles(t *testing.T) []namedFile {
	t.Helper()
	var files []namedFile
	csvs, err := filepath.Glob("../../stages/read/testdata/csv/*.csv")
	if err != nil || len(csvs) == 0 {
		t.Fatalf("CSV fixtures: %v", err)
	}
	for _, p := range csvs {
		files = append(files, namedFile{filepath.Base(p), readTestFile(t, p)})
	}
	files = append(files,
		namedFile{"huge-field.csv", []byte("Email,Note\na@x.example," + strings.Repeat("x", 2<<20) + "\nb@x.example,ok\n")},
		namedFile{"10000-columns.csv", []byte("Email," + strings.Repeat("c,", 9999) + "\na@x.example\n")},
		namedFile{"binary.csv", []byte("\x7fELF\x02\x01\x01\x00garbage\x00\x01\x02\x03")},
	)

	xlsx := readTestFile(t, "../../importer/testdata/formats/prospects.xlsx")
	sheet := "xl/worksheets/sheet1.xml"
	corrupt := bytes.Clone(xlsx)
	if i := bytes.Index(corrupt, []byte(sheet)); i > 0 {
		for j := i + len(sheet); j < i+len(sheet)+10; j++ {
			corrupt[j] ^= 0x55 // the start of the part's compressed data
		}
	}
	files = append(files,
		namedFile{"truncated.xlsx", xlsx[:len(xlsx)*2/3]},
		namedFile{"corrupt-part.xlsx", corrupt},
		namedFile{"zip-bomb.xlsx", rezip(t, xlsx, sheet, func(s string) string {
			return strings.Replace(s, "<sheetData>", "<sheetData>"+strings.Repeat(" ", 2<<20), 1)
		})},
		namedFile{"negative-shared-string.xlsx", rezip(t, xlsx, sheet, func(s string) string {
			return strings.Replace(s, `<c r="B2" t="str"><v>Ann</v></c>`, `<c r="B2" t="s"><v>-7</v></c>`, 1)
		})},
		namedFile{"bad-style.xlsx", rezip(t, xlsx, sheet, func(s string) string {
			return strings.ReplaceAll(s, `s="1"`, `s="999"`)
		})},
		namedFile{"long-cell.xlsx", rezip(t, xlsx, sheet, func(s string) string {
			return strings.Replace(s, "<v>Able</v>", "<v>"+strings.Repeat("x", 40000)+"</v>", 1)
		})},
	)

	xls := readTestFile(t, "../../importer/testdata/formats/prospects.xls")
	hugeFAT := bytes.Clone(xls)
	binary.LittleEndian.PutUint32(hugeFAT[0x2C:], 0xFFFFFFFF) // the FAT sector count
	brokenChain := bytes.Clone(xls)
	fat := 512 * (1 + int(binary.LittleEndian.Uint32(xls[0x4C:]))) // the first FAT sector
	for i := fat; i < fat+64; i += 4 {
		binary.LittleEndian.PutUint32(brokenChain[i:], uint32(i-fat)/4) // every sector loops to itself
	}
	files = append(files,
		namedFile{"truncated.xls", xls[:len(xls)/2]},
		namedFile{"huge-fat-count.xls", hugeFAT},
		namedFile{"looping-sector-chain.xls", brokenChain},
		namedFile{"ole2-garbage.xls", append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), bytes.Repeat([]byte{0xfe, 0x01}, 2048)...)},
	)

	ods := readTestFile(t, "../../stages/read/testdata/ods/prospects.ods") // as LibreOffice wrote it
	corruptODS := bytes.Clone(ods)
	if i := bytes.Index(corruptODS, []byte("content.xml")); i > 0 {
		for j := i + len("content.xml"); j < i+len("content.xml")+10; j++ {
			corruptODS[j] ^= 0x55 // the start of the part's compressed data
		}
	}
	files = append(files,
		namedFile{"truncated.ods", ods[:len(ods)*2/3]},
		namedFile{"corrupt-part.ods", corruptODS},
		namedFile{"zip-bomb.ods", rezip(t, ods, "content.xml", func(s string) string {
			return strings.Replace(s, "<office:spreadsheet>", "<office:spreadsheet>"+strings.Repeat(" ", 2<<20), 1)
		})},
		namedFile{"deep-nesting.ods", rezip(t, ods, "content.xml", func(s string) string {
			return strings.Replace(s, "<text:p>ann@acme.com</text:p>", "<text:p>"+strings.Repeat("<text:span>", 50000)+"ann@acme.com</text:p>", 1)
		})},
		namedFile{"huge-text.ods", rezip(t, ods, "content.xml", func(s string) string {
			return strings.Replace(s, "<text:p>ann@acme.com</text:p>", "<text:p>"+strings.Repeat("ann>", 200000)+"</text:p>", 1)
		})},
		namedFile{"password.ods", rezip(t, ods, "META-INF/manifest.xml", func(s string) string {
			return strings.Replace(s, `<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>`,
				`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data/></manifest:file-entry>`, 1)
		})},
	)
	return files
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rezip returns the zip archive src with the part named name rewritten by edit.
func rezip(t *testing.T, src []byte, name string, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			b = []byte(edit(string(b)))
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b) //nolint:errcheck // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
