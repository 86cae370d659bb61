package bench

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// side is one way of answering a scenario's requests: the GraphQL server or
// its floor. target builds the requests against a base URL, so that the same
// requests can be sent to the echo server that measures the load client.
type side struct {
	target     func(base string) vegeta.Targeter
	base       string
	ok         func(body []byte) bool
	statements func() int64
}

// measurement is one measured run at a fixed number of clients.
type measurement struct {
	clients    int
	requests   uint64
	failures   uint64
	throughput float64 // successful requests a second
	p50        time.Duration
	p95        time.Duration
	p99        time.Duration
	statements float64 // SQL statements a request
	allocs     float64 // allocations a request in the handler: the process's less the echo baseline
	echoAllocs float64 // the echo baseline: the load client's and net/http's allocations a request
	peakRSS    uint64  // bytes, the process's high-water mark during the run
	firstError string
}

// loader runs closed-loop load: a fixed number of clients, each sending its
// next request when the previous one is answered.
type loader struct {
	warmup, duration time.Duration
	echo             *echoServer
}

// client is the HTTP client of clients concurrent clients, one connection each.
// Each run has its own, closed afterwards, so that no run inherits another's
// idle connections (which the server would keep, with their goroutines).
func client(clients int) (*http.Client, func()) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, tr.CloseIdleConnections
}

// attack sends requests from clients for d and returns vegeta's metrics and the
// responses that failed the check.
func attack(c *http.Client, tr vegeta.Targeter, clients int, d time.Duration, ok func([]byte) bool) (vegeta.Metrics, uint64, string) {
	var (
		m        vegeta.Metrics
		failures uint64
		first    string
	)
	n := uint64(clients)
	// No more workers than clients makes a closed loop; the zero rate sends as
	// fast as the workers are free.
	atk := vegeta.NewAttacker(vegeta.Client(c), vegeta.Workers(n), vegeta.MaxWorkers(n))
	for res := range atk.Attack(tr, vegeta.Rate{}, d, "") {
		m.Add(res)
		if res.Error != "" || !ok(res.Body) {
			failures++
			if first == "" {
				first = res.Error
				if first == "" {
					first = string(res.Body[:min(len(res.Body), 300)])
				}
			}
		}
	}
	m.Close()
	return m, failures, first
}

// measure warms up, then measures a side at a number of clients. With a
// profile path, the measured part is CPU-profiled, and the allocations since the
// process began (mostly this run's) are written beside it.
func (l *loader) measure(s side, clients int, profile string) (measurement, error) {
	tr := s.target(s.base)
	c, closeClient := client(clients)
	defer closeClient()
	if l.warmup > 0 {
		attack(c, tr, clients, l.warmup, s.ok)
	}
	baseline, err := l.echo.allocs(s, clients)
	if err != nil {
		return measurement{}, err
	}
	// Each run's peak is its own: what earlier runs left in the heap is returned
	// to the system first.
	debug.FreeOSMemory()
	resetPeakRSS()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	statements := s.statements()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return measurement{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return measurement{}, err
		}
	}
	m, failures, first := attack(c, tr, clients, l.duration, s.ok)
	if profile != "" {
		pprof.StopCPUProfile()
		if err := writeAllocs(profile + ".allocs"); err != nil {
			return measurement{}, err
		}
	}
	statements = s.statements() - statements
	runtime.ReadMemStats(&after)
	out := measurement{
		clients: clients, requests: m.Requests, failures: failures, firstError: first,
		p50: m.Latencies.P50, p95: m.Latencies.P95, p99: m.Latencies.P99,
		peakRSS: peakRSS(), echoAllocs: baseline,
	}
	if m.Requests > 0 {
		elapsed := (m.Duration + m.Wait).Seconds()
		out.throughput = float64(m.Requests-failures) / elapsed
		out.statements = float64(statements) / float64(m.Requests)
		out.allocs = max(0, float64(after.Mallocs-before.Mallocs)/float64(m.Requests)-baseline)
	}
	return out, nil
}

// echoServer answers every request with a canned body. Sending a side's
// requests to it measures what the load client and net/http allocate per
// request, which measure subtracts: what is left is the handler's.
type echoServer struct {
	srv      *httptest.Server
	body     atomic.Pointer[[]byte]
	duration time.Duration
}

func newEchoServer() *echoServer {
	e := &echoServer{duration: 500 * time.Millisecond}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(*e.body.Load())
	}))
	return e
}

func (e *echoServer) Close() { e.srv.Close() }

// allocs returns the allocations a request of the side costs when nothing but a
// canned copy of its answer is served.
func (e *echoServer) allocs(s side, clients int) (float64, error) {
	body, err := fetch(s.target(s.base))
	if err != nil {
		return 0, err
	}
	e.body.Store(&body)
	tr := s.target(e.srv.URL)
	c, closeClient := client(clients)
	defer closeClient()
	accept := func([]byte) bool { return true }
	attack(c, tr, clients, e.duration/5, accept)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, _, _ := attack(c, tr, clients, e.duration, accept)
	runtime.ReadMemStats(&after)
	if m.Requests == 0 {
		return 0, fmt.Errorf("bench: the echo server answered nothing")
	}
	return float64(after.Mallocs-before.Mallocs) / float64(m.Requests), nil
}

// fetch sends the targeter's next request once and returns the answer's body.
func fetch(tr vegeta.Targeter) ([]byte, error) {
	var t vegeta.Target
	if err := tr(&t); err != nil {
		return nil, err
	}
	req, err := t.Request()
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s %s: %s: %s", t.Method, t.URL, res.Status, buf.Bytes())
	}
	return buf.Bytes(), nil
}

// writeAllocs writes the allocation profile to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
