// Command staffroom is the Staffroom GraphQL API server.
//
//	go run .            serve on 127.0.0.1:8080 (embedded SQLite in ./data unless DATABASE_URL is set)
//	go run . migrate    apply database migrations and exit
//	go run . schema     print the GraphQL schema (SDL)
//	go run . demo       create the demo organization and print its logins (development)
//	go run . seed -bench  write the benchmark data set on PostgreSQL (see docs/benchmarks.md)
//	go run . bench      run the load benchmark and write docs/benchmarks.md
//	go run . -help      list the commands and every setting
package main

import (
	"context"
	"errors"
	"flag"
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

	"github.com/vektah/gqlparser/v2/formatter"

	"staffroom/graph"
	"staffroom/internal/app"
	"staffroom/internal/bench"
	"staffroom/internal/config"
	"staffroom/internal/demo"
	"staffroom/internal/store"

	_ "staffroom/ent/runtime" // registers the privacy policies and hooks
)

// commands are what staffroom does, in the order help lists them.
var commands = []struct{ name, summary string }{
	{"serve", "run the API server (the default command)"},
	{"migrate", "apply database migrations and exit"},
	{"schema", "print the GraphQL schema (SDL), for client code generation"},
	{"demo", "create the demo organization, a login for every role, and print the logins (development only)"},
	{"seed", "write the benchmark data set on PostgreSQL (seed -help)"},
	{"bench", "run the load benchmark and rewrite docs/benchmarks.md (bench -help)"},
	{"help", "list the commands and every setting"},
}

// errUsage marks a command line that names no command; it exits with 2, as flag
// errors do.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "staffroom:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "staffroom:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	if command == "help" || (command == "serve" && len(args) > 0 && isHelp(args[0])) {
		return help(stdout, getenv)
	}
	// Checked before anything opens the data directory or the database.
	switch command {
	case "serve", "migrate", "demo":
	case "schema":
		return printSchema(stdout)
	case "seed": // the benchmark's commands take their own flags and database
		return bench.Seed(ctx, args, getenv, stdout)
	case "bench":
		return bench.Run(ctx, args, getenv, stdout)
	default:
		return fmt.Errorf("%w: unknown command %q; staffroom help lists the commands", errUsage, command)
	}
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	if command == "demo" && !cfg.Development() {
		return errors.New("demo: refused outside development: its logins share a published password")
	}
	log := newLogger(cfg, stdout)

	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, store.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns, StatementCache: cfg.DBStatementCache,
		TransactionPooling: cfg.DBTransactionPooling,
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

	if command == "migrate" {
		fmt.Fprintf(stdout, "database is up to date (%d migrations applied now)\n", len(applied))
		return nil
	}
	if command == "demo" {
		a, err := app.New(cfg, db, log, app.Options{})
		if err != nil {
			return err
		}
		return demo.Seed(ctx, demo.Services{Client: db.Client, Auth: a.Auth, Invitations: a.Invitations}, stdout)
	}
	return serve(ctx, cfg, db, log, stdout)
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

// help lists the commands on stdout, then the settings as the flag package
// prints them (on stderr), and returns flag.ErrHelp.
func help(stdout io.Writer, getenv func(string) string) error {
	fmt.Fprint(stdout, "Staffroom, a GraphQL API server for multi-organization staff management.\n\n"+
		"Usage: staffroom [command] [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(stdout, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(stdout, "\nSettings of serve and migrate (each flag also reads the environment variable in brackets):\n")
	_, err := config.Load([]string{"-help"}, getenv)
	return err
}

// printSchema writes the whole schema the server serves, ent's types included.
func printSchema(w io.Writer) error {
	schema := graph.NewSchema(graph.Deps{}).Schema()
	formatter.NewFormatter(w, formatter.WithIndent("  ")).FormatSchema(schema)
	return nil
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
	errc := make(chan error, 2) // the main and the metrics listener
	go func() { errc <- srv.Serve(ln) }()
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	go a.Outbox.Run(workerCtx)
	go a.Webhooks.Run(workerCtx)
	go a.Expiry.Run(workerCtx)
	fmt.Fprintf(stdout, "Staffroom is listening on %s (GraphQL at %s/graphql, %s database)\n",
		displayURL(ln.Addr()), displayURL(ln.Addr()), db.Dialect)
	if a.Metrics != nil {
		metricsSrv, err := serveMetrics(cfg.MetricsAddr, a.Metrics, log, errc, stdout)
		if err != nil {
			return err
		}
		defer metricsSrv.Close()
	}

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

// serveMetrics serves /metrics on an address of its own, which a deployment can
// keep off the public network.
func serveMetrics(addr string, h http.Handler, log *slog.Logger, errc chan<- error, stdout io.Writer) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case errc <- fmt.Errorf("metrics: %w", err):
			default:
			}
		}
	}()
	fmt.Fprintf(stdout, "Metrics at %s/metrics\n", displayURL(ln.Addr()))
	return srv, nil
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
