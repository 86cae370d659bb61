package bench

import (
	"bytes"
	"fmt"
	"math"
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

// measurement is one measured run: at a fixed number of clients (closed loop)
// or at a fixed arrival rate (open loop).
type measurement struct {
	clients    int     // closed loop: concurrent clients
	rate       float64 // open loop: requests sent a second
	requests   uint64
	failures   uint64
	throughput float64 // successful requests a second
	p50        time.Duration
	p95        time.Duration
	p99        time.Duration
	max        time.Duration
	statements float64 // SQL statements a request
	allocs     float64 // allocations a request in the handler: the process's less the echo baseline
	echoAllocs float64 // the echo baseline: the load client's and net/http's allocations a request
	peakRSS    uint64  // bytes, the process's high-water mark during the run
	memory     memoryPeak
	firstError string
}

// loader runs the load: closed loop (a fixed number of clients, each sending
// its next request when the previous one is answered) or open loop (requests
// sent at a fixed rate whether or not earlier ones were answered).
type loader struct {
	warmup, duration time.Duration
	echo             *echoServer
}

// client is the HTTP client of clients concurrent clients, one connection each,
// or with as many connections as it needs when clients is 0 (open loop).
// Each run has its own, closed afterwards, so that no run inherits another's
// idle connections (which the server would keep, with their goroutines).
func client(clients int) (*http.Client, func()) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
	}
	if clients == 0 {
		// Connections are opened when every open one is busy and kept: an
		// open loop should not pay a handshake per request.
		tr.MaxIdleConnsPerHost = 1024
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, tr.CloseIdleConnections
}

// pace is how a run sends its requests: closed, from a fixed number of
// clients, or open, at a fixed rate.
type pace struct {
	clients int     // closed loop
	rate    float64 // open loop: requests a second
}

// attacker returns vegeta's attacker and pacer for the pace. No more workers
// than clients makes a closed loop, where the zero rate sends as fast as the
// workers are free; an open loop has as many workers as the rate needs (vegeta
// starts one whenever all are busy at a tick), so that a slow answer never
// holds back the requests due after it.
func (p pace) attacker(c *http.Client) (*vegeta.Attacker, vegeta.Pacer) {
	if p.rate > 0 {
		// Per second, or per 10 s below 10 a second, to keep the rate's precision.
		per := time.Second
		freq := int(math.Round(p.rate))
		if p.rate < 10 {
			per, freq = 10*time.Second, int(math.Round(10*p.rate))
		}
		return vegeta.NewAttacker(vegeta.Client(c)), vegeta.ConstantPacer{Freq: max(1, freq), Per: per}
	}
	n := uint64(p.clients)
	return vegeta.NewAttacker(vegeta.Client(c), vegeta.Workers(n), vegeta.MaxWorkers(n)), vegeta.Rate{}
}

// attack sends requests at the pace for d and returns vegeta's metrics and the
// responses that failed the check.
func attack(c *http.Client, tr vegeta.Targeter, p pace, d time.Duration, ok func([]byte) bool) (vegeta.Metrics, uint64, string) {
	var (
		m        vegeta.Metrics
		failures uint64
		first    string
	)
	atk, pacer := p.attacker(c)
	for res := range atk.Attack(tr, pacer, d, "") {
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
	return l.run(s, pace{clients: clients}, profile)
}

// openLoop warms up, then measures a side at a fixed arrival rate (requests a
// second): each request leaves on schedule, whether or not the ones before it
// were answered, so that its latency is the server's and not time spent
// waiting for a client to be free.
func (l *loader) openLoop(s side, rate float64) (measurement, error) {
	return l.run(s, pace{rate: rate}, "")
}

func (l *loader) run(s side, p pace, profile string) (measurement, error) {
	tr := s.target(s.base)
	c, closeClient := client(p.clients)
	defer closeClient()
	if l.warmup > 0 {
		attack(c, tr, p, l.warmup, s.ok)
	}
	baseline, err := l.echo.allocs(s, p)
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
	sampled := sampleMemory()
	m, failures, first := attack(c, tr, p, l.duration, s.ok)
	memory := sampled()
	if profile != "" {
		pprof.StopCPUProfile()
		if err := writeAllocs(profile + ".allocs"); err != nil {
			return measurement{}, err
		}
	}
	statements = s.statements() - statements
	runtime.ReadMemStats(&after)
	out := measurement{
		clients: p.clients, rate: p.rate, requests: m.Requests, failures: failures, firstError: first,
		p50: m.Latencies.P50, p95: m.Latencies.P95, p99: m.Latencies.P99, max: m.Latencies.Max,
		peakRSS: peakRSS(), memory: memory, echoAllocs: baseline,
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

// allocs returns the allocations a request of the side costs, at the pace,
// when nothing but a canned copy of its answer is served.
func (e *echoServer) allocs(s side, p pace) (float64, error) {
	body, err := fetch(s.target(s.base))
	if err != nil {
		return 0, err
	}
	e.body.Store(&body)
	tr := s.target(e.srv.URL)
	c, closeClient := client(p.clients)
	defer closeClient()
	accept := func([]byte) bool { return true }
	attack(c, tr, p, e.duration/5, accept)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, _, _ := attack(c, tr, p, e.duration, accept)
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
