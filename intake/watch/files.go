package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/read"
)

// The folders of a watched directory that leadpipe writes: claimed files wait in workDir for
// their import; finished ones go to processedDir or failedDir.
const (
	workDir      = ".leadpipe"
	processedDir = "processed"
	failedDir    = "failed"
)

// The files that accompany a file: its import options (NAME.options.json, or the directory's
// own .options.json) and, in failed/, why it failed (NAME.error.txt).
const (
	optionsSuffix = ".options.json"
	errorSuffix   = ".error.txt"
	dirOptions    = optionsSuffix
)

// errGone is returned when a claimed file is no longer where it should be.
var errGone = errors.New("the file is gone")

// entryClass is what a scan makes of a directory entry.
type entryClass int

const (
	candidate entryClass = iota // a regular file to import once it is complete
	ignored                     // leadpipe's own folders, hidden and temporary files, options and error files
	refused                     // anything else: never opened
)

// temporarySuffixes are the endings of names that tools write to before renaming.
var temporarySuffixes = []string{".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", "~"}

// classify tells what a directory entry is from its name and its Lstat mode, and why it is
// refused.
func classify(name string, mode fs.FileMode) (entryClass, string) {
	switch {
	case !isLocal(name):
		return refused, "its name escapes the directory"
	case strings.HasPrefix(name, "."), name == processedDir, name == failedDir,
		strings.HasSuffix(name, optionsSuffix), strings.HasSuffix(name, errorSuffix):
		return ignored, ""
	}
	for _, s := range temporarySuffixes {
		if strings.HasSuffix(name, s) {
			return ignored, ""
		}
	}
	if mode.IsRegular() {
		return candidate, ""
	}
	return refused, "it is " + read.FileKind(mode) + ", not a regular file"
}

