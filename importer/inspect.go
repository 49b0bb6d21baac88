package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
)

// OpenedFile is a file open the way an import reads it, before any mapping: what
// `leadpipe inspect` shows.
type OpenedFile struct {
	// Reader stands at the file's first data row. A workbook's is a read.SheetReader. Read
	// its rows through Source.
	Reader read.Reader
	// Sheets lists every worksheet of a workbook, hidden ones included, in the workbook's
	// order; nil for a CSV file.
	Sheets []read.Sheet
	name   string
	in     *openFile
}

// Close closes the reader (stopping its child process, if it has one) and the file.
func (o *OpenedFile) Close() { o.in.close() }

// Source returns the file's data rows in batches of up to batchSize, as the reader's source
// does, its errors the ones an import of the file fails with.
func (o *OpenedFile) Source(batchSize int) pipeline.Source {
	return &fileSource{src: o.Reader.Source(batchSize), name: o.name}
}

// fileSource is a reader's source whose errors name the file as an import's do.
type fileSource struct {
	src  pipeline.Source
	name string
}

func (s *fileSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	var b *pipeline.Batch
	err := safely(func() (err error) {
		b, err = s.src.Next(ctx)
		return err
	})
	if err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
		return nil, readError(s.name, err)
	}
	return b, err
}

// OpenFile opens the file at path as an import of it with opts reads it — the same reader
// settings, a spreadsheet parsed where Sheets says — and lists a workbook's sheets. It needs no
// database (Pool may be nil). Its errors are the ones an import of the file fails with.
func (im *Importer) OpenFile(path string, opts crm.Options) (*OpenedFile, error) {
	name := filepath.Base(path)
	f, err := openPath(path, name)
	if err != nil {
		return nil, err
	}
	ro := im.readOptions(opts, 0, 0)
	in, err := im.openReader(f, name, ro)
	if err != nil {
		return nil, err
	}
	o := &OpenedFile{Reader: in.r, name: name, in: in}
	if _, ok := in.r.(read.SheetReader); ok {
		if o.Sheets, err = im.listSheets(in.f, name, ro); err != nil {
			in.close()
			return nil, err
		}
	}
	return o, nil
}

// openPath opens the file of a request at path, named name in messages. Anything but a regular
// file (a directory, a FIFO, a device) is refused without being opened.
func openPath(path, name string) (*os.File, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w %s: there is no such file; check its path", ErrBadFile, name)
	case err != nil:
		return nil, fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%w %s: it is %s, not a regular file; name a CSV, XLSX, XLS or ODS file", ErrBadFile, name, read.FileKind(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
	}
	return f, nil
}

// listSheets lists the worksheets of the workbook f, named name in messages, with their
// visibility (read.Sheets): in a child process when Sheets is set, as the rows are read. A
// child process that could not be started is no fault of the file.
func (im *Importer) listSheets(f *os.File, name string, opts read.Options) ([]read.Sheet, error) {
	var sheets []read.Sheet
	err := safely(func() (err error) {
		if im.Sheets != nil {
			sheets, err = im.Sheets.Sheets(f, opts)
		} else {
			sheets, err = read.Sheets(f, opts)
		}
		return err
	})
	switch {
	case errors.Is(err, isolate.ErrNotStarted):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w %s: %w", ErrBadFile, name, err)
	}
	return sheets, nil
}
