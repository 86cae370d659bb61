// Package bench provides Staffroom's load benchmark: a seeded PostgreSQL data
// set (one large organization and many small ones, written through the domain
// code), a load driver built on vegeta that runs each scenario at fixed
// concurrency against the real HTTP handler and against a hand-written SQL floor,
// then each read at a fixed arrival rate (open loop), and the markdown report
// that docs/benchmarks.md keeps.
package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// DefaultServerURL is the PostgreSQL server used when BENCH_DATABASE_URL is unset.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DefaultDatabase is the database the benchmark creates on that server.
const DefaultDatabase = "staffroom_bench"

// database names the benchmark database: a server URL and a database on it.
type database struct {
	serverURL string
	name      string
}

func (d *database) register(fs *flag.FlagSet, getenv func(string) string) {
	server := getenv("BENCH_DATABASE_URL")
	if server == "" {
		server = DefaultServerURL
	}
	fs.StringVar(&d.serverURL, "url", server, "PostgreSQL server to benchmark on; any database on it (BENCH_DATABASE_URL)")
	fs.StringVar(&d.name, "database", DefaultDatabase, "name of the benchmark database, created on that server")
}

// url returns the URL of the benchmark database.
func (d database) url() (string, error) { return withDatabase(d.serverURL, d.name) }

// withDatabase replaces the database of a postgres:// URL.
func withDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("bench: %q is not a postgres:// URL", serverURL)
	}
	if name == "" || strings.ContainsAny(name, "/?#") {
		return "", fmt.Errorf("bench: %q is not a database name", name)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// Seed is the seed command: `seed -bench` writes the benchmark data set.
func Seed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("staffroom seed", flag.ContinueOnError)
	var (
		db    database
		bench bool
		reset bool
		scale float64
	)
	db.register(fs, getenv)
	fs.BoolVar(&bench, "bench", false, "write the benchmark data set (the only data set there is)")
	fs.BoolVar(&reset, "reset", false, "drop and recreate the benchmark database first")
	fs.Float64Var(&scale, "scale", 1, "size of the large organization relative to the benchmark's (for quick trials)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !bench {
		return fmt.Errorf("seed: name the data set: seed -bench")
	}
	if scale <= 0 || scale > 1 {
		return fmt.Errorf("seed: -scale must be in (0, 1]")
	}
	start := time.Now()
	if reset {
		if err := resetDatabase(ctx, db); err != nil {
			return err
		}
	}
	counts, err := seed(ctx, db, defaultShape.scaled(scale), stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %s in %s: %s\n", db.name, time.Since(start).Round(100*time.Millisecond), counts)
	return nil
}

// Run is the bench command: it loads the seeded database and writes the report.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("staffroom bench", flag.ContinueOnError)
	var o options
	o.db.register(fs, getenv)
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before each measured run, not counted")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each run")
	concurrency := fs.String("concurrency", "1,16,64", "comma-separated numbers of concurrent clients")
	scenarios := fs.String("scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run")
	fs.Float64Var(&o.open, "open", 0.5, "open loop: after its closed-loop runs, each read is sent at this fraction of its best req/s at a fixed rate; 0 skips")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose generated section is replaced; empty: print only")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the process during one scenario's GraphQL run at the highest concurrency, and its allocation profile to the same path + .allocs")
	fs.StringVar(&o.profiled, "profile", "members", "the scenario -cpuprofile profiles")
	fs.DurationVar(&o.authz, "authz", 4*time.Second, "time spent measuring authorization against the system context; 0 skips")
	fs.IntVar(&o.startups, "startups", 3, "start-ups of a fresh SQLite server to time; 0 skips")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.concurrency, err = parseInts(*concurrency); err != nil {
		return fmt.Errorf("bench: -concurrency: %w", err)
	}
	if o.scenarios, err = pickScenarios(*scenarios); err != nil {
		return fmt.Errorf("bench: -scenarios: %w", err)
	}
	if o.duration <= 0 || o.warmup < 0 {
		return fmt.Errorf("bench: -duration must be positive and -warmup not negative")
	}
	if o.open < 0 || o.open > 1 {
		return fmt.Errorf("bench: -open must be in [0, 1]")
	}
	return run(ctx, o, getenv, stdout)
}

// options of one bench run.
type options struct {
	db          database
	warmup      time.Duration
	duration    time.Duration
	concurrency []int
	open        float64 // fraction of each read's peak req/s sent in the open loop
	scenarios   []string
	out         string
	cpuProfile  string
	profiled    string
	authz       time.Duration
	startups    int
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(part), "%d", &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", part)
		}
		out = append(out, n)
	}
	return out, nil
}
