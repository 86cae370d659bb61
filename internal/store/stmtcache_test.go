package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// postgresConn returns one connection of a fresh PostgreSQL database, or skips.
func postgresConn(t *testing.T) *sql.Conn {
	t.Helper()
	for _, d := range storetest.Dialects() {
		if d.Name != "postgres" {
			continue
		}
		db := storetest.Open(t, d)
		conn, err := db.SQL.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	t.Skip("the statement cache is PostgreSQL's; set TEST_DATABASE_URL")
	return nil
}

// preparedCount reads how many statements the connection's server session holds.
func preparedCount(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStatementsArePreparedOncePerConnection(t *testing.T) {
	conn := postgresConn(t)
	ctx := context.Background()
	before := preparedCount(t, conn) // migrations may have used this connection
	for i := range 5 {
		var got int
		if err := conn.QueryRowContext(ctx, "SELECT $1::int + 1", i).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != i+1 {
			t.Fatalf("SELECT %d + 1 = %d", i, got)
		}
	}
	if n := preparedCount(t, conn) - before; n != 1 {
		t.Errorf("one query text run 5 times left %d more prepared statements, want 1", n)
	}
	// Many distinct texts: the cache closes the least recently used ones.
	for i := range 300 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT $1::int + %d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if n := preparedCount(t, conn); n != store.DefaultStatementCache {
		t.Errorf("after 301 query texts the session holds %d prepared statements, want the cache's bound of %d", n, store.DefaultStatementCache)
	}
}

// A query sent on a transaction while another's rows are still open is refused
// and leaves the connection usable, as lib/pq does for its own queries.
func TestQueryWhileRowsAreOpenIsRefused(t *testing.T) {
	conn := postgresConn(t)
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT generate_series(1, $1::int)", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	if _, err := tx.ExecContext(ctx, "SELECT $1::int", 7); err == nil {
		t.Error("a statement sent while rows are open was accepted")
	}
	var sum, n int
	for ok := true; ok; ok = rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if sum != 500500 {
		t.Errorf("the rows summed to %d, want 500500: the stream was disturbed", sum)
	}
	var got int
	if err := tx.QueryRowContext(ctx, "SELECT $1::int * 2", 21).Scan(&got); err != nil || got != 42 {
		t.Errorf("after the rows: %d, %v; want 42", got, err)
	}
}

// With the cache off (PgBouncer in transaction mode) nothing stays prepared.
func TestStatementCacheOff(t *testing.T) {
	conn := postgresConn(t)
	ctx := context.Background()
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	u, err := store.WithDatabase(os.Getenv("TEST_DATABASE_URL"), name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, u, t.TempDir(), store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	own, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	for i := range 3 {
		if _, err := own.ExecContext(ctx, "SELECT $1::int", i); err != nil {
			t.Fatal(err)
		}
	}
	if n := preparedCount(t, own); n != 0 {
		t.Errorf("with StatementCache 0 the session holds %d prepared statements, want none", n)
	}
}

// A cached statement whose result changes shape under a schema change fails
// once, is dropped, and the next run prepares it again.
func TestStaleStatementIsPreparedAgain(t *testing.T) {
	conn := postgresConn(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE cache_probe (id int PRIMARY KEY, name text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO cache_probe VALUES ($1, $2)", 1, "one"); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT * FROM cache_probe WHERE id = $1"
	columns := func() (int, error) {
		rows, err := conn.QueryContext(ctx, q, 1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		return len(cols), err
	}
	if n, err := columns(); err != nil || n != 2 {
		t.Fatalf("before the change: %d columns, %v", n, err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER TABLE cache_probe ADD COLUMN extra text"); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL refuses the old plan once (SQLSTATE 0A000); then it is gone.
	n, err := columns()
	if err == nil && n != 3 {
		t.Fatalf("after the change, first run: %d columns", n)
	}
	if n, err := columns(); err != nil || n != 3 {
		t.Fatalf("after the change: %d columns, %v; want the new column", n, err)
	}
}
