package errcode

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Every code a client can see is documented: each Code constant of this
// package has a row in the error code table of docs/authorization.md.
func TestEveryCodeIsDocumented(t *testing.T) {
	docs, err := os.ReadFile("../../docs/authorization.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := parser.ParseDir(token.NewFileSet(), ".", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, pkg := range files {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				spec, ok := n.(*ast.ValueSpec)
				if !ok || spec.Type == nil || len(spec.Values) != len(spec.Names) {
					return true
				}
				if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Code" {
					return true
				}
				for _, v := range spec.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						continue
					}
					code, _ := strconv.Unquote(lit.Value)
					found++
					if !strings.Contains(string(docs), "| `"+code+"` |") {
						t.Errorf("%s has no row in the error code table of docs/authorization.md", code)
					}
				}
				return true
			})
		}
	}
	if found < 10 {
		t.Fatalf("found %d codes: the test no longer reads them", found)
	}
}
