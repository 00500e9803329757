package importcheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// packageDocs returns the files of dir (tests excluded) that carry a
// package doc comment.
func packageDocs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var docs []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		require.NoError(t, err)
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			docs = append(docs, name)
		}
	}
	return docs
}

// TestOnePackageDoc checks that every package of the module has exactly one
// package doc comment, so `go doc` shows one coherent text.
func TestOnePackageDoc(t *testing.T) {
	for _, p := range goList(t, "./...") {
		docs := packageDocs(t, p.Dir)
		if len(docs) != 1 {
			t.Errorf("package %s has %d package docs %v: keep exactly one (doc.go for long ones)", relOf(p.ImportPath), len(docs), docs)
		}
	}
}

func TestPackageDocCheckCanFail(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.go"), []byte("// Package x does a.\npackage x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.go"), []byte("// Package x does b.\npackage x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.go"), []byte("package x\n"), 0o600))
	require.Equal(t, []string{"a.go", "b.go"}, packageDocs(t, dir))
}
