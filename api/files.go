package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/store"
)

// Files keeps uploaded original files under Dir, each at Dir/<account id>/<import id>: never
// under a name the client chose.
type Files struct {
	Dir       string
	MaxUpload int64 // bytes; larger uploads fail with *http.MaxBytesError
}

// Upload is a file received in a multipart request, spooled to disk.
type Upload struct {
	Path    string // the spooled file
	Name    string // the client's file name, made safe for display
	Options crm.Options
}

// Receive reads a multipart/form-data upload with a "file" part and an optional "options"
// part (import options as JSON), streaming the file to a temporary file under Dir and
// stopping at MaxUpload bytes. The caller must Discard or Keep the upload.
func (f *Files) Receive(w http.ResponseWriter, r *http.Request) (*Upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, f.MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("expected a multipart/form-data upload with a \"file\" part", err.Error())
	}
	up := &Upload{}
	if err := f.receive(mr, up); err != nil {
		up.Discard() // a refused upload leaves nothing on disk
		return nil, err
	}
	return up, nil
}

// receive reads the parts of an upload into up.
func (f *Files) receive(mr *multipart.Reader, up *Upload) error {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadError(err)
		}
		switch part.FormName() {
		case "file":
			if up.Path != "" {
				return badRequest("more than one \"file\" part", nil)
			}
			if err := f.spool(up, part); err != nil {
				return err
			}
		case "options":
			b, err := io.ReadAll(io.LimitReader(part, crm.MaxOptionsBytes+1)) // ParseOptions refuses more
			if err != nil {
				return uploadError(err)
			}
			opts, err := crm.ParseOptions(b)
			if err != nil {
				return err
			}
			up.Options = opts
		default:
			return badRequest(fmt.Sprintf("unexpected part %q; send \"file\" and optionally \"options\"", part.FormName()), nil)
		}
	}
	if up.Path == "" {
		return badRequest("no \"file\" part in the upload", nil)
	}
	return nil
}

func (f *Files) spool(up *Upload, part *multipart.Part) error {
	tmpDir := filepath.Join(f.Dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return err
	}
	up.Path, up.Name = tmp.Name(), SafeFileName(part.FileName())
	_, err = io.Copy(storageWriter{tmp}, part)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = storageError{cerr}
	}
	if err != nil {
		return uploadError(err)
	}
	return nil
}

// storageWriter marks the errors of writing an upload to disk as the server's.
type storageWriter struct{ w io.Writer }

func (s storageWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		err = storageError{err}
	}
	return n, err
}

// storageError is a failure to store an upload (a full files_dir, say): the server's fault.
type storageError struct{ err error }

func (e storageError) Error() string { return "store the upload: " + e.err.Error() }
func (e storageError) Unwrap() error { return e.err }

// uploadError keeps the size limit's error and the server's storage errors recognisable and
// calls the rest a bad upload.
func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	var stored storageError
	if errors.As(err, &tooBig) || errors.As(err, &stored) {
		return err
	}
	return badRequest("the upload could not be read", err.Error())
}

// Discard removes a spooled upload that will not be imported.
func (u *Upload) Discard() {
	if u != nil && u.Path != "" {
		os.Remove(u.Path)
		u.Path = ""
	}
}

// Keep moves an upload to where an import's original file lives and returns that path.
func (f *Files) Keep(u *Upload, accountID, importID int64) (string, error) {
	dir := filepath.Join(f.Dir, strconv.FormatInt(accountID, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, strconv.FormatInt(importID, 10))
	if err := os.Rename(u.Path, dst); err != nil {
		return "", err
	}
	u.Path = dst
	return dst, nil
}

// Store copies src to where import importID of the account keeps its original file, and
// returns that path. A file already there (an earlier attempt's) is replaced.
func (f *Files) Store(src io.Reader, accountID, importID int64) (string, error) {
	dir := filepath.Join(f.Dir, strconv.FormatInt(accountID, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("store an original file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".copy-*")
	if err != nil {
		return "", fmt.Errorf("store an original file: %w", err)
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	dst := filepath.Join(dir, strconv.FormatInt(importID, 10))
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("store an original file: %w", err)
	}
	return dst, nil
}

// OpenOriginal opens an import's original file for reading, at its start. It gives only the
// very file the import read: the regular file at its recorded path (never a symbolic link put
// in its place, never a FIFO or a device, which are refused without being opened) with the
// size and SHA-256 recorded when it was checked. Anything else fails with 410 Gone: retention
// removed it, or it is gone, replaced or changed.
//
// A file the files store keeps (an upload, a Kafka request's file, a watched file) can only
// change if someone with the daemon's rights changed it. An import run from the command line
// keeps the user's own file, and one from a watched directory queued by an earlier version
// recorded its copy in processed/ or failed/: others may be able to replace those, which the
// checks then refuse.
func OpenOriginal(imp store.Import) (*os.File, error) {
	gone := &httpError{status: http.StatusGone, msg: "the original file is no longer stored"}
	if imp.FilePrunedAt != nil {
		gone.detail = "removed by the files_retention setting on " + imp.FilePrunedAt.Format(time.DateOnly)
		return nil, gone
	}
	f, err := read.OpenRegular(imp.FilePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, gone
	case errors.Is(err, read.ErrNotRegular):
		gone.detail = "what is now in its place is not a regular file"
		return nil, gone
	case err != nil:
		return nil, fmt.Errorf("open the original file of import %d: %w", imp.ID, err)
	}
	same, err := sameContent(f, imp.FileSize, imp.FileSHA256)
	if err != nil || !same {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read the original file of import %d: %w", imp.ID, err)
		}
		gone.detail = "the file in its place is not the one imported (its size or SHA-256 differs)"
		return nil, gone
	}
	return f, nil
}

// sameContent reports whether f holds size bytes whose SHA-256 is sum (hex), and leaves f at
// its start.
func sameContent(f *os.File, size int64, sum string) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() != size {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, size+1)); err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return false, nil
	}
	_, err = f.Seek(0, io.SeekStart)
	return err == nil, err
}

// Owns reports whether path is a file Files stored (and so may remove).
func (f *Files) Owns(path string) bool {
	dir, err := filepath.Abs(f.Dir)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel)
}

// Prune removes the stored files of imports that ended before now - retention and records it:
// uploads, Kafka requests' files and watched files. Files of imports run from the command line
// are the user's own and are left alone.
func (f *Files) Prune(ctx context.Context, q store.Querier, retention time.Duration) (int, error) {
	dir, err := filepath.Abs(f.Dir)
	if err != nil {
		return 0, err
	}
	imps, err := store.ImportsToPrune(ctx, q, dir, time.Now().Add(-retention))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, imp := range imps {
		if !f.Owns(imp.FilePath) {
			continue // not a stored upload: the user's own file
		}
		if err := os.Remove(imp.FilePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		if err := store.MarkFilePruned(ctx, q, imp.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// SafeFileName keeps the last element of a file name, as it may be shown: without control
// characters, format characters (a right-to-left override would show "invoice\u202Efdp.exe"
// as "invoiceexe.pdf"), line or paragraph separators or quotes, at most 200 bytes; "upload"
// when nothing is left.
func SafeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		return "upload"
	}
	return name
}
