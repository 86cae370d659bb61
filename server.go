// Command staffroom is the Staffroom GraphQL API server.
//
//	go run .            serve on :8080 (embedded SQLite in ./data unless DATABASE_URL is set)
//	go run . migrate    apply database migrations and exit
//	go run . seed -bench  write the benchmark data set on PostgreSQL (see docs/benchmarks.md)
//	go run . bench      run the load benchmark and write docs/benchmarks.md
//	go run . -help      list every setting
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"staffroom/internal/app"
	"staffroom/internal/bench"
	"staffroom/internal/config"
	"staffroom/internal/store"

	_ "staffroom/ent/runtime" // registers the privacy policies and hooks
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "staffroom:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	// The benchmark's commands take their own flags and open their own database.
	switch command {
	case "seed":
		return bench.Seed(ctx, args, getenv, stdout)
	case "bench":
		return bench.Run(ctx, args, getenv, stdout)
	}
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)

	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, store.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns, StatementCache: cfg.DBStatementCache,
	})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := store.Migrate(ctx, db)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "dialect", db.Dialect, "versions", applied)
	}

	switch command {
	case "migrate":
		fmt.Fprintf(stdout, "database is up to date (%d migrations applied now)\n", len(applied))
		return nil
	case "serve":
		return serve(ctx, cfg, db, log, stdout)
	default:
		return fmt.Errorf("unknown command %q (use serve, migrate, seed or bench)", command)
	}
}

func serve(ctx context.Context, cfg config.Config, db *store.DB, log *slog.Logger, stdout io.Writer) error {
	a, err := app.New(cfg, db, log, app.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	go a.Outbox.Run(workerCtx)
	fmt.Fprintf(stdout, "Staffroom is listening on %s (GraphQL at %s/graphql, %s database)\n",
		displayURL(ln.Addr()), displayURL(ln.Addr()), db.Dialect)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func displayURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Development() {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
