package read_test

import (
	"bytes"
	"crypto/rc4"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	unicode16 "unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/leadpipe/leadpipe/stages/read"
)

// The messages of a workbook protected with a password other than Excel's default one.
const (
	removePassword = "open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it, then import it again"
	xlsxProtected  = "the XLSX file is protected with a password: " + removePassword
	xlsProtected   = "the XLS file is protected with a password: " + removePassword
)

// readEncrypted opens path, checks its format and reads its header and rows.
func readEncrypted(t *testing.T, path, format string) (read.Reader, []sheetRow) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := read.Detect(f); got != format || err != nil {
		t.Errorf("Detect() = %q, %v; want %q", got, err, format)
	}
	r, err := read.Open(f, read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != format {
		t.Errorf("Format() = %q, want %q", r.Format(), format)
	}
	rows, _, err := drainSheet(t, r, 50)
	if err != nil {
		t.Fatal(err)
	}
	return r, rows
}

// TestEncryptedCorpus reads the corpus's workbooks encrypted with Excel's default password:
// poi-58616.xlsx (Standard encryption, AES-128 with a SHA-1 key), poi-50833.xls and
// messytables-encrypted_no_password.xls (BIFF8 RC4, Excel 97/2000's).
func TestEncryptedCorpus(t *testing.T) {
	xlsxTempDir(t)
	t.Run("poi-58616.xlsx", func(t *testing.T) {
		path := corpusFile(t, "poi-58616.xlsx")
		r, rows := readEncrypted(t, path, "xlsx")
		if h := r.Header(); !slices.Equal(h, []string{"EPQ Manual Template v2.3.19 Daika"}) {
			t.Errorf("header %q", h)
		}
		// 280 rows, the header the first; 60 of the others are blank. Beside their first
		// column, the rows hold a table wider than the header, so are malformed.
		if len(rows) != 220 || rows[len(rows)-1].n != 280 {
			t.Fatalf("%d rows, the last %d; want 220, the last 280", len(rows), rows[len(rows)-1].n)
		}
		xlsxCheckRows(t, rows[:3], []sheetRow{
			{2, []string{"Basic Job Info"}, ""},
			{3, []string{"Printer Name", "", "", "Daika"}, "row has 4 cells but the header has 1"},
			{4, []string{"Printer Location", "", "", "Muangchonburi, Thailand"}, "row has 4 cells but the header has 1"},
		})
		last := rows[len(rows)-1]
		if want := []string{"97575070", "", "Please Specify", "Orange DKJP-F"}; len(last.cells) != 23 || !slices.Equal(last.cells[:4], want) {
			t.Errorf("row 280: %q, want 23 cells starting %q", last.cells, want)
		}
		sheets, err := sheetsOf(t, path)
		want := []read.Sheet{{"Template", "visible"}, {"DE", "hidden"}, {"Scoring", "hidden"}, {"Score Card", "visible"},
			{"Categories", "hidden"}, {"Upversion", "hidden"}}
		if err != nil || !slices.Equal(sheets, want) {
			t.Errorf("Sheets() = %q, %v; want %q", sheets, err, want)
		}
	})
	t.Run("messytables-encrypted_no_password.xls", func(t *testing.T) {
		path := corpusFile(t, "messytables-encrypted_no_password.xls")
		r, rows := readEncrypted(t, path, "xls")
		if h := r.Header(); !slices.Equal(h, []string{"date", "temperature", "place"}) {
			t.Errorf("header %q", h)
		}
		checkXLSRows(t, rows, []sheetRow{
			{2, []string{"2011-01-01", "1", "Galway"}, ""},
			{3, []string{"2011-01-02", "-1", "Galway"}, ""},
			{4, []string{"2011-01-03", "0", "Galway"}, ""},
			{5, []string{"2011-01-01", "6", "Berkeley"}, ""},
			{6, []string{"2011-01-02", "8", "Berkeley"}, ""},
			{7, []string{"2011-01-03", "5", "Berkeley"}, ""},
		})
		sheets, err := sheetsOf(t, path)
		if want := []read.Sheet{{"simple.csv", "visible"}}; err != nil || !slices.Equal(sheets, want) {
			t.Errorf("Sheets() = %q, %v; want %q", sheets, err, want)
		}
	})
	t.Run("poi-50833.xls", func(t *testing.T) {
		path := corpusFile(t, "poi-50833.xls")
		r, rows := readEncrypted(t, path, "xls")
		if h := r.Header(); !slices.Equal(h, []string{"test cell value"}) || len(rows) != 0 {
			t.Errorf("header %q and %d rows; want only the header", h, len(rows))
		}
		sheets, err := sheetsOf(t, path)
		if want := []read.Sheet{{"Sheet1", "visible"}, {"Sheet2", "visible"}, {"Sheet3", "visible"}}; err != nil || !slices.Equal(sheets, want) {
			t.Errorf("Sheets() = %q, %v; want %q", sheets, err, want)
		}
	})
}

