package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var databaseURLs = []struct {
	server, name, want string
	fails              bool
}{
	{server: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", name: "staffroom_bench",
		want: "postgres://postgres@127.0.0.1:5432/staffroom_bench?sslmode=disable"},
	{server: "postgresql://u:p@db/", name: "b", want: "postgresql://u:p@db/b"},
	{server: "sqlite:///tmp/x.db", name: "b", fails: true},
	{server: "postgres://db/x", name: "a/b", fails: true},
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range databaseURLs {
		got, err := withDatabase(tc.server, tc.name)
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("withDatabase(%q, %q) = %q, %v; want %q, failure %v", tc.server, tc.name, got, err, tc.want, tc.fails)
		}
	}
}

func TestWriteSectionKeepsTheHandWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := writeSection(path, "first\n"); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	edited := strings.Replace(string(page), "# Benchmarks\n", "# Benchmarks\n\nBy hand, above.\n", 1) + "\nBy hand, below.\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "second\n"); err != nil {
		t.Fatal(err)
	}
	page, _ = os.ReadFile(path)
	text := string(page)
	for _, want := range []string{"By hand, above.", "second\n", "By hand, below."} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "first") || strings.Count(text, sectionBegin) != 1 {
		t.Errorf("the old section survived:\n%s", text)
	}
}

func TestCanonicalIgnoresTheOrderOfGroups(t *testing.T) {
	a, err := canonical([]byte(`{"data":{"node":{"id":"m","groups":[{"name":"b"},{"name":"a"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := canonical([]byte(`{"data":{"node":{"id":"m","groups":[{"name":"a"},{"name":"b"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%v != %v", a, b)
	}
}

func TestResetRefusesADatabaseNotNamedForTheBenchmark(t *testing.T) {
	// Refused before connecting: the server URL points nowhere.
	err := resetDatabase(t.Context(), database{serverURL: "postgres://nobody@127.0.0.1:1/postgres", name: "staffroom"})
	if err == nil || !strings.Contains(err.Error(), "says bench") {
		t.Errorf("reset of %q: %v; want a refusal", "staffroom", err)
	}
}