// isLocal reports whether name stays in the directory it is read in.
func isLocal(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// openRegular opens name under root for reading, and keeps it only if what it opened is a
// regular file (read.ErrNotRegular otherwise): see read.OpenRegularAt. (Root.OpenFile would
// follow a symbolic link that stays in the root, and block on a FIFO.)
func openRegular(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	parent, err := root.Open(path.Dir(name))
	if err != nil {
		return nil, nil, err
	}
	defer parent.Close()
	f, err := read.OpenRegularAt(parent, path.Base(name))
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// hashFile returns the SHA-256 of what f holds, in hex.
func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// exists reports whether root holds an entry called name (of any type). A name too long to
// be a file name (the options file of a file whose name is near the limit) names nothing.
func exists(root *os.Root, name string) bool {
	_, err := root.Lstat(name)
	return !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENAMETOOLONG)
}

// readOptions reads the options file name under root (shown is its name in errors): the kind of
// record its files hold, "" when it names none, and the import options, strictly (as the
// command line's --options file). A kind that is none of the kinds is an error naming them.
func readOptions(root *os.Root, name, shown string) (string, crm.Options, error) {
	f, _, err := openRegular(root, name)
	if err != nil {
		return "", crm.Options{}, unreadableOptions(shown, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, crm.MaxOptionsBytes+1)) // ParseOptions refuses more
	if err != nil {
		return "", crm.Options{}, unreadableOptions(shown, err)
	}
	kind, b, err := takeKind(b) // the importer checks it is a kind of the account's imports
	if err != nil {
		return "", crm.Options{}, fmt.Errorf("options file %s: %w: kind: %w", shown, crm.ErrInvalidOptions, err)
	}
	o, err := crm.ParseOptions(b)
	if err != nil {
		return "", crm.Options{}, fmt.Errorf("options file %s: %w", shown, err)
	}
	return kind, o, nil
}

// takeKind takes the "kind" key out of an options file's JSON object and returns its value and
// the rest of the object, for crm.ParseOptions to parse as strictly as every source's options.
// A document that is not an object with a kind (or is over the options' cap) is returned as it
// is: crm.ParseOptions says what is wrong with it, if anything.
//
// The kind is taken out here rather than added to crm.Options so that it has one source of
// truth: it is what an import is (importer.Request.Kind, stored in imports.kind), which every
// other source names beside the options (a --kind flag, a multipart part, a request's field),
// not how its rows are written. In crm.Options it would be stored twice, in imports.kind and
// in imports.options, and every source would have two values to reconcile.
func takeKind(b []byte) (string, []byte, error) {
	var doc map[string]json.RawMessage
	if len(b) > crm.MaxOptionsBytes || json.Unmarshal(b, &doc) != nil || doc["kind"] == nil {
		return "", b, nil
	}
	var kind string
	if err := json.Unmarshal(doc["kind"], &kind); err != nil {
		return "", nil, fmt.Errorf("%s is not a string; name one of the kinds: %s, or one of the account's object type keys", doc["kind"], strings.Join(importer.Kinds(), ", "))
	}
	delete(doc, "kind")
	rest, err := json.Marshal(doc)
	return kind, rest, err
}

// unreadableOptions is the error of an options file (shown is its name) that could not be
// opened or read: the data file's fault (crm.ErrInvalidOptions: its permissions, its type …),
// unless the daemon lacks a resource for the moment and may try again.
func unreadableOptions(shown string, err error) error {
	for _, passing := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.ENOBUFS, syscall.EINTR} {
		if errors.Is(err, passing) {
			return fmt.Errorf("options file %s: %w", shown, err)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // not the work folder's path: the user knows the file as shown
	}
	return fmt.Errorf("options file %s: %w: it cannot be read (%w)", shown, crm.ErrInvalidOptions, err)
}

// maxNumbered bounds the numbered names tried for one file in processed/ or failed/.
const maxNumbered = 10000

// nameMax is the longest file name, in bytes, of the filesystems leadpipe writes to.
const nameMax = 255

// maxExt is the longest extension numbered keeps whole when it shortens a name.
const maxExt = 16

// numbered is name with n added before its extension (n > 1): prospects-2.csv. When the name
// and room more bytes (its companions' suffixes) would pass nameMax, it is cut short before its
// extension: a name near the limit still gets NAME.error.txt beside it.
func numbered(name string, n, room int) string {
	ext := path.Ext(name)
	if ext == name || len(ext) > maxExt {
		ext = ""
	}
	stem, tag := strings.TrimSuffix(name, ext), ""
	if n > 1 {
		tag = "-" + strconv.Itoa(n)
	}
	for len(stem)+len(tag)+len(ext)+room > nameMax && stem != "" {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	return stem + tag + ext
}

// reserve picks a free name in folder (under root) for name and its companions (suffixes;
// "" is the file itself): name, else prospects-2.csv, prospects-3.csv … It creates an empty
// placeholder for each exclusively, so that no other daemon picks the same names, and returns
// the base path (relative to root) that renames then put the files at. Nothing is ever
// replaced but these placeholders.
func reserve(root *os.Root, folder, name string, suffixes []string) (string, error) {
	if err := root.MkdirAll(folder, 0o775); err != nil {
		return "", err
	}
	room := 0
	for _, s := range suffixes {
		room = max(room, len(s))
	}
	for n := 1; n <= maxNumbered; n++ {
		base := path.Join(folder, numbered(name, n, room))
		made, err := placeholders(root, base, suffixes)
		if err == nil {
			return base, nil
		}
		for _, p := range made {
			root.Remove(p)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: %d files named like %s already", folder, maxNumbered, name)
}

// placeholders creates base+suffix for each suffix, exclusively, and returns those it made.
func placeholders(root *os.Root, base string, suffixes []string) ([]string, error) {
	var made []string
	for _, s := range suffixes {
		f, err := root.OpenFile(base+s, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return made, err
		}
		f.Close()
		made = append(made, base+s)
	}
	return made, nil
}
