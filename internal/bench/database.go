package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"staffroom/internal/store"
)

// resetDatabase drops the benchmark database, closing its connections, and
// creates it empty.
func resetDatabase(ctx context.Context, db database) error {
	// The command ships in the server's binary: a slip of -database must not
	// drop the organization's real data.
	if !strings.Contains(strings.ToLower(db.name), "bench") {
		return fmt.Errorf("bench: -reset drops only a database whose name says bench, not %q", db.name)
	}
	pool, err := sql.Open("postgres", db.serverURL)
	if err != nil {
		return fmt.Errorf("bench: open %s: %w", db.serverURL, err)
	}
	defer pool.Close()
	name := pq.QuoteIdentifier(db.name)
	if _, err := pool.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("bench: drop database %s: %w", db.name, err)
	}
	if _, err := pool.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("bench: create database %s: %w", db.name, err)
	}
	return nil
}

// openStore opens the benchmark database through the store, with the server's
// pool size, and applies the migrations.
func openStore(ctx context.Context, db database, maxOpen, maxIdle, statements int) (*store.DB, error) {
	u, err := db.url()
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, u, "", store.Options{MaxOpenConns: maxOpen, MaxIdleConns: maxIdle, StatementCache: statements})
	if err != nil {
		return nil, fmt.Errorf("bench: %w (create it with: seed -bench -reset)", err)
	}
	if _, err := store.Migrate(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
