package watch

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// inode returns a file's inode number and the time its inode last changed (ctime).
func inode(fi fs.FileInfo) (uint64, time.Time) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, time.Time{}
	}
	return st.Ino, time.Unix(st.Ctim.Unix())
}

// ownedByMe reports whether this process's user owns a file.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
