// Package storetest gives tests a fresh, migrated database: a temporary SQLite
// file always, and a PostgreSQL database when TEST_DATABASE_URL is set. Tests
// that take a database run once per available dialect.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "staffroom/ent/runtime" // registers privacy policies and hooks
	"staffroom/internal/store"
)

// Dialect names a database a test runs on.
type Dialect struct {
	Name string // "sqlite" or "postgres"
	url  string // "" for SQLite
}

// Dialects returns SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.
func Dialects() []Dialect {
	d := []Dialect{{Name: "sqlite"}}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		d = append(d, Dialect{Name: "postgres", url: u})
	}
	return d
}

// Each runs f as a subtest once per dialect.
func Each(t *testing.T, f func(t *testing.T, d Dialect)) {
	for _, d := range Dialects() {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

// Open returns a fresh migrated database of the dialect, closed and removed when
// the test ends.
func Open(t testing.TB, d Dialect) *store.DB {
	t.Helper()
	ctx := context.Background()
	url := ""
	dataDir := t.TempDir()
	if d.url != "" {
		url = freshPostgres(t, d.url)
	}
	db, err := store.Open(ctx, url, dataDir, store.Options{StatementCache: store.DefaultStatementCache})
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate %s: %v", d.Name, err)
	}
	return db
}

// PostgresURL returns the URL of a fresh, empty PostgreSQL database, dropped
// when the test ends, for tests that run servers of their own on it; it skips
// the test when TEST_DATABASE_URL is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL is not set: this test needs PostgreSQL")
	}
	return freshPostgres(t, u)
}

var seq atomic.Int64

// freshPostgres creates a database for one test and drops it when the test ends.
// The server is shared, so names carry the process id and a sequence number.
func freshPostgres(t testing.TB, serverURL string) string {
	t.Helper()
	admin := adminPool(t, serverURL)
	name := fmt.Sprintf("staffroom_test_%d_%d_%d", os.Getpid(), time.Now().Unix()%100000, seq.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := store.WithDatabase(serverURL, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

func adminPool(t testing.TB, serverURL string) *sql.DB {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("postgres", serverURL)
		if adminErr == nil {
			admin.SetMaxOpenConns(2)
			adminErr = admin.Ping()
		}
	})
	if adminErr != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", adminErr)
	}
	return admin
}
