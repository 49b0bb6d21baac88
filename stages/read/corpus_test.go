package read_test

import (
	"testing"

	"github.com/leadpipe/leadpipe/internal/corpus"
)

// corpusFile returns the path of the file name of the shared corpus of real-world spreadsheets
// (see corpus.Path).
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	return corpus.Path(t, name)
}
