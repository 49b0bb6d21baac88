package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/leadpipe/leadpipe"

// rule keeps the packages under from off some of the module's packages: those under never,
// or, when only is set, every package but those under only. A name covers the package of that
// path and the packages under it ("stages" covers stages/read/isolate).
type rule struct {
	from  []string
	never []string
	only  []string
	why   string
}

var rules = []rule{
	// Storage is the bottom layer: it knows the tables, not who fills or reads them.
	{from: []string{"store"}, only: []string{"crm", "internal"},
		why: "store is the bottom layer: it may import only crm and internal/"},
	// The engine (rows, batches, runs, jobs, relays), its generic stages and the CRM rules
	// know no kind, no importer and nothing that drives or drains them.
	{from: []string{"pipeline", "stages", "crm"},
		never: []string{"importer", "intake", "sinks", "api", "cmd", "kind", "kinds", "filestore"},
		why:   "the engine knows no kind, importer, files store, driver, sink or command"},
	// The seam between the engine and the kinds knows no kind in particular; the kinds sit
	// under the importer that registers them.
	{from: []string{"kind"}, never: []string{"kinds", "importer", "intake", "sinks", "api", "cmd", "filestore"},
		why: "the kind seam knows no kind, importer, driver, sink or command"},
	{from: []string{"kinds"}, never: []string{"importer", "intake", "sinks", "api", "cmd", "filestore"},
		why: "a kind sits under the importer: it knows no importer, driver, sink or command"},
	// The importer runs imports for every driver; it knows none of them.
	{from: []string{"importer"}, never: []string{"api", "intake", "sinks", "cmd"},
		why: "the importer sits under the drivers and sinks"},
	// The files store keeps originals for the drivers; it sits under them and the importer.
	{from: []string{"filestore"}, never: []string{"importer", "api", "intake", "sinks", "cmd"},
		why: "the files store sits under the drivers and the importer"},
	// Drivers and sinks stand side by side under the commands: none reaches into another.
	{from: []string{"api"}, never: []string{"intake", "sinks", "cmd"},
		why: "the HTTP API is one driver: it imports no other driver, sink or command"},
	{from: []string{"intake"}, never: []string{"api", "sinks", "cmd"},
		why: "the intake drivers import no other driver, sink or command"},
	// The page is a client of the API, served from the binary: it knows nothing of leadpipe.
	{from: []string{"web"}, only: []string{},
		why: "the page talks to /v1 over HTTP like any client: it imports no leadpipe package"},
	{from: []string{"sinks"}, never: []string{"api", "intake", "importer", "cmd"},
		why: "the sinks publish what the engine committed: they import no driver, importer or command"},
}

// TestImportsRunOneWay checks every import of every non-test Go file of the module against
// the rules. Test helper packages (named …test, such as store/storetest) are test code and are
// not checked.
func TestImportsRunOneWay(t *testing.T) {
	imports := moduleImports(t)
	for _, r := range rules {
		covered := false
		for pkg, files := range imports {
			if !under(pkg, r.from) {
				continue
			}
			covered = true
			for imp, file := range files {
				if r.only != nil && !under(imp, r.only) || under(imp, r.never) {
					t.Errorf("%s imports %s (%s): %s", pkg, imp, file, r.why)
				}
			}
		}
		if !covered {
			t.Errorf("no package is under %v: the rule %q checks nothing; update the table", r.from, r.why)
		}
	}
}

// under reports whether pkg is one of names or a package under one of them.
func under(pkg string, names []string) bool {
	for _, n := range names {
		if pkg == n || strings.HasPrefix(pkg, n+"/") {
			return true
		}
	}
	return false
}

// moduleImports parses the imports of the module's non-test Go files and returns, for each
// package (a path relative to the module's root), each module package it imports and the
// first file that does.
func moduleImports(t *testing.T) map[string]map[string]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module's root is not at %s: %v", root, err)
	}
	imports := map[string]map[string]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if strings.HasSuffix(pkg, "test") {
			return nil // a test helper package
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]string{}
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if imp, ok := strings.CutPrefix(imp, module+"/"); ok {
				if _, seen := imports[pkg][imp]; !seen {
					imports[pkg][imp] = filepath.ToSlash(rel)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		pkgs := make([]string, 0, len(imports))
		for p := range imports {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		t.Fatalf("found only the packages %v under %s", pkgs, root)
	}
	return imports
}
