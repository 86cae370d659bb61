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
// PostgreSQL each of those transactions first takes an advisory lock and checks
// again that its migration is still to do, so that replicas starting together
// apply each migration once. The lock is the transaction's, not the
// session's: through a pooler in transaction mode a session lock would stay
// on whichever server connection took it.
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
	m := migrator{db: db.SQL, dialect: db.Dialect}
	var done map[string]bool
	err = m.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version VARCHAR(255) PRIMARY KEY,
			applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
			return err
		}
		done, err = appliedVersions(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
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
		ran, err := m.apply(ctx, version, string(body))
		if err != nil {
			return applied, err
		}
		if ran {
			applied = append(applied, version)
		}
	}
	return applied, nil
}

// migrationLock is the advisory lock that serializes migrations on PostgreSQL.
const migrationLock = 7463021

type migrator struct {
	db      *sql.DB
	dialect string
}

// inTx runs fn in a transaction that holds the migration lock.
func (m migrator) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if m.dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrationLock)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func appliedVersions(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
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

// apply runs one migration and records it, unless another process did while
// this one waited for the lock; it reports whether it ran the migration.
func (m migrator) apply(ctx context.Context, version, body string) (ran bool, err error) {
	err = m.inTx(ctx, func(tx *sql.Tx) error {
		done, err := appliedVersions(ctx, tx)
		if err != nil || done[version] {
			return err
		}
		for _, stmt := range statements(body) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		insert := `INSERT INTO schema_migrations (version) VALUES (?)`
		if m.dialect == dialect.Postgres {
			insert = `INSERT INTO schema_migrations (version) VALUES ($1)`
		}
		if _, err := tx.ExecContext(ctx, insert, version); err != nil {
			return err
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: migrate %s: %w", version, err)
	}
	return ran, nil
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
