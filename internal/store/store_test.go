package store_test

import (
	"context"
	"os"
	"testing"

	atlas "ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"staffroom/ent/migrate"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// The committed migrations must produce exactly the schema that ent describes:
// a schema change without its migration fails here, on both databases.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		dir := t.TempDir()
		local, err := atlas.NewLocalDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := schema.NewMigrate(entsql.OpenDB(db.Dialect, db.SQL),
			schema.WithDir(local), schema.WithFormatter(atlas.DefaultFormatter))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.NamedDiff(context.Background(), "drift", migrate.Tables...); err != nil {
			t.Fatal(err)
		}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if f.Name() == "atlas.sum" {
				continue
			}
			body, _ := os.ReadFile(dir + "/" + f.Name())
			t.Errorf("the ent schema differs from the migrations; run `make migration NAME=…`:\n%s", body)
		}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		applied, err := store.Migrate(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("second run applied %v again", applied)
		}
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://localhost/db", t.TempDir(), store.Options{})
	if err == nil {
		t.Fatal("mysql:// was accepted")
	}
}
