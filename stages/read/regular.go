package read

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrNotRegular marks an entry that is not a regular file (a symbolic link, a FIFO, a device,
// a directory …): it is refused, and never read.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegularAt opens the entry name of the directory dir for reading, only if it is a regular
// file. It never follows a symbolic link as name, and never opens a FIFO or a device: it looks
// at the entry without following it, refuses anything but a regular file on that look, then
// opens it without following a link and without blocking, and checks that what it opened is
// the file it looked at (an entry swapped meanwhile is refused too). name must be a single
// element. A refusal wraps ErrNotRegular and names the kind of file it found.
func OpenRegularAt(dir *os.File, name string) (*os.File, error) {
	var before unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &before, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	if before.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notRegular(name, before.Mode)
	}
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, notRegular(name, unix.S_IFLNK)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var after unix.Stat_t
	if err := unix.Fstat(fd, &after); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	if after.Mode&unix.S_IFMT != unix.S_IFREG || after.Dev != before.Dev || after.Ino != before.Ino {
		unix.Close(fd)
		return nil, notRegular(name, after.Mode)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// OpenRegular is OpenRegularAt of path's last element, in path's directory. The directory is
// opened as one, without following a link as its last element and without blocking, so that a
// folder swapped for a link or a FIFO is refused rather than followed or waited on.
func OpenRegular(path string) (*os.File, error) {
	dirPath := filepath.Dir(path)
	fd, err := unix.Open(dirPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("the folder of %s is not a directory: %w", filepath.Base(path), ErrNotRegular)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dirPath, Err: err}
	}
	dir := os.NewFile(uintptr(fd), dirPath)
	defer dir.Close()
	return OpenRegularAt(dir, filepath.Base(path))
}

// notRegular is the refusal of name, an entry of the Unix file mode mode.
func notRegular(name string, mode uint32) error {
	var kind fs.FileMode
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return fmt.Errorf("%s was replaced while it was being opened: %w", name, ErrNotRegular)
	case unix.S_IFLNK:
		kind = fs.ModeSymlink
	case unix.S_IFDIR:
		kind = fs.ModeDir
	case unix.S_IFIFO:
		kind = fs.ModeNamedPipe
	case unix.S_IFCHR, unix.S_IFBLK:
		kind = fs.ModeDevice
	case unix.S_IFSOCK:
		kind = fs.ModeSocket
	default:
		kind = fs.ModeIrregular
	}
	return fmt.Errorf("%s is %s, %w", name, FileKind(kind), ErrNotRegular)
}
