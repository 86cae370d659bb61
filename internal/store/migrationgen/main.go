// Command migrationgen writes a new versioned migration for each database from
// the difference between the ent schema and the migrations already committed.
// It replays the committed migrations on an empty development database (an
// in-memory SQLite, and a temporary PostgreSQL database) and never drops a column
// or an index.
//
//	go run ./internal/store/migrationgen -name add_something
//	go run ./internal/store/migrationgen -hash   after writing a migration by hand
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"staffroom/ent/migrate"
	"staffroom/internal/store" // also registers the SQLite driver
)

func main() {
	name := flag.String("name", "", "name of the migration (snake_case)")
	pgURL := flag.String("postgres", envOr("DEV_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server to create a temporary development database on")
	hash := flag.Bool("hash", false, "only rewrite atlas.sum of both directories, after a migration written by hand")
	flag.Parse()
	if *hash {
		for _, path := range []string{"ent/migrate/migrations/sqlite", "ent/migrate/migrations/postgres"} {
			if err := rehash(path); err != nil {
				log.Fatalf("migrationgen: %s: %v", path, err)
			}
		}
		return
	}
	if *name == "" {
		log.Fatal("migrationgen: -name is required")
	}
	ctx := context.Background()

	lite, err := sql.Open(dialect.SQLite, "file:migrationgen?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	lite.SetMaxOpenConns(1)
	if err := diff(ctx, entsql.OpenDB(dialect.SQLite, lite), "ent/migrate/migrations/sqlite", *name); err != nil {
		log.Fatalf("migrationgen: sqlite: %v", err)
	}

	pg, cleanup, err := tempPostgres(ctx, *pgURL)
	if err != nil {
		log.Fatalf("migrationgen: postgres: %v", err)
	}
	defer cleanup()
	if err := diff(ctx, entsql.OpenDB(dialect.Postgres, pg), "ent/migrate/migrations/postgres", *name); err != nil {
		log.Fatalf("migrationgen: postgres: %v", err)
	}
}

func diff(ctx context.Context, drv dialect.Driver, path, name string) error {
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		return err
	}
	m, err := schema.NewMigrate(drv,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDropColumn(false),
		schema.WithDropIndex(false),
		schema.WithFormatter(atlas.DefaultFormatter),
	)
	if err != nil {
		return err
	}
	return m.NamedDiff(ctx, name, migrate.Tables...)
}

func rehash(path string) error {
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return atlas.WriteSumFile(dir, sum)
}

func tempPostgres(ctx context.Context, serverURL string) (*sql.DB, func(), error) {
	admin, err := sql.Open("postgres", serverURL)
	if err != nil {
		return nil, nil, err
	}
	dbName := fmt.Sprintf("staffroom_migrationgen_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		return nil, nil, err
	}
	u, err := store.WithDatabase(serverURL, dbName)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+dbName) //nolint:errcheck
		admin.Close()
	}, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
