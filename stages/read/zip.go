package read

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
)

// maxZipEntries caps the parts of a zipped spreadsheet (a zip of a million empty entries is no
// workbook).
const maxZipEntries = 1 << 16

// zipFormat names a zipped spreadsheet format in the messages of the zip checks: its short name
// ("XLSX") and what a valid file of it is ("XLSX workbook").
type zipFormat struct{ name, what string }

var (
	xlsxZip = zipFormat{"XLSX", "XLSX workbook"}
	odsZip  = zipFormat{"ODS", "ODS spreadsheet"}
)

// checkZip checks the zip archive of a spreadsheet before anything is unzipped: that it is
// one, that its declared unzipped size is within the limit and that no two parts have the same
// name (compared as part names are: case-insensitively, \ as /; readers disagree on which one
// counts). Errors wrap ErrFormat and name the format.
func checkZip(ra io.ReaderAt, size, maxUnzipped int64, format zipFormat) (*zip.Reader, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%w: the file is not a valid %s: %v", ErrFormat, format.what, err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("%w: the file is not a valid %s: its zip archive has %d parts (at most %d)",
			ErrFormat, format.what, len(zr.File), maxZipEntries)
	}
	var total uint64
	names := make(map[string]bool, len(zr.File))
	for _, zf := range zr.File {
		n := zf.UncompressedSize64
		if n > uint64(maxUnzipped) || total+n > uint64(maxUnzipped) {
			return nil, fmt.Errorf("%w: the %s file unzips to more than the limit of %d bytes (%s declares %d bytes); a zip bomb or a workbook too large to import",
				ErrFormat, format.name, maxUnzipped, zf.Name, n)
		}
		total += n
		name := zipPartName(zf.Name)
		if names[name] && !strings.HasSuffix(name, "/") {
			return nil, fmt.Errorf("%w: the %s file is malformed: its zip archive holds two parts named %q, and which one counts is ambiguous",
				ErrFormat, format.name, zf.Name)
		}
		names[name] = true
	}
	return zr, nil
}

// zipPartName is a zip entry's name as part names compare: lower case, \ as /.
func zipPartName(name string) string { return strings.ToLower(strings.ReplaceAll(name, `\`, "/")) }

// zipPart returns the part of a checked archive named name (compared as part names are).
func zipPart(zr *zip.Reader, name string) *zip.File {
	for _, zf := range zr.File {
		if zipPartName(zf.Name) == name {
			return zf
		}
	}
	return nil
}

// verifyZipParts unzips every part of a checked archive: archive/zip fails a part that unzips
// to more than it declares, or to a wrong checksum, where a parser reading only some of it
// would read it short, silently.
func verifyZipParts(zr *zip.Reader, format zipFormat) error {
	for _, zf := range zr.File {
		if err := checkZipPart(zf); err != nil {
			return fmt.Errorf("%w: the file is not a valid %s: part %s: %v", ErrFormat, format.what, zf.Name, err)
		}
	}
	return nil
}

func checkZipPart(zf *zip.File) error {
	if zf.FileInfo().IsDir() {
		return nil
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if xmlCheckedPart(zf.Name) {
		return checkXML(rc)
	}
	_, err = io.Copy(io.Discard, rc)
	return err
}

// checkXML unzips a part in a goroutine of its own and checks its XML in this one, a buffer
// behind: the two take about as long (0.35 and 0.45 s for the bench's 173 MB worksheet), so on
// two cores the check costs the time of the longer rather than of both.
func checkXML(rc io.Reader) error {
	const buffers, size = 3, 256 << 10
	full, free := make(chan []byte, buffers), make(chan []byte, buffers)
	for range buffers {
		free <- make([]byte, size)
	}
	var readErr error
	go func() {
		defer close(full)
		for buf := range free {
			n, err := io.ReadFull(rc, buf)
			if n > 0 {
				full <- buf[:n]
			}
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					readErr = err
				}
				return
			}
		}
	}()
	var xc xmlChecker
	for buf := range full {
		_, _ = xc.Write(buf) // never fails: the first fault is kept for Close
		free <- buf[:cap(buf)]
	}
	if readErr != nil {
		return readErr
	}
	return xc.Close()
}
