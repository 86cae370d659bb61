package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rawCallers names, for each step of a raw password check in this package,
// the only functions that may use it. Everything else checks a password
// through Service.CheckPassword, which honours the lock, counts failures and
// limits each address.
var rawCallers = map[string][]string{
	"verifyPassword":      {"CheckPassword", "verifyDummyPassword"},
	"verifyDummyPassword": {"CheckPassword"},
	"argon2id":            {"HashPassword", "verifyPassword"},
}

// rawUsesInPackage returns the uses of rawCallers' names by functions not
// allowed them, as "function uses name".
func rawUsesInPackage(f *ast.File) []string {
	var out []string
	for _, decl := range f.Decls {
		owner, declared := "package level", (*ast.Ident)(nil)
		if fn, ok := decl.(*ast.FuncDecl); ok {
			owner, declared = fn.Name.Name, fn.Name
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok || id == declared {
				return true
			}
			if allowed, raw := rawCallers[id.Name]; raw && !slices.Contains(allowed, owner) {
				out = append(out, owner+" uses "+id.Name)
			}
			return true
		})
	}
	return out
}

// rawUsesInRepository returns what, in a file outside this package, reads a
// stored password hash or hashes passwords itself: the makings of a password
// check that would skip the lock.
func rawUsesInRepository(f *ast.File) []string {
	var out []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		switch path {
		case "golang.org/x/crypto/argon2", "golang.org/x/crypto/bcrypt", "golang.org/x/crypto/scrypt":
			out = append(out, "imports "+path)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if ok && (strings.HasPrefix(sel.Sel.Name, "PasswordHash") || sel.Sel.Name == "FieldPasswordHash") {
			out = append(out, "reads "+sel.Sel.Name)
		}
		return true
	})
	return out
}

func TestPasswordIsCheckedOnlyByCheckPassword(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, use := range rawUsesInPackage(f) {
			t.Errorf("%s: %s; check passwords with Service.CheckPassword", name, use)
		}
	}
	if checked == 0 {
		t.Fatal("no source file of the package was checked")
	}
}

func TestNoPasswordCheckOutsideAuth(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	self, _ := filepath.Abs(".")
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// ent/ is generated: its user package defines the hash field.
			if path == self || path == filepath.Join(root, "ent") || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		rel, _ := filepath.Rel(root, path)
		for _, use := range rawUsesInRepository(f) {
			t.Errorf("%s %s; check passwords with auth.Service.CheckPassword", rel, use)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d files checked: the walk missed the repository", checked)
	}
}

// The guards above catch the shapes a bypass takes.
func TestPasswordCheckGuardsCatchBypasses(t *testing.T) {
	parse := func(src string) *ast.File {
		f, err := parser.ParseFile(token.NewFileSet(), "planted.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	inPackage := parse(`package auth
func (s *Service) QuickLogIn(hash, password string) bool { ok, _ := verifyPassword(hash, password); return ok }
var check = verifyDummyPassword
func CheckPassword() { verifyPassword("", "") }`)
	want := []string{"QuickLogIn uses verifyPassword", "package level uses verifyDummyPassword"}
	if got := rawUsesInPackage(inPackage); !slices.Equal(got, want) {
		t.Errorf("package guard found %q, want %q", got, want)
	}
	outside := parse(`package invitation
import "golang.org/x/crypto/argon2"
func ok(u *ent.User, pw string) bool { return string(argon2.IDKey([]byte(pw), nil, 1, 1, 1, 32)) == u.PasswordHash }
func q() { client.User.Query().Where(user.PasswordHashEQ("x")) }
func fine() { client.User.Create().SetPasswordHash("x") }`)
	want = []string{"imports golang.org/x/crypto/argon2", "reads PasswordHash", "reads PasswordHashEQ"}
	if got := rawUsesInRepository(outside); !slices.Equal(got, want) {
		t.Errorf("repository guard found %q, want %q", got, want)
	}
}
