package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A data directory whose name holds URI characters (a test's name, a user's
// folder) keeps its database where it says: "#" and "?" do not cut the path.
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "club #1?100%")
	db, err := Open(context.Background(), "", dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.Exec("CREATE TABLE probe (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "staffroom.db")); err != nil {
		t.Fatalf("the database is not in its data directory: %v", err)
	}
}
