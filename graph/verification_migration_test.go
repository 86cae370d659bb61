package graph_test

import (
	"context"
	"database/sql"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"staffroom/ent/membership"
	"staffroom/ent/migrate/migrations"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// verificationMigration is the version that added email verification.
const verificationMigration = "20261202032512"

// TestVerificationMigrationMarksExistingLogins upgrades a database that holds
// logins from before email verification: a login that accepted an invitation
// or used a password reset is verified; one that did neither stays
// unverified, marked as existing, and the organization it created waits for
// review once someone proves the address. A restart with
// STAFFROOM_TRUST_EXISTING_EMAILS verifies the existing ones and nobody else.
func TestVerificationMigrationMarksExistingLogins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		db := s.DB
		ctx := context.Background()
		rewindTo(t, db, verificationMigration)

		exec := func(query string, args ...any) {
			t.Helper()
			if db.Dialect == dialect.Postgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
				}
			}
			if _, err := db.SQL.ExecContext(ctx, query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		now := time.Now().UTC()
		for _, u := range []struct{ id, email string }{
			{"usr_invited", "invited@example.com"}, {"usr_reset", "reset@example.com"},
			{"usr_plain", "plain@example.com"}, {"usr_asked", "asked@example.com"},
		} {
			exec(`INSERT INTO users (id, created_at, updated_at, email, password_hash, first_name, last_name) VALUES (?, ?, ?, ?, '', 'Old', 'Login')`,
				u.id, now, now, u.email)
		}
		exec(`INSERT INTO organizations (id, created_at, updated_at, name, slug) VALUES ('org_old', ?, ?, 'Old Club', 'old-club')`, now, now)
		exec(`INSERT INTO roles (id, created_at, updated_at, key, name, permissions, manages, organization_id) VALUES ('rol_owner', ?, ?, 'owner', 'Owner', '[]', '[]', 'org_old')`, now, now)
		for _, m := range []struct{ id, user string }{{"mem_plain", "usr_plain"}, {"mem_invited", "usr_invited"}} {
			exec(`INSERT INTO memberships (id, created_at, updated_at, username, username_key, grants, revokes, joined_at, organization_id, role_id, user_id)
				VALUES (?, ?, ?, ?, ?, '[]', '[]', ?, 'org_old', 'rol_owner', ?)`, m.id, now, now, m.id, m.id, now, m.user)
		}
		exec(`INSERT INTO invitations (id, created_at, updated_at, email, grants, group_ids, token_hash, status, expires_at, organization_id, role_id)
			VALUES ('inv_old', ?, ?, 'invited@example.com', '[]', '[]', ?, 'ACCEPTED', ?, 'org_old', 'rol_owner')`, now, now, []byte("a"), now)
		exec(`INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at, used_at) VALUES ('pwr_used', 'usr_reset', ?, ?, ?, ?)`, []byte("b"), now, now, now)
		exec(`INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES ('pwr_unused', 'usr_asked', ?, ?, ?)`, []byte("c"), now, now)

		applied, err := store.Migrate(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) == 0 || applied[0] != verificationMigration+"_email_verification" {
			t.Fatalf("applied %v", applied)
		}
		sys := access.SystemContext(ctx, "test")
		check := func(when string, want map[string]bool) {
			t.Helper()
			for email, verified := range want {
				u := db.Client.User.Query().Where(user.Email(email)).OnlyX(sys)
				existing := email != "new@example.com"
				if (u.EmailVerifiedAt != nil) != verified || u.EmailUnverifiedLegacy != (existing && !verified) {
					t.Errorf("%s: %s verified %v, legacy %v; want verified %v", when, email, u.EmailVerifiedAt != nil, u.EmailUnverifiedLegacy, verified)
				}
			}
		}
		check("after the migration", map[string]bool{"invited@example.com": true, "reset@example.com": true,
			"plain@example.com": false, "asked@example.com": false})
		if m := db.Client.Membership.Query().Where(membership.ID("mem_plain")).OnlyX(sys); !m.UnverifiedJoin {
			t.Error("the unverified login's own organization is not held for review")
		}
		if m := db.Client.Membership.Query().Where(membership.ID("mem_invited")).OnlyX(sys); m.UnverifiedJoin {
			t.Error("the verified login's membership is held for review")
		}

		// A login made since stays unverified whatever the setting.
		s.SignUpOnly(t, "new@example.com", "New", "Person", "a long enough passphrase")
		s.Restart(t, "STAFFROOM_TRUST_EXISTING_EMAILS=true")
		check("with the trust setting", map[string]bool{"plain@example.com": true, "asked@example.com": true, "new@example.com": false})
		if m := db.Client.Membership.Query().Where(membership.ID("mem_plain")).OnlyX(sys); m.UnverifiedJoin {
			t.Error("a trusted login's organization is still held for review")
		}
	})
}

// rewindTo empties the database and applies the migrations before version, as
// a database that was last started before it.
func rewindTo(t *testing.T, db *store.DB, version string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dir, quote := "sqlite", "`"
	if db.Dialect == dialect.Postgres {
		dir, quote = "postgres", `"`
		mustExec(t, conn, `DROP SCHEMA public CASCADE`)
		mustExec(t, conn, `CREATE SCHEMA public`)
	} else {
		mustExec(t, conn, `PRAGMA foreign_keys = OFF`)
		rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			rows.Scan(&name) //nolint:errcheck
			tables = append(tables, name)
		}
		rows.Close()
		for _, name := range tables {
			mustExec(t, conn, "DROP TABLE "+quote+name+quote)
		}
		defer mustExec(t, conn, `PRAGMA foreign_keys = ON`)
	}
	files, _ := fs.Glob(migrations.FS, dir+"/*.sql")
	sort.Strings(files)
	mustExec(t, conn, `CREATE TABLE schema_migrations (version VARCHAR(255) PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`)
	for _, f := range files {
		v := strings.TrimSuffix(f[len(dir)+1:], ".sql")
		if v >= version {
			break
		}
		body, _ := migrations.FS.ReadFile(f)
		for _, line := range strings.Split(string(body), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
				mustExec(t, conn, strings.TrimSuffix(line, ";"))
			}
		}
		mustExec(t, conn, `INSERT INTO schema_migrations (version) VALUES ('`+v+`')`)
	}
}

func mustExec(t *testing.T, conn *sql.Conn, stmt string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