// encryptXLSX encrypts an XLSX package with password, with excelize's encryptor (Standard
// encryption, AES-128), an implementation of its own to check the decryptor against.
func encryptXLSX(t testing.TB, pkg []byte, password string) []byte {
	t.Helper()
	data, err := excelize.Encrypt(pkg, &excelize.Options{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// excelizeTestFile returns the path of a file of excelize's own test data, in the module cache:
// its workbooks encrypted by Excel with Agile encryption and the password "password".
func excelizeTestFile(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/xuri/excelize/v2").Output()
	if err != nil {
		t.Fatalf("finding excelize's module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "test", name)
}

// TestEncryptedXLSX reads a workbook that excelize encrypted with the default password as the
// same workbook unencrypted, and refuses the same encrypted with another password, and
// workbooks Excel encrypted (Agile) with another one, with the message saying what to do.
func TestEncryptedXLSX(t *testing.T) {
	tmp := xlsxTempDir(t)
	book := xlsxLeadsBook(t)
	r, want := readEncrypted(t, xlsxWrite(t, book), "xlsx")
	wantHeader := r.Header()
	r, got := readEncrypted(t, xlsxWrite(t, encryptXLSX(t, book, "VelvetSweatshop")), "xlsx")
	if !slices.Equal(r.Header(), wantHeader) {
		t.Errorf("header %q, want %q", r.Header(), wantHeader)
	}
	xlsxCheckRows(t, got, want)

	for name, path := range map[string]string{
		"Standard":       xlsxWrite(t, encryptXLSX(t, book, "secret")),
		"Agile, SHA-1":   excelizeTestFile(t, "encryptSHA1.xlsx"),
		"Agile, SHA-512": excelizeTestFile(t, "encryptSHA512.xlsx"),
	} {
		_, err := xlsxOpen(t, path, read.Options{})
		if err == nil || err.Error() != xlsxProtected || !errors.Is(err, read.ErrFormat) {
			t.Errorf("%s: %v\nwant %s", name, err, xlsxProtected)
		}
		if _, err := sheetsOf(t, path); err == nil || err.Error() != xlsxProtected {
			t.Errorf("%s: Sheets(): %v", name, err)
		}
	}
	xlsxNoTempFiles(t, tmp)
}

// TestEncryptedXLSProtected refuses an XLS workbook whose password is not the default one: a
// copy of a corpus file whose encrypted verifier is changed, so that the default password no
// longer decrypts to it, as with a file encrypted with another password.
func TestEncryptedXLSProtected(t *testing.T) {
	data, err := os.ReadFile(corpusFile(t, "messytables-encrypted_no_password.xls"))
	if err != nil {
		t.Fatal(err)
	}
	// FILEPASS: type 0x002F, 54 bytes; RC4 (1), version 1.1; then the salt and the verifier.
	i := bytes.Index(data, []byte{0x2F, 0, 54, 0, 1, 0, 1, 0, 1, 0})
	if i < 0 {
		t.Fatal("no FILEPASS record")
	}
	data = slices.Clone(data)
	data[i+10+16] ^= 1
	_, err = openXLSBytes(t, data, read.Options{})
	if err == nil || err.Error() != xlsProtected || !errors.Is(err, read.ErrFormat) {
		t.Errorf("got %v\nwant %s", err, xlsProtected)
	}
}

// TestEncryptedXLSXCorrupt checks that a truncated or corrupt encrypted workbook fails with
// ErrFormat, leaving no temporary file.
func TestEncryptedXLSXCorrupt(t *testing.T) {
	tmp := xlsxTempDir(t)
	data, err := os.ReadFile(corpusFile(t, "poi-58616.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	// The EncryptedPackage stream starts with the package's size, 120,332 bytes.
	pkg := bytes.Index(data, []byte{0x0c, 0xd6, 0x01, 0, 0, 0, 0, 0})
	if pkg < 0 {
		t.Fatal("no EncryptedPackage stream")
	}
	set := func(off int, b []byte) []byte {
		d := slices.Clone(data)
		copy(d[off:], b)
		return d
	}
	for _, c := range []struct {
		name   string
		data   []byte
		want   string // the message, or its start
		sheets bool   // Sheets fails too (it reads only the workbook's index)
	}{
		{"truncated", data[:len(data)*2/3],
			"the XLSX file is encrypted, and malformed: its EncryptedPackage stream is said to be 120344 bytes, more than the file's 83968 (it may be truncated)", true},
		{"package larger than its stream", set(pkg, binary.LittleEndian.AppendUint64(nil, 200_000)),
			"the XLSX file is encrypted, and malformed: its package is said to be 200000 bytes, but its EncryptedPackage stream holds 120336 (it may be truncated)", true},
		{"ciphertext changed", set(pkg+8+60_000, bytes.Repeat([]byte{0x55}, 64)), "unsupported file format: the file is not a valid XLSX workbook: ", false},
		{"package cut short", set(pkg, binary.LittleEndian.AppendUint64(nil, 60_000)), "unsupported file format: the file is not a valid XLSX workbook: ", true},
	} {
		path := xlsxWrite(t, c.data)
		_, err := xlsxOpen(t, path, read.Options{})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.Is(err, read.ErrFormat) {
			t.Errorf("%s: %v\nwant %s…", c.name, err, c.want)
		}
		if _, err := sheetsOf(t, path); c.sheets && (err == nil || !errors.Is(err, read.ErrFormat)) {
			t.Errorf("%s: Sheets(): %v", c.name, err)
		}
	}
	xlsxNoTempFiles(t, tmp)
}

// TestAgileDecrypt decrypts workbooks Excel encrypted with Agile encryption and the password
// "password" (excelize's test data), and reads from them what excelize reads with its own
// decryptor.
func TestAgileDecrypt(t *testing.T) {
	tmp := xlsxTempDir(t)
	for _, name := range []string{"encryptSHA1.xlsx", "encryptSHA512.xlsx"} {
		path := excelizeTestFile(t, name)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var plain bytes.Buffer
		if err := read.DecryptXLSX(f, "password", &plain); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := read.DecryptXLSX(f, "Password", io.Discard); err == nil || err.Error() != xlsxProtected {
			t.Errorf("%s, wrong password: %v", name, err)
		}

		book, err := excelize.OpenFile(path, excelize.Options{Password: "password"})
		if err != nil {
			t.Fatal(err)
		}
		want, err := book.GetRows(book.GetSheetList()[0])
		book.Close()
		if err != nil || len(want) == 0 {
			t.Fatalf("%s: excelize read %d rows, %v", name, len(want), err)
		}
		r, err := xlsxOpen(t, xlsxWrite(t, plain.Bytes()), read.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, _, err := drainSheet(t, r, 50)
		if err != nil {
			t.Fatal(err)
		}
		got := [][]string{r.Header()}
		for _, row := range rows {
			got = append(got, row.cells)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read %q, excelize %q", name, got, want)
		}
	}
	xlsxNoTempFiles(t, tmp)
}

// TestXLSRC4Verifier checks the RC4 key derivation against a third-party vector: msoffcrypto-
// tool's for the password "password1".
func TestXLSRC4Verifier(t *testing.T) {
	header := xlsCat(
		[]byte{0xe8, 0x77, 0x2c, 0x1d, 0x91, 0xc5, 0x6a, 0x37, 0x96, 0x47, 0x61, 0xb2, 0x80, 0x18, 0x32, 0x17},
		[]byte{0xc9, 0xe9, 0x97, 0xd4, 0x54, 0x97, 0x3d, 0x31, 0x0b, 0xb1, 0xba, 0x70, 0x14, 0x26, 0x83, 0x7e},
		[]byte{0xb1, 0xde, 0x17, 0x8f, 0x07, 0xe9, 0x89, 0xc4, 0x4d, 0xae, 0x5e, 0x4c, 0xf9, 0x6a, 0xc4, 0x07})
	if err := read.CheckXLSRC4Password(header, "password1"); err != nil {
		t.Errorf("password1: %v", err)
	}
	if err := read.CheckXLSRC4Password(header, "password2"); err == nil || err.Error() != xlsProtected {
		t.Errorf("password2: %v", err)
	}
}

// TestEncryptedXLSHostile reads an encrypted XLS file cut short everywhere and with bytes
// changed after its FILEPASS record: every failure wraps ErrFormat, none is a panic.
func TestEncryptedXLSHostile(t *testing.T) {
	data, err := os.ReadFile(corpusFile(t, "messytables-encrypted_no_password.xls"))
	if err != nil {
		t.Fatal(err)
	}
	for cut := 512; cut < len(data); cut += 97 {
		checkHostileXLS(t, data[:cut])
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	start := bytes.Index(data, []byte{0x2F, 0, 54, 0}) // FILEPASS, in the Workbook stream
	for range 300 {
		d := slices.Clone(data)
		for range 1 + rnd.IntN(4) {
			d[start+rnd.IntN(2139)] = byte(rnd.Uint32())
		}
		checkHostileXLS(t, d)
	}
}

// TestEncryptedXLSXHostile opens encrypted workbooks whose EncryptionInfo stream has bytes
// changed, Standard (binary) and Agile (XML): each opens or fails with ErrFormat, never with a
// panic, and leaves no temporary file.
func TestEncryptedXLSXHostile(t *testing.T) {
	tmp := xlsxTempDir(t)
	standard, err := os.ReadFile(corpusFile(t, "poi-58616.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	agile, err := os.ReadFile(excelizeTestFile(t, "encryptSHA512.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name       string
		data, info []byte // the file, and the start of its EncryptionInfo stream
		size       int
	}{
		{"Standard", standard, []byte{4, 0, 2, 0, 0x24, 0, 0, 0}, 248},
		{"Agile", agile, []byte{4, 0, 4, 0, 0x40, 0, 0, 0}, 1100},
	} {
		start := bytes.Index(c.data, c.info)
		if start < 0 {
			t.Fatalf("%s: no EncryptionInfo stream", c.name)
		}
		for range 15 { // each costs a password hash: 50,000 rounds of SHA-1 or 100,000 of SHA-512
			d := slices.Clone(c.data)
			for range 1 + rnd.IntN(3) {
				d[start+rnd.IntN(c.size)] = byte(rnd.Uint32())
			}
			path := xlsxWrite(t, d)
			r, err := xlsxOpen(t, path, read.Options{})
			if err == nil {
				r.(io.Closer).Close()
			} else if !errors.Is(err, read.ErrFormat) || strings.Contains(err.Error(), "reading it failed") {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
	xlsxNoTempFiles(t, tmp)
}

// buildXLSCryptoAPI builds a workbook of sheets encrypted with RC4 CryptoAPI ([MS-OFFCRYPTO]
// 2.3.5, [MS-XLS] 2.2.10), password and a key of keyBits (a 128-bit one: its FILEPASS record
// may say another length), as Excel 2002 and later write it. LibreOffice, whose decryptor is
// its own, opened a workbook built so with the default password and showed its 61 rows.
func buildXLSCryptoAPI(password string, keyBits int, sheets ...xlsSheet) []byte {
	salt := []byte("0123456789abcdef")
	pw := unicode16.Encode([]rune(password))
	h0 := sha1.New()
	h0.Write(salt)
	binary.Write(h0, binary.LittleEndian, pw)
	base := h0.Sum(nil)
	key := func(block int) []byte {
		k := sha1.Sum(binary.LittleEndian.AppendUint32(slices.Clone(base), uint32(block)))
		return k[:16]
	}
	verifier := []byte("the verifier 16b")
	hash := sha1.Sum(verifier)
	encVerifier := slices.Concat(verifier, hash[:])
	c, _ := rc4.NewCipher(key(0))
	c.XORKeyStream(encVerifier, encVerifier)

	header := xlsRec(0, uint32(0x04), uint32(0), uint32(0x6801), uint32(0x8004), uint32(keyBits), uint32(1), uint32(0), uint32(0)).body
	header = append(header, unicodeZ("Microsoft Enhanced Cryptographic Provider v1.0")...)
	filePass := xlsRec(0x002F, 1, 4, 2, uint32(0x04), uint32(len(header)), header,
		uint32(16), salt, encVerifier[:16], uint32(20), encVerifier[16:])
	stream := buildXLSStream([]xlsRecord{filePass}, sheets...)

	// The key stream of the whole stream, 1024 bytes a key, applied to what is encrypted.
	ks := make([]byte, (len(stream)+1023)/1024*1024)
	for b := 0; b*1024 < len(ks); b++ {
		c, _ := rc4.NewCipher(key(b))
		c.XORKeyStream(ks[b*1024:(b+1)*1024], ks[b*1024:(b+1)*1024])
	}
	for off, encrypting := 0, false; off+4 <= len(stream); {
		id, n := binary.LittleEndian.Uint16(stream[off:]), int(binary.LittleEndian.Uint16(stream[off+2:]))
		from := off + 4
		switch {
		case id == 0x0809 || id == 0x002F:
			from = off + 4 + n
		case id == 0x0085:
			from = off + 8
		}
		if encrypting {
			for i := from; i < off+4+n; i++ {
				stream[i] ^= ks[i]
			}
		}
		encrypting = encrypting || id == 0x002F
		off += 4 + n
	}
	return xlsBuildCFB("Workbook", stream)
}

// unicodeZ is s in UTF-16LE with a terminating NUL.
func unicodeZ(s string) []byte {
	var b []byte
	for _, c := range unicode16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// TestXLSCryptoAPI reads a workbook encrypted with RC4 CryptoAPI, a 128-bit key and the default
// password, and refuses one with another password, and one with a 40-bit key.
func TestXLSCryptoAPI(t *testing.T) {
	// Over 1024 bytes, so that the key changes within the sheet, and a record crosses the change.
	sheet := xlsSheet{name: "Leads", recs: xlsHeader("Email", "Score")}
	var want []sheetRow
	for i := range 60 {
		email := fmt.Sprintf("lead%02d@example.com", i)
		sheet.recs = append(sheet.recs, xlsLabel(i+1, 0, email), xlsNumber(i+1, 1, 0, float64(i)+0.5))
		want = append(want, sheetRow{i + 2, []string{email, fmt.Sprintf("%d.5", i)}, ""})
	}
	_, rows := readAllXLS(t, buildXLSCryptoAPI("VelvetSweatshop", 128, sheet), read.Options{})
	checkXLSRows(t, rows, want)
	_, err := openXLSBytes(t, buildXLSCryptoAPI("secret", 128, sheet), read.Options{})
	if err == nil || err.Error() != xlsProtected {
		t.Errorf("another password: %v", err)
	}
	_, err = openXLSBytes(t, buildXLSCryptoAPI("VelvetSweatshop", 40, sheet), read.Options{})
	if want := "the XLS file is protected with a password and encrypted with RC4 CryptoAPI with a 40-bit key, which is not read: " + removePassword; err == nil || err.Error() != want {
		t.Errorf("40-bit key: %v\nwant %s", err, want)
	}
}
