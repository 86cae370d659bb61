package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"staffroom/internal/app"
	"staffroom/internal/config"
	"staffroom/internal/mail"
	"staffroom/internal/store"
)

// The people and organizations the scenarios act as. Every seeded user has the
// same password, so that any of them can log in.
const (
	password        = "bench passphrase of the staffroom"
	largeOrgName    = "Bench Club"
	largeOrgSlug    = "bench-club"
	emailDomain     = "@bench.example.com"
	ownerEmail      = "owner" + emailDomain
	adminEmail      = "administrator" + emailDomain
	instructorEmail = "instructor" + emailDomain
)

func memberEmail(i int) string { return fmt.Sprintf("member%04d%s", i, emailDomain) }

func smallOrgName(i int) string { return fmt.Sprintf("Small Club %02d", i+1) }

func smallOwnerEmail(i int) string { return fmt.Sprintf("owner%02d%s", i+1, emailDomain) }

func smallMemberEmail(org, i int) string {
	return fmt.Sprintf("small%02d.member%02d%s", org+1, i, emailDomain)
}

// assembly is the server as the benchmark runs it: the real app on the benchmark
// database, with emails recorded instead of sent and no session rate limit.
type assembly struct {
	db      *store.DB
	app     *app.App
	cfg     config.Config
	dataDir string
}

// assemble opens the benchmark database and builds the app on it. Settings come
// from the environment like the server's, except those the benchmark needs.
func assemble(ctx context.Context, db database, getenv func(string) string, log *slog.Logger) (*assembly, error) {
	dir, err := os.MkdirTemp("", "staffroom-bench-")
	if err != nil {
		return nil, err
	}
	overrides := map[string]string{
		"STAFFROOM_DATA_DIR":           dir, // a development signing key, made for this run
		"STAFFROOM_ENV":                "development",
		"STAFFROOM_SIGNING_KEY_FILE":   "",
		"STAFFROOM_SESSION_RATE_LIMIT": "0",  // logIn is a scenario
		"STAFFROOM_ACCESS_TOKEN_TTL":   "2h", // outlives the run
	}
	cfg, err := config.Load(nil, func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return getenv(k)
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s, err := openStore(ctx, db, cfg.DBMaxOpenConns, cfg.DBMaxIdleConns, cfg.DBStatementCache)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	a, err := app.New(cfg, s, log, app.Options{Mailer: &mail.Recorder{}})
	if err != nil {
		s.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	return &assembly{db: s, app: a, cfg: cfg, dataDir: dir}, nil
}

func (a *assembly) Close() {
	a.db.Close()
	os.RemoveAll(a.dataDir)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
