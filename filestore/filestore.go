// Package filestore keeps the original files of imports, for the drivers that bring files in
// (uploads through the API, Kafka requests' files, watched files) and for whoever serves them
// back.
//
// What it stores where: the original of import I of account A lives at Dir/A/I, never under a
// name a client chose (SafeFileName makes such a name fit to show); a file still being received
// lives under Dir/tmp until Keep moves it into place. Only the daemon writes under Dir.
//
// What its errors mean: OpenOriginal gives only the very file an import read, and fails with a
// *GoneError when that file is no longer there to give (pruned, removed, replaced or changed);
// any other error is a failure of this machine's files (a full or unreadable files_dir), not of
// the import's.
package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/store"
)

// Store keeps original files under Dir, each at Dir/<account id>/<import id>.
type Store struct {
	Dir string
}

// Temp creates a new file under Dir/tmp, named after pattern (as os.CreateTemp), for a file
// being received; Keep then moves it into place.
func (s *Store) Temp(pattern string) (*os.File, error) {
	dir := filepath.Join(s.Dir, "tmp")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, pattern)
}

// Keep moves the file at path (one of Temp's) to where import importID of the account keeps
// its original file, and returns that path.
func (s *Store) Keep(path string, accountID, importID int64) (string, error) {
	dir := filepath.Join(s.Dir, strconv.FormatInt(accountID, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, strconv.FormatInt(importID, 10))
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	return dst, nil
}

// Copy copies src to where import importID of the account keeps its original file, and
// returns that path. A file already there (an earlier attempt's) is replaced.
func (s *Store) Copy(src io.Reader, accountID, importID int64) (string, error) {
	dir := filepath.Join(s.Dir, strconv.FormatInt(accountID, 10))
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

// GoneError is OpenOriginal's answer for an original file that is no longer there to give.
type GoneError struct {
	Reason string // why, when it is known; "" when the file is simply missing
}

func (e *GoneError) Error() string { return "the original file is no longer stored" }

// OpenOriginal opens an import's original file for reading, at its start. It gives only the
// very file the import read: the regular file at its recorded path (never a symbolic link put
// in its place, never a FIFO or a device, which are refused without being opened) with the
// size and SHA-256 recorded when it was checked. Anything else fails with a *GoneError:
// retention removed it, or it is gone, replaced or changed.
//
// A file the files store keeps (an upload, a Kafka request's file, a watched file) can only
// change if someone with the daemon's rights changed it. An import run from the command line
// keeps the user's own file, and one from a watched directory queued by an earlier version
// recorded its copy in processed/ or failed/: others may be able to replace those, which the
// checks then refuse.
func OpenOriginal(imp store.Import) (*os.File, error) {
	if imp.FilePrunedAt != nil {
		return nil, &GoneError{Reason: "removed by the files_retention setting on " + imp.FilePrunedAt.Format(time.DateOnly)}
	}
	f, err := read.OpenRegular(imp.FilePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &GoneError{}
	case errors.Is(err, read.ErrNotRegular):
		return nil, &GoneError{Reason: "what is now in its place is not a regular file"}
	case err != nil:
		return nil, fmt.Errorf("open the original file of import %d: %w", imp.ID, err)
	}
	same, err := sameContent(f, imp.FileSize, imp.FileSHA256)
	if err != nil || !same {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read the original file of import %d: %w", imp.ID, err)
		}
		return nil, &GoneError{Reason: "the file in its place is not the one imported (its size or SHA-256 differs)"}
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

// Owns reports whether path is a file the store keeps (and so may remove).
func (s *Store) Owns(path string) bool {
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel)
}

// Prune removes the stored files of imports that ended before now - retention and records it:
// uploads, Kafka requests' files and watched files. Files of imports run from the command line
// are the user's own and are left alone.
func (s *Store) Prune(ctx context.Context, q store.Querier, retention time.Duration) (int, error) {
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return 0, err
	}
	imps, err := store.ImportsToPrune(ctx, q, dir, time.Now().Add(-retention))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, imp := range imps {
		if !s.Owns(imp.FilePath) {
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
