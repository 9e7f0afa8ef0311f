package dashboard_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoStoreAccess keeps the dashboard off the store: every figure must
// come through analytics (which applies scope and suppression), so no
// non-test file of package dashboard may import database/sql or a DuckDB
// package.
func TestNoStoreAccess(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "database/sql" || strings.Contains(path, "duckdb") {
				t.Errorf("%s imports %s: the dashboard reads figures only through analytics", name, path)
			}
		}
	}
}
