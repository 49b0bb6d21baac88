package read

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/leadpipe/leadpipe/pipeline"
)

// Reader is an open import file, whatever its format, positioned after its header.
type Reader interface {
	// Header returns the header cells, trimmed.
	Header() []string
	// HeaderRow returns the row number of the header, as the user's program shows it.
	HeaderRow() int
	// Format names the file's format: "csv", "xlsx", "xls" or "ods".
	Format() string
	// CountRows reads the rest of the file and returns its non-blank data rows, malformed
	// ones included. The reader is spent afterwards.
	CountRows() (int, error)
	// Source returns the rest of the file as a pipeline source of batches of up to
	// batchSize rows.
	Source(batchSize int) pipeline.Source
}

// SheetReader is a Reader of one worksheet of a workbook: the readers of XLSX, XLS and ODS files
// (and of their child processes, isolate.Reader) are. Sheet names the worksheet being read.
type SheetReader interface {
	Reader
	Sheet() string
}

// Options tune Open.
type Options struct {
	// CSV tunes CSV files; its StartRow also resumes spreadsheets (they have no offsets).
	CSV CSVOptions
	// Sheet names the worksheet of a spreadsheet to read; the first one when empty.
	Sheet string
	// MaxUnzippedBytes caps the total unzipped size of an XLSX or ODS file, and MaxSheetXMLBytes
	// what an XLSX file's parts other than its worksheets (which are streamed) may hold in
	// memory: the shared strings' text and each part excelize reads; more goes through a
	// temporary file. 0 means the defaults: 1 GiB and 16 MiB.
	MaxUnzippedBytes, MaxSheetXMLBytes int64
}

// ErrFormat is returned for a file whose content is no format leadpipe reads.
var ErrFormat = errors.New("unsupported file format")

// The signatures that tell formats apart, whatever the file's name says.
var (
	zipSignature  = []byte("PK\x03\x04")
	ole2Signature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Open detects f's format by its content — an XLSX workbook or an ODS spreadsheet (zip
// archives, see Detect; or an OLE2 compound file holding an XLSX workbook encrypted with Excel's
// default password), a legacy XLS workbook (an OLE2 compound file, or an Excel 3.0/4.0
// worksheet) or else text, read as CSV — and opens it. Errors say what is
// wrong with the file and wrap ErrEmpty, ErrNotText, ErrNoHeader, ErrTooManyColumns or
// ErrFormat; reading past a row limit gives ErrTooManyRows.
func Open(f *os.File, opts Options) (Reader, error) {
	format, err := Detect(f)
	if err != nil {
		return nil, err
	}
	switch format {
	case "xlsx":
		return openXLSX(f, opts)
	case "xls":
		return openXLS(f, opts)
	case "ods":
		return openODS(f, opts)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	return OpenCSV(f, opts.CSV)
}

// Detect names the format Open reads f as, by its content: "ods" (a zip archive that is an
// OpenDocument file, see isODS), "xlsx" (any other zip archive, or an OLE2 compound file holding
// an encrypted XLSX package), "xls" (another OLE2 compound file, or a BIFF stream without one:
// an Excel 2.x–4.x worksheet) or "csv" (anything else).
func Detect(f *os.File) (string, error) {
	head, err := fileHead(f)
	if err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, zipSignature):
		st, err := f.Stat()
		if err != nil {
			return "", fmt.Errorf("read file: %w", err)
		}
		if isODS(f, st.Size()) {
			return "ods", nil
		}
		return "xlsx", nil
	case bytes.HasPrefix(head, ole2Signature):
		if isEncryptedXLSX(f) {
			return "xlsx", nil
		}
		return "xls", nil
	case isBIFFStream(head):
		return "xls", nil
	}
	return "csv", nil
}

// IsWorkbook reports whether Detect names f a workbook format (XLSX, XLS or ODS) rather than
// CSV, reading only f's first 8 bytes: telling the workbook formats apart reads a zip's or an
// OLE2 file's directory, which a crafted file can make large.
func IsWorkbook(f *os.File) (bool, error) {
	head, err := fileHead(f)
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(head, zipSignature) || bytes.HasPrefix(head, ole2Signature) || isBIFFStream(head), nil
}

// fileHead reads the first bytes of f, as many as tell its format family (fewer in a shorter
// file).
func fileHead(f *os.File) ([]byte, error) {
	head := make([]byte, len(ole2Signature))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read file: %w", err)
	}
	return head[:n], nil
}

// isBIFFStream reports whether head starts like a BIFF stream without an OLE2 container, an
// Excel 2.x–4.x worksheet or a bare Workbook stream: a BOF record of a plausible length.
func isBIFFStream(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	n := le.Uint16(head[2:])
	return isBOF(le.Uint16(head)) && n >= 4 && n <= 20
}

// isOLE2 reports whether f starts with the signature of an OLE2 compound file.
func isOLE2(f *os.File) bool {
	head := make([]byte, len(ole2Signature))
	n, _ := f.ReadAt(head, 0)
	return bytes.Equal(head[:n], ole2Signature)
}

// Format names the CSV format.
func (c *CSV) Format() string { return "csv" }

// Source returns the rest of the file as batches (see NewSource).
func (c *CSV) Source(batchSize int) pipeline.Source { return NewSource(c, batchSize) }

// FileKind names the kind of file a mode is, for a message that refuses anything but a
// regular file: "a symbolic link", "a directory", "a FIFO", "a device", "a socket".
func FileKind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
