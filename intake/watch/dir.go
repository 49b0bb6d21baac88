package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// dir is one watched directory and what its scans remember.
type dir struct {
	path    string // absolute
	account string
	root    *os.Root
	seen    map[string]sighting // candidate files not claimed yet, by name
	refused map[string]string   // refused entries, by name, with why (logged once)
	lastErr string              // the last scan error logged
}

// sighting is a candidate file's signature and since when scans have seen it unchanged.
type sighting struct {
	sig   signature
	since time.Time
}

// signature is what changes when a file is written or replaced.
type signature struct {
	size  int64
	mtime int64
	ino   uint64
}

func signatureOf(fi fs.FileInfo) signature {
	ino, _ := inode(fi)
	return signature{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ino: ino}
}

// renamedIn reports whether a file looks complete at first sight: its inode changed after
// its content last did. A rename into the directory does that, and so does a copy tool
// setting the times it kept once it has written everything; a file written in place has its
// ctime equal to its mtime while it is written.
func renamedIn(fi fs.FileInfo) bool {
	_, ctime := inode(fi)
	return ctime.After(fi.ModTime())
}

// openDir opens a watched directory and makes sure its work folder is a directory of this
// user that no one else may write: the files waiting to be imported are opened from there by
// path.
func openDir(wd config.WatchDir) (*dir, error) {
	abs, err := filepath.Abs(wd.Dir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", wd.Dir, err)
	}
	if !utf8.ValidString(abs) {
		return nil, fmt.Errorf("watch %q: the path is not valid UTF-8, which the database cannot record; rename the directory", wd.Dir)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w; create the directory or fix the watch setting", wd.Dir, err)
	}
	if err := root.Mkdir(workDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		root.Close()
		return nil, fmt.Errorf("watch %s: create %s: %w", abs, workDir, err)
	}
	fi, err := root.Lstat(workDir)
	if err == nil && (!fi.IsDir() || fi.Mode().Perm()&0o022 != 0 || !ownedByMe(fi)) {
		err = errors.New("it must be a directory of this user that no one else may write (it holds the files being imported); remove it and leadpipe creates it")
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("watch %s: %s: %w", abs, workDir, err)
	}
	return &dir{path: abs, account: wd.Account, root: root, seen: map[string]sighting{}, refused: map[string]string{}}, nil
}

// list returns the names in the directory, sorted.
func (d *dir) list() ([]string, error) {
	f, err := d.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

// ready reports whether a candidate file looks complete at now: renamed in, or its size,
// mtime and inode unchanged for quiet.
func (d *dir) ready(name string, fi fs.FileInfo, now time.Time, quiet time.Duration) bool {
	sig := signatureOf(fi)
	s, ok := d.seen[name]
	if !ok || s.sig != sig {
		s = sighting{sig: sig, since: now}
		d.seen[name] = s
	}
	return renamedIn(fi) || now.Sub(s.since) >= quiet
}

// forget drops what scans remember of names no longer in the directory.
func (d *dir) forget(present map[string]bool) {
	for name := range d.seen {
		if !present[name] {
			delete(d.seen, name)
		}
	}
	for name := range d.refused {
		if !present[name] {
			delete(d.refused, name)
		}
	}
}

// workPath is where a claimed file waits for its import, relative to the directory.
func workPath(importID int64) string {
	return workDir + "/" + strconv.FormatInt(importID, 10)
}

// takeIn moves a claimed file from the directory into the work folder, with its options file
// when there is one. A file the claim's first daemon already moved stays where it is; errGone
// when the file is in neither place.
func (d *dir) takeIn(c store.WatchClaim) error {
	work := workPath(c.ImportID)
	if !exists(d.root, work) {
		// The rename is what makes the take exclusive: of daemons renaming one file, one
		// succeeds. (Over NFS a retried rename that had succeeded reports ENOENT, hence the
		// second look at work.)
		if err := d.root.Rename(c.Name, work); err != nil {
			if errors.Is(err, fs.ErrNotExist) && !exists(d.root, work) {
				return errGone
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	side := c.Name + optionsSuffix
	if exists(d.root, side) && !exists(d.root, work+optionsSuffix) {
		if err := d.root.Rename(side, work+optionsSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// request is the import request of a file in the work folder, but for its path (see
// Watcher.keep): its kind and options are its own options file's, else the directory's
// .options.json's, else the defaults (prospects, default options).
func (d *dir) request(c store.WatchClaim) (importer.Request, error) {
	work := workPath(c.ImportID)
	req := importer.Request{Account: d.account, FileName: c.Name, Source: store.SourceWatch, ID: c.ImportID}
	var err error
	switch {
	case exists(d.root, work+optionsSuffix):
		req.Kind, req.Options, err = readOptions(d.root, work+optionsSuffix, c.Name+optionsSuffix)
	case exists(d.root, dirOptions):
		req.Kind, req.Options, err = readOptions(d.root, dirOptions, dirOptions+" (the directory's default options)")
	}
	return req, err
}

// moveOut moves the file from (relative to the directory: a claimed file's work path, or the
// name of a file that could not be claimed), with its options file if any, to folder, under its
// name or a numbered one, never replacing a file, and writes text to NAME.error.txt beside it
// unless text is empty. It returns where the file went (relative to the directory), or errGone
// when from is gone. An error with a path is about the options or error file only: the file
// itself was moved.
func (d *dir) moveOut(from, name, folder, text string) (string, error) {
	if !exists(d.root, from) {
		return "", errGone
	}
	suffixes := []string{""}
	if exists(d.root, from+optionsSuffix) {
		suffixes = append(suffixes, optionsSuffix)
	}
	if text != "" {
		suffixes = append(suffixes, errorSuffix)
	}
	base, err := reserve(d.root, folder, name, suffixes)
	if err != nil {
		return "", err
	}
	if err := d.root.Rename(from, base); err != nil {
		for _, s := range suffixes {
			d.root.Remove(base + s)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", errGone
		}
		return "", err
	}
	var errs []error
	for _, s := range suffixes[1:] {
		if s == optionsSuffix {
			errs = append(errs, d.root.Rename(from+s, base+s))
		} else {
			errs = append(errs, d.root.WriteFile(base+s, []byte(text), 0o644))
		}
	}
	return base, errors.Join(errs...)
}

// errorText is what NAME.error.txt says: why, then what it is about.
func errorText(reason string, c store.WatchClaim, account string, at time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nfile: %s\ndirectory: %s\naccount: %s\n", reason, c.Name, c.Dir, account)
	if c.Queued {
		fmt.Fprintf(&b, "import: %d (%s)\n", c.ImportID, c.ImportStatus)
	}
	fmt.Fprintf(&b, "time: %s\n", at.UTC().Format(time.RFC3339))
	return b.String()
}
