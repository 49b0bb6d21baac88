package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/stages/read"
)

// source brings the file a request names into the files store: a file under file_root, or
// the body of an allowed http(s) URL. It copies rather than imports in place: the producer may
// delete or rewrite its file once the request's offset is committed, and a queued import must
// still find the bytes it was checked against (and resume from a checkpoint into them).
type source struct {
	root     *os.Root
	rootDirs []string // file_root made absolute, and where it leads when it is a symbolic link
	allow    map[string]bool
	maxFetch int64
	timeout  time.Duration
	client   *http.Client
	files    *filestore.Store
}

// openSource opens file_root (creating it when missing) and reads the URL allow-list.
func openSource(fileRoot, allowList string, maxFetch int64, timeout time.Duration, files *filestore.Store) (*source, error) {
	abs, err := filepath.Abs(fileRoot)
	if err != nil {
		return nil, fmt.Errorf("file_root %q: %w", fileRoot, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("file_root: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("file_root: %w", err)
	}
	s := &source{root: root, rootDirs: []string{abs}, allow: map[string]bool{}, maxFetch: maxFetch, timeout: timeout, files: files}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		s.rootDirs = append(s.rootDirs, real)
	}
	for _, h := range strings.Split(allowList, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			s.allow[h] = true
		}
	}
	s.client = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		_, err := s.allowed(req.URL.String())
		return err
	}}
	return s, nil
}

// Close releases file_root.
func (s *source) Close() error { return s.root.Close() }

// store copies the file a request names to where import importID of the account keeps its
// original file, and returns that path.
func (s *source) store(ctx context.Context, file string, accountID, importID int64) (string, error) {
	var tmp string
	var err error
	if isURL(file) {
		tmp, err = s.fetch(ctx, file)
	} else {
		tmp, err = s.copyLocal(file)
	}
	if err != nil {
		return "", err
	}
	kept, err := s.files.Keep(tmp, accountID, importID)
	if err != nil {
		os.Remove(tmp)
		return "", &storeError{err}
	}
	return kept, nil
}

// displayName is the name an import of file shows when the request gives none.
func displayName(file string) string {
	if isURL(file) {
		if u, err := url.Parse(file); err == nil {
			file = path.Base(u.Path)
		}
	}
	return filestore.SafeFileName(file)
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// isURL reports whether file is written as a URL (scheme://…) rather than as a path.
func isURL(file string) bool {
	i := strings.Index(file, "://")
	return i > 0 && schemeRE.MatchString(file[:i])
}

// copyLocal copies a file under file_root to a temporary file of the files store.
func (s *source) copyLocal(name string) (string, error) {
	f, err := s.open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tmp, _, err := s.spool(rejectReads{r: f, reason: ReasonUnreadableFile, what: name})
	return tmp, err
}

// open opens a regular file under file_root. Paths leaving the root (through "..", an absolute
// path elsewhere or a symbolic link) and anything but a regular file are refused, and a FIFO or
// device is never opened: it is refused on its metadata, and the file is opened non-blocking and
// checked to be the one that was looked at.
func (s *source) open(name string) (*os.File, error) {
	rel, err := s.relative(name)
	if err != nil {
		return nil, err
	}
	st, err := s.root.Stat(rel)
	if err != nil {
		return nil, rootError(name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, reject(ReasonForbiddenFile, "%s is %s, not a regular file", name, read.FileKind(st.Mode()))
	}
	f, err := s.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, rootError(name, err)
	}
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		f.Close()
		return nil, reject(ReasonUnreadableFile, "%s changed while it was being opened; send the request again once the file is in place", name)
	}
	return f, nil
}

// relative returns name relative to file_root, refusing names that leave it.
func (s *source) relative(name string) (string, error) {
	if filepath.IsAbs(name) {
		for _, dir := range s.rootDirs {
			if rel, err := filepath.Rel(dir, name); err == nil && filepath.IsLocal(rel) {
				return rel, nil
			}
		}
		return "", reject(ReasonForbiddenFile, "%s is not under file_root (%s); name a file under it", name, s.rootDirs[0])
	}
	if !filepath.IsLocal(name) {
		return "", reject(ReasonForbiddenFile, "%s leads out of file_root (%s); name a file under it", name, s.rootDirs[0])
	}
	return name, nil
}

