package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"entgo.io/ent/dialect"

	"staffroom/ent/migrate/migrations"
)

// Migrate applies the versioned migrations that the database has not seen yet,
// each in its own transaction, and records them in schema_migrations. On
// PostgreSQL an advisory lock keeps replicas that start together from racing.
func Migrate(ctx context.Context, db *DB) (applied []string, err error) {
	dir := "sqlite"
	if db.Dialect == dialect.Postgres {
		dir = "postgres"
	}
	files, err := fs.Glob(migrations.FS, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)

	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if db.Dialect == dialect.Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7463021)`); err != nil {
			return nil, fmt.Errorf("store: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7463021)`) //nolint:errcheck
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version VARCHAR(255) PRIMARY KEY,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		version := strings.TrimSuffix(path.Base(f), ".sql")
		if done[version] {
			continue
		}
		body, err := migrations.FS.ReadFile(f)
		if err != nil {
			return applied, err
		}
		if err := applyOne(ctx, conn, db.Dialect, version, string(body)); err != nil {
			return applied, err
		}
		applied = append(applied, version)
	}
	return applied, nil
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}

func applyOne(ctx context.Context, conn *sql.Conn, dia, version, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", version, err)
	}
	defer tx.Rollback() //nolint:errcheck
	for _, stmt := range statements(body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migrate %s: %w", version, err)
		}
	}
	insert := `INSERT INTO schema_migrations (version) VALUES (?)`
	if dia == dialect.Postgres {
		insert = `INSERT INTO schema_migrations (version) VALUES ($1)`
	}
	if _, err := tx.ExecContext(ctx, insert, version); err != nil {
		return fmt.Errorf("store: migrate %s: %w", version, err)
	}
	return tx.Commit()
}

// statements splits a generated migration file into its statements: Atlas writes
// one statement per line, each ending in a semicolon, and comment lines.
func statements(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		out = append(out, strings.TrimSuffix(line, ";"))
	}
	return out
}
