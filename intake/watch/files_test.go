package watch

import (
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		mode fs.FileMode
		want entryClass
		why  string
	}{
		{"prospects.csv", 0o644, candidate, ""},
		{"Prospects 2024.XLSX", 0o600, candidate, ""},
		{"no-extension", 0o644, candidate, ""},
		{".hidden.csv", 0o644, ignored, ""},
		{".prospects.csv.part", 0o644, ignored, ""},
		{".leadpipe", fs.ModeDir | 0o700, ignored, ""},
		{".options.json", 0o644, ignored, ""},
		{"prospects.csv.tmp", 0o644, ignored, ""},
		{"prospects.csv.part", 0o644, ignored, ""},
		{"prospects.csv.crdownload", 0o644, ignored, ""},
		{"prospects.csv~", 0o644, ignored, ""},
		{"prospects.csv.options.json", 0o644, ignored, ""},
		{"prospects.csv.error.txt", 0o644, ignored, ""},
		{"processed", fs.ModeDir | 0o755, ignored, ""},
		{"failed", fs.ModeDir | 0o755, ignored, ""},
		{"link.csv", fs.ModeSymlink | 0o777, refused, "it is a symbolic link, not a regular file"},
		{"archive", fs.ModeDir | 0o755, refused, "it is a directory, not a regular file"},
		{"pipe.csv", fs.ModeNamedPipe | 0o644, refused, "it is a FIFO, not a regular file"},
		{"sda", fs.ModeDevice | 0o660, refused, "it is a device, not a regular file"},
		{"tty", fs.ModeDevice | fs.ModeCharDevice | 0o660, refused, "it is a device, not a regular file"},
		{"sock", fs.ModeSocket | 0o755, refused, "it is a socket, not a regular file"},
		{"..", fs.ModeDir | 0o755, refused, "its name escapes the directory"},
		{"a/../../b.csv", 0o644, refused, "its name escapes the directory"},
		{"", 0o644, refused, "its name escapes the directory"},
	}
	for _, tt := range tests {
		k, why := classify(tt.name, tt.mode)
		if k != tt.want || why != tt.why {
			t.Errorf("classify(%q, %v) = %v, %q; want %v, %q", tt.name, tt.mode, k, why, tt.want, tt.why)
		}
	}
}

func TestNumbered(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"prospects.csv", 1, "prospects.csv"},
		{"prospects.csv", 2, "prospects-2.csv"},
		{"list.tar.gz", 3, "list.tar-3.gz"},
		{"README", 2, "README-2"},
	}
	for _, tt := range tests {
		if got := numbered(tt.name, tt.n, 0); got != tt.want {
			t.Errorf("numbered(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
	// Near the name limit, the name is cut before its extension (on a character's boundary)
	// so that it fits with room bytes more.
	long := strings.Repeat("é", 123) + ".csv" // 250 bytes
	for _, tt := range []struct {
		n, room int
		want    string
	}{
		{1, 0, long},
		{1, len(".error.txt"), strings.Repeat("é", 120) + ".csv"},
		{2, len(".error.txt"), strings.Repeat("é", 119) + "-2.csv"},
		{1, len(".options.json"), strings.Repeat("é", 119) + ".csv"},
	} {
		got := numbered(long, tt.n, tt.room)
		if got != tt.want || len(got)+tt.room > 255 || !utf8.ValidString(got) {
			t.Errorf("numbered(250 bytes, %d, %d) = %q (%d bytes), want %q", tt.n, tt.room, got, len(got), tt.want)
		}
	}
}