// rootError says why a name under file_root could not be looked at or opened.
func rootError(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return reject(ReasonMissingFile, "there is no file %s under file_root", name)
	case errors.Is(err, fs.ErrPermission):
		return reject(ReasonUnreadableFile, "%s cannot be read: %v", name, err)
	}
	// os.Root refuses a symbolic link that leads out of the root ("path escapes from parent").
	return reject(ReasonForbiddenFile, "%s cannot be opened under file_root: %v", name, err)
}

// allowed parses a URL and checks that it may be fetched: http or https, on an allowed host.
func (s *source) allowed(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, reject(ReasonForbiddenFile, "%q is not a valid URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, reject(ReasonForbiddenFile, "%s: only http and https URLs are fetched; name other files by a path under file_root", u.Redacted())
	}
	if host := strings.ToLower(u.Hostname()); !s.allow[host] {
		return nil, reject(ReasonForbiddenFile, "%s: host %q is not on url_allow_list", u.Redacted(), host)
	}
	return u, nil
}

// fetch downloads an allowed URL to a temporary file of the files store, in at most
// fetch_timeout and max_fetch_bytes. A URL that fails is the request's fault: it is not
// retried.
func (s *source) fetch(ctx context.Context, raw string) (string, error) {
	u, err := s.allowed(raw)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", reject(ReasonForbiddenFile, "%s: %v", u.Redacted(), err)
	}
	what := "GET " + u.Redacted()
	resp, err := s.client.Do(req)
	if err != nil {
		var rej *Rejection
		if errors.As(err, &rej) { // a redirect to a URL that is not allowed
			return "", rej
		}
		return "", fetchError(ctx, what, s.timeout, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", reject(ReasonFetchFailed, "%s: %s", what, resp.Status)
	}
	if resp.ContentLength > s.maxFetch {
		return "", reject(ReasonTooLarge, "%s: %d bytes, more than max_fetch_bytes (%d)", what, resp.ContentLength, s.maxFetch)
	}
	tmp, n, err := s.spool(rejectReads{r: io.LimitReader(resp.Body, s.maxFetch+1), reason: ReasonFetchFailed, what: what})
	if err != nil {
		var rej *Rejection
		if errors.As(err, &rej) && ctx.Err() != nil {
			return "", fetchError(ctx, what, s.timeout, ctx.Err())
		}
		return "", err
	}
	if n > s.maxFetch {
		os.Remove(tmp)
		return "", reject(ReasonTooLarge, "%s: more than max_fetch_bytes (%d bytes)", what, s.maxFetch)
	}
	return tmp, nil
}

// fetchError rejects a fetch that failed, saying so when it ran out of time.
func fetchError(ctx context.Context, what string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return reject(ReasonFetchFailed, "%s did not finish within fetch_timeout (%s)", what, timeout)
	}
	return reject(ReasonFetchFailed, "%s: %v", what, err)
}

// spool copies src to a new temporary file of the files store. Errors writing it are this
// daemon's (a full disk, say) and come back as a *storeError, to be retried; src reports its
// own errors as rejections (see rejectReads).
func (s *source) spool(src io.Reader) (string, int64, error) {
	f, err := s.files.Temp("request-*")
	if err != nil {
		return "", 0, &storeError{err}
	}
	n, err := io.Copy(f, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		var rej *Rejection
		if !errors.As(err, &rej) {
			err = &storeError{err}
		}
		return "", 0, err
	}
	return f.Name(), n, nil
}

// storeError is a failure to write a request's file into the files store: this daemon's
// fault, not the request's (see storeUnusable).
type storeError struct{ err error }

func (e *storeError) Error() string { return "store request file: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// rejectReads turns the errors of reading a request's file into rejections: they are the
// file's fault, unlike those of writing its copy.
type rejectReads struct {
	r            io.Reader
	reason, what string
}

func (r rejectReads) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = reject(r.reason, "%s: %v", r.what, err)
	}
	return n, err
}
