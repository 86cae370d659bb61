package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
)

// run measures start-up and authorization, then every scenario at every
// concurrency, the floor right before its GraphQL twin, and each read at a fixed
// arrival rate after its closed-loop runs; and writes the report.
func run(ctx context.Context, o options, getenv func(string) string, stdout io.Writer) error {
	// The server logs a line a request as in production; the lines are dropped.
	serverLog := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := assemble(ctx, o.db, getenv, serverLog)
	if err != nil {
		return err
	}
	defer a.Close()
	dbURL, err := o.db.url()
	if err != nil {
		return err
	}
	fl, err := newFloor(ctx, dbURL, a.cfg.DBMaxOpenConns)
	if err != nil {
		return err
	}
	defer fl.Close()
	gqlServer := httptest.NewServer(a.app.Handler)
	defer gqlServer.Close()
	floorServer := httptest.NewServer(fl.Handler())
	defer floorServer.Close()

	r := &report{machine: describeMachine(ctx, fl.db), options: o}
	fmt.Fprintf(stdout, "machine: %s\ncommit: %s\n", r.machine, r.machine.commit)
	f, err := loadFixture(ctx, a, gqlServer.URL)
	if err != nil {
		return err
	}
	list := scenarios(f, a, fl, gqlServer.URL, floorServer.URL, o.scenarios)
	if err := verifyFloors(list); err != nil {
		return err
	}

	if o.startups > 0 {
		if r.startups, err = measureStartup(ctx, o.startups); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "start-up on SQLite: %v\n", r.startups)
	}
	if o.authz > 0 {
		if r.authz, err = measureAuthz(ctx, a, f, o.authz); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "authorization: privacy %v/op, system %v/op: %+.1f%%\n",
			r.authz.privacy.perOp, r.authz.system.perOp, 100*r.authz.overhead())
	}

	echo := newEchoServer()
	defer echo.Close()
	l := &loader{warmup: o.warmup, duration: o.duration, echo: echo}
	most := slices.Max(o.concurrency)
	for _, s := range list {
		res := result{scenario: s}
		for _, c := range o.concurrency {
			row := row{clients: c}
			if s.read() {
				if row.floor, err = l.measure(*s.floor, c, ""); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%-12s %3d clients  floor    %s\n", s.name, c, row.floor)
			}
			profile := ""
			if s.name == o.profiled && c == most {
				profile = o.cpuProfile
			}
			if row.graphql, err = l.measure(s.graphql, c, profile); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%-12s %3d clients  graphql  %s\n", s.name, c, row.graphql)
			res.rows = append(res.rows, row)
		}
		if s.read() && o.open > 0 {
			// At GraphQL's rate, the floor too: what the machine itself does at
			// that rate, load client and PostgreSQL included.
			rate := o.open * res.peak()
			if res.openFloor, err = l.openLoop(*s.floor, rate); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%-12s %4.0f/s open   floor    %s\n", s.name, rate, res.openFloor)
			if res.open, err = l.openLoop(s.graphql, rate); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%-12s %4.0f/s open   graphql  %s\n", s.name, rate, res.open)
		}
		r.results = append(r.results, res)
	}

	md := r.markdown()
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, md)
	if o.out == "" {
		return nil
	}
	if err := writeSection(o.out, md); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", o.out)
	return nil
}

func (m measurement) String() string {
	s := fmt.Sprintf("%8.0f req/s  p50 %6s  p95 %6s  p99 %6s  %5.1f SQL/req  %6.0f allocs/req  peak RSS %s",
		m.throughput, ms(m.p50), ms(m.p95), ms(m.p99), m.statements, m.allocs, mb(m.peakRSS))
	if m.failures > 0 {
		s += fmt.Sprintf("  %d FAILED, first: %s", m.failures, m.firstError)
	}
	return s
}

// verifyFloors checks, before anything is measured, that each read's floor
// answers with the same data as GraphQL.
func verifyFloors(list []scenario) error {
	for _, s := range list {
		if !s.read() {
			continue
		}
		got, err := fetch(s.graphql.target(s.graphql.base))
		if err != nil {
			return err
		}
		want, err := fetch(s.floor.target(s.floor.base))
		if err != nil {
			return err
		}
		if !graphqlOK(got) {
			return fmt.Errorf("bench: %s: GraphQL answered with errors: %s", s.name, got)
		}
		g, err := canonical(got)
		if err != nil {
			return err
		}
		w, err := canonical(want)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Errorf("bench: %s: the floor's data differs from GraphQL's\ngraphql: %s\nfloor:   %s", s.name, got, want)
		}
	}
	return nil
}

// canonical decodes an answer, with lists of groups sorted: neither side
// promises their order.
func canonical(body []byte) (any, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("bench: %w: %s", err, body)
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if list, ok := child.([]any); ok && k == "groups" {
					sort.Slice(list, func(i, j int) bool { return fmt.Sprint(list[i]) < fmt.Sprint(list[j]) })
				}
				walk(child)
			}
		case []any:
			for _, child := range t {
				walk(child)
			}
		}
	}
	walk(v)
	return v, nil
}
