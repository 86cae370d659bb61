package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// report is everything one bench run measured.
type report struct {
	machine  machine
	options  options
	results  []result
	authz    authzResult
	startups []time.Duration
}

type result struct {
	scenario scenario
	rows     []row
	// Reads: GraphQL and the floor at a fixed arrival rate, half (-open) of
	// GraphQL's peak.
	open, openFloor measurement
}

// peak is the best throughput of the scenario's GraphQL runs at any concurrency.
func (res result) peak() float64 {
	var best float64
	for _, w := range res.rows {
		best = max(best, w.graphql.throughput)
	}
	return best
}

// row is one concurrency of a scenario: the floor (reads only) and GraphQL.
type row struct {
	clients        int
	graphql, floor measurement
}

// ratio is GraphQL's throughput as a fraction of the floor's.
func (r row) ratio() float64 {
	if r.floor.throughput == 0 {
		return 0
	}
	return r.graphql.throughput / r.floor.throughput
}

// The generated section of the benchmark page lies between these lines; the
// rest of the page is written by hand.
const (
	sectionBegin = "<!-- begin: written by `make bench`; edit outside these markers -->"
	sectionEnd   = "<!-- end: written by `make bench` -->"
)

// writeSection replaces the generated section of the page at path, or appends
// one when the page has none.
func writeSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	block := sectionBegin + "\n" + section + sectionEnd + "\n"
	begin, end := strings.Index(text, sectionBegin), strings.Index(text, sectionEnd)
	switch {
	case begin >= 0 && end > begin:
		text = text[:begin] + block + text[end+len(sectionEnd):]
		text = strings.Replace(text, block+"\n", block, 1)
	case text == "":
		text = "# Benchmarks\n\n" + block
	default:
		text = strings.TrimRight(text, "\n") + "\n\n" + block
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

func mb(b uint64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m, o := r.machine, r.options
	p("Measured %s on %s.\n\n", m.date.Format("2006-01-02 15:04 MST"), m)
	p("Commit %s. Each run: %s of warm-up, then %s measured, at %s concurrent clients; "+
		"each read's floor runs right before it at the same concurrency.\n\n",
		m.commit, o.warmup, o.duration, joinInts(o.concurrency))

	p("### Reads against the floor\n\n")
	p("| scenario | clients | req/s | floor req/s | of floor | p50 | p95 | p99 | floor p99 | SQL/req | floor SQL/req | allocs/req | floor allocs/req | peak RSS |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, res := range r.results {
		if !res.scenario.read() {
			continue
		}
		for _, w := range res.rows {
			g, f := w.graphql, w.floor
			p("| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %.1f | %.1f | %.0f | %.0f | %s |\n",
				res.scenario.name, w.clients, g.throughput, f.throughput, pct(w.ratio()),
				ms(g.p50), ms(g.p95), ms(g.p99), ms(f.p99), g.statements, f.statements, g.allocs, f.allocs,
				mb(max(g.peakRSS, f.peakRSS)))
		}
	}
	p("\n### Writes\n\n")
	p("| scenario | clients | req/s | p50 | p95 | p99 | SQL/req | allocs/req | peak RSS |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, res := range r.results {
		if res.scenario.read() {
			continue
		}
		for _, w := range res.rows {
			g := w.graphql
			p("| %s | %d | %.0f | %s | %s | %s | %.1f | %.0f | %s |\n",
				res.scenario.name, w.clients, g.throughput, ms(g.p50), ms(g.p95), ms(g.p99), g.statements, g.allocs, mb(g.peakRSS))
		}
	}
	if lo, _ := r.logInPeak(); lo.memory.rss > 0 {
		mem := lo.memory
		p("\nMemory during `logIn` at %d clients, its run with the highest peak, at the largest resident set sampled (%s): heap objects %s "+
			"(live and not yet collected), free heap not returned to the system %s, stacks %s, the rest of Go's runtime %s, "+
			"outside Go (program text and data) %s. Over the run the collector found at most %s live and let the heap grow to %s "+
			"before collecting (GOGC), %d times.\n",
			lo.clients, mb(mem.rss), mb(mem.heap), mb(mem.heapFree), mb(mem.stacks), mb(mem.runtime), mb(mem.outside),
			mb(mem.live), mb(mem.goal), mem.gcs)
	}
	p("\nScenarios: ")
	for i, res := range r.results {
		if i > 0 {
			p("; ")
		}
		p("`%s`: %s", res.scenario.name, res.scenario.title)
	}
	p(".\n")
	if lo, hi := r.echoRange(); hi > 0 {
		p("\nallocs/req counts the process's allocations per request less those of the same requests answered by a handler "+
			"that writes the same bytes: the load client and net/http, %.0f to %.0f per request here.\n", lo, hi)
	}
	if failed := r.failures(); failed != "" {
		p("\n**Failed requests:** %s\n", failed)
	}
	r.openLoop(p)

	if r.authz.privacy.ops > 0 {
		a := r.authz
		p("\n### Authorization\n\n")
		p("`members(first: 50)` as the owner, in-process through the GraphQL handler (no HTTP, no token), one request at a time, the two contexts alternating in rounds:\n\n")
		p("| context | per request | allocs/req | SQL/req | requests |\n|---|--:|--:|--:|--:|\n")
		p("| viewer, every privacy rule | %s | %.0f | %.1f | %d |\n", ms(a.privacy.perOp), a.privacy.allocs, a.privacy.statements, a.privacy.ops)
		p("| system context (privacy bypassed) | %s | %.0f | %.1f | %d |\n", ms(a.system.perOp), a.system.allocs, a.system.statements, a.system.ops)
		p("\nAuthorization adds %+.1f%% (the median of %d rounds' ratios).\n", 100*a.overhead(), len(a.ratios))
	}
	if len(r.startups) > 0 {
		p("\n### Start-up\n\n")
		p("From process start to the first answer to `{ __typename }`, SQLite, fresh data directory (migrations and signing key included), %d starts: median %s, slowest %s.\n",
			len(r.startups), ms(r.startups[len(r.startups)/2]), ms(r.startups[len(r.startups)-1]))
	}
	r.budget(p)
	return b.String()
}

// openShare names the open loop's rate as a share of the peak.
func (r *report) openShare() string {
	if r.options.open == 0.5 {
		return "half"
	}
	return pct(r.options.open)
}

// openLatencyBudget is the p99 each read must keep in the open loop.
const (
	openLatencyBudget     = 25 * time.Millisecond
	openLatencyBudgetText = "25 ms"
)

// openLoop renders the reads at a fixed arrival rate.
func (r *report) openLoop(p func(string, ...any)) {
	if r.options.open == 0 || !slices.ContainsFunc(r.results, func(res result) bool { return res.open.requests > 0 }) {
		return
	}
	p("\n### Open loop at %s of peak\n\n", r.openShare())
	p("Each read right after its runs above, at a fixed arrival rate of %s its own peak (its best req/s there): "+
		"requests leave on schedule whether or not the earlier ones were answered, so a latency is the server's and not a wait "+
		"for a free client. The floor runs right before it at the same rate. %s at that rate to warm up, then %s measured.\n\n",
		r.openShare(), r.options.warmup, r.options.duration)
	p("| scenario | peak req/s | rate | answered req/s | p50 | p95 | p99 | max | floor p99 | p99 < %s |\n", openLatencyBudgetText)
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, res := range r.results {
		o := res.open
		if o.requests == 0 {
			continue
		}
		p("| %s | %.0f | %.0f/s | %.0f | %s | %s | %s | %s | %s | %s |\n", res.scenario.name, res.peak(), o.rate, o.throughput,
			ms(o.p50), ms(o.p95), ms(o.p99), ms(o.max), ms(res.openFloor.p99), verdict(o.p99 < openLatencyBudget && o.failures == 0))
	}
}

// logInPeak returns the logIn run with the largest peak RSS, and the most
// clients logIn ran at.
func (r *report) logInPeak() (peak measurement, clients int) {
	for _, res := range r.results {
		if res.scenario.name != "logIn" {
			continue
		}
		for _, w := range res.rows {
			if w.graphql.peakRSS >= peak.peakRSS {
				peak = w.graphql
			}
			clients = max(clients, w.clients)
		}
	}
	return peak, clients
}

// echoRange returns the smallest and largest allocations per request that the
// load client and net/http cost.
func (r *report) echoRange() (lo, hi float64) {
	for _, res := range r.results {
		for _, w := range res.rows {
			for _, m := range []measurement{w.graphql, w.floor} {
				if m.requests == 0 {
					continue
				}
				if lo == 0 || m.echoAllocs < lo {
					lo = m.echoAllocs
				}
				hi = max(hi, m.echoAllocs)
			}
		}
	}
	return lo, hi
}

func (r *report) failures() string {
	var out []string
	for _, res := range r.results {
		for _, o := range []struct {
			side string
			m    measurement
		}{{"graphql", res.open}, {"floor", res.openFloor}} {
			if o.m.failures > 0 {
				out = append(out, fmt.Sprintf("%s %s at %.0f/s: %d of %d (%s)",
					res.scenario.name, o.side, o.m.rate, o.m.failures, o.m.requests, o.m.firstError))
			}
		}
		for _, w := range res.rows {
			for _, m := range []struct {
				side string
				m    measurement
			}{{"graphql", w.graphql}, {"floor", w.floor}} {
				if m.m.failures > 0 {
					out = append(out, fmt.Sprintf("%s %s at %d clients: %d of %d (%s)",
						res.scenario.name, m.side, w.clients, m.m.failures, m.m.requests, m.m.firstError))
				}
			}
		}
	}
	return strings.Join(out, "; ")
}

// ofFloor are the budget's throughput targets: GraphQL's req/s as a share of
// its floor's, at these numbers of clients.
var ofFloor = []struct {
	scenario string
	clients  []int
	share    float64
}{
	{"viewer", []int{16, 64}, 0.50},
	{"members", []int{64}, 0.40},
	{"node", []int{64}, 0.50},
	{"instructor", []int{64}, 0.60},
}

// allocBudget is the most allocations a request of these reads may cost.
var allocBudget = []struct {
	scenario string
	allocs   float64
}{{"members", 5000}, {"viewer", 1200}}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// budget renders the budget against the figures, at 64 clients (or the
// highest concurrency run) unless a target names another.
func (r *report) budget(p func(string, ...any)) {
	at := slices.Max(r.options.concurrency)
	if slices.Contains(r.options.concurrency, 64) {
		at = 64
	}
	byName := map[string]result{}
	for _, res := range r.results {
		byName[res.scenario.name] = res
	}
	p("\n### Budget\n\n| item | budget | measured | |\n|---|---|---|---|\n")
	for _, t := range ofFloor {
		res, ran := byName[t.scenario]
		if !ran {
			continue
		}
		var judged []int
		for _, c := range t.clients {
			if c == 64 {
				c = at // the budget's highest concurrency is the run's
			}
			w, found := res.rowAt(c)
			if !found || slices.Contains(judged, c) {
				continue
			}
			judged = append(judged, c)
			p("| `%s` throughput at %d clients | ≥ %s of its floor | %s | %s |\n",
				t.scenario, c, pct(t.share), pct(w.ratio()), verdict(w.ratio() >= t.share))
		}
	}
	for _, t := range allocBudget {
		if w, found := byName[t.scenario].rowAt(at); found {
			p("| `%s` allocations per request at %d clients | ≤ %s | %s | %s |\n",
				t.scenario, at, thousands(t.allocs), thousands(w.graphql.allocs), verdict(w.graphql.allocs <= t.allocs))
		}
	}
	if r.authz.privacy.ops > 0 {
		p("| authorization on `members(first: 50)` | ≤ 15%% over the system context | %+.1f%% | %s |\n",
			100*r.authz.overhead(), verdict(r.authz.overhead() <= 0.15))
	}
	var p99s []string
	p99ok := true
	for _, res := range r.results {
		if o := res.open; o.requests > 0 {
			p99s = append(p99s, fmt.Sprintf("%s %s", res.scenario.name, ms(o.p99)))
			p99ok = p99ok && o.p99 < openLatencyBudget && o.failures == 0
		}
	}
	if len(p99s) > 0 {
		p("| p99 of every read, open loop at %s of its peak | < %s | %s | %s |\n",
			r.openShare(), openLatencyBudgetText, strings.Join(p99s, ", "), verdict(p99ok))
	}
	var peak uint64
	for _, res := range r.results {
		if res.scenario.name == "logIn" {
			continue
		}
		for _, w := range res.rows {
			peak = max(peak, w.graphql.peakRSS, w.floor.peakRSS)
		}
		peak = max(peak, res.open.peakRSS, res.openFloor.peakRSS)
	}
	if peak > 0 {
		p("| peak RSS, whole run but `logIn` | < 150 MB | %s | %s |\n", mb(peak), verdict(peak < 150e6))
	}
	if lo, clients := r.logInPeak(); lo.peakRSS > 0 {
		p("| peak RSS during `logIn`, up to %d concurrent log-ins (reported apart) | < 150 MB | %s | %s |\n",
			clients, mb(lo.peakRSS), verdict(lo.peakRSS < 150e6))
	}
	if len(r.startups) > 0 {
		median := r.startups[len(r.startups)/2]
		p("| start-up to first answer on SQLite | < 1 s | %s (median) | %s |\n", ms(median), verdict(median < time.Second))
	}
	if !r.machine.peakResets {
		p("\nPeak RSS could not be reset between runs here: each figure is the process's peak so far.\n")
	}
}

func (res result) rowAt(clients int) (row, bool) {
	for _, w := range res.rows {
		if w.clients == clients {
			return w, true
		}
	}
	return row{}, false
}

// thousands formats a count with a comma between thousands: 13,576.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
