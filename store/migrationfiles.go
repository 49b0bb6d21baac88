package store

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// MigrationFile is one schema migration embedded in the binary: NNNN_name.sql.
type MigrationFile struct {
	Version int
	Name    string
	SQL     string
}

// MigrationFiles returns the migrations/*.sql files of fsys in version order. A file whose
// name does not start with a version number is an error.
func MigrationFiles(fsys fs.FS) ([]MigrationFile, error) {
	paths, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	files := make([]MigrationFile, 0, len(paths))
	for _, p := range paths {
		name := strings.TrimPrefix(p, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number", name)
		}
		sql, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		files = append(files, MigrationFile{Version: version, Name: name, SQL: string(sql)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}
