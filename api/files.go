package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
)

// Files receives uploads into a files store, which keeps each import's original file.
type Files struct {
	Store     *filestore.Store
	MaxUpload int64 // bytes; larger uploads fail with *http.MaxBytesError
}

// Upload is a file received in a multipart request, spooled to disk.
type Upload struct {
	Path string // the spooled file
	Name string // the client's file name, made safe for display
	// Kind is the kind of record the file holds, as the client named it ("": the default);
	// the importer refuses a kind it does not know, naming the kinds.
	Kind    string
	Options crm.Options
}

// Receive reads a multipart/form-data upload with a "file" part, an optional "options" part
// (import options as JSON) and an optional "kind" part (the kind of record the file holds), streaming the file to a temporary file of the files store and
// stopping at MaxUpload bytes. The caller must Discard or Keep the upload.
func (f *Files) Receive(w http.ResponseWriter, r *http.Request) (*Upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, f.MaxUpload)
	mr, err := multipartReader(r)
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

// uploadBuffer is how much of an upload is read from the connection, and written to disk, at
// a time. A multipart reader reads through a buffer of 4 KiB, and its parts return no more at
// a time: read and written that way, spooling the bench's 188 MB file made about 47,000 reads
// and as many writes, 0.4 CPU-seconds, most of them in system calls (docs/architecture.md,
// "Uploads read and written in large pieces").
const uploadBuffer = 1 << 20

// multipartReader is r.MultipartReader, reading the body through a buffer of uploadBuffer
// bytes: the multipart reader's own 4 KiB buffer then fills from memory.
func multipartReader(r *http.Request) (*multipart.Reader, error) {
	media, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (media != "multipart/form-data" && media != "multipart/mixed") {
		return nil, http.ErrNotMultipart
	}
	boundary, ok := params["boundary"]
	if !ok {
		return nil, http.ErrMissingBoundary
	}
	return multipart.NewReader(bufio.NewReaderSize(r.Body, uploadBuffer), boundary), nil
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
		case "kind":
			b, err := io.ReadAll(io.LimitReader(part, maxKindBytes+1))
			if err != nil {
				return uploadError(err)
			}
			if len(b) > maxKindBytes {
				return badRequest(fmt.Sprintf("the \"kind\" part is longer than %d bytes; send one of: %s", maxKindBytes, strings.Join(importer.Kinds(), ", ")), nil)
			}
			up.Kind = string(b)
		default:
			return badRequest(fmt.Sprintf("unexpected part %q; send \"file\" and optionally \"options\" and \"kind\"", part.FormName()), nil)
		}
	}
	if up.Path == "" {
		return badRequest("no \"file\" part in the upload", nil)
	}
	return nil
}

// maxKindBytes bounds the "kind" part of an upload: a kind's name is short.
const maxKindBytes = crm.MaxNameChars

func (f *Files) spool(up *Upload, part *multipart.Part) error {
	tmp, err := f.Store.Temp("upload-*")
	if err != nil {
		return err
	}
	up.Path, up.Name = tmp.Name(), filestore.SafeFileName(part.FileName())
	disk := bufio.NewWriterSize(tmp, uploadBuffer)
	_, err = io.Copy(storageWriter{disk}, part)
	if ferr := disk.Flush(); err == nil && ferr != nil {
		err = storageError{ferr}
	}
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
	dst, err := f.Store.Keep(u.Path, accountID, importID)
	if err != nil {
		return "", err
	}
	u.Path = dst
	return dst, nil
}

// originalError answers an original file the files store no longer has with 410 Gone, saying
// why when that is known.
func originalError(err error) error {
	var gone *filestore.GoneError
	if !errors.As(err, &gone) {
		return err
	}
	he := &httpError{status: http.StatusGone, msg: gone.Error()}
	if gone.Reason != "" {
		he.detail = gone.Reason
	}
	return he
}
