// Package metrics provides Staffroom's Prometheus metrics: GraphQL requests,
// latency and errors by code, log-in failures, HTTP responses by route, the
// database pool, the email outbox and the Go runtime.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"staffroom/ent/outboxemail"
	"staffroom/internal/access"
	"staffroom/internal/store"
)

// maxOperations bounds the distinct operation names recorded: names come from
// clients, and each one is a new series.
const maxOperations = 200

// Label values for operations that have no name of their own.
const (
	anonymous = "anonymous"
	other     = "other"
)

// loginFailures are the error codes a failed log-in answers with; each is
// counted as a log-in failure besides its count among errors.
var loginFailures = map[string]bool{"INVALID_CREDENTIALS": true, "ACCOUNT_LOCKED": true}

// codePattern is the shape of the codes of the error presenter; anything else
// is recorded as "other", so that a label stays bounded.
var codePattern = regexp.MustCompile(`^[A-Z][A-Z_]{0,39}$`)

// Metrics records the server's metrics in a registry of its own.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	errors     *prometheus.CounterVec
	logins     *prometheus.CounterVec
	http       *prometheus.CounterVec
	deliveries *prometheus.CounterVec

	mu         sync.Mutex
	operations map[string]bool
}

// New returns the metrics of a server on db.
func New(db *store.DB, log *slog.Logger) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "staffroom_graphql_requests_total",
			Help: "GraphQL operations answered, by operation name and outcome (ok, or error when the response has errors).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "staffroom_graphql_request_duration_seconds",
			Help:    "Time from reading a GraphQL operation to its response, by operation name and outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "staffroom_graphql_errors_total",
			Help: "Errors in GraphQL responses, by extensions.code.",
		}, []string{"code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "staffroom_login_failures_total",
			Help: "Refused log-ins: INVALID_CREDENTIALS (wrong email or password) or ACCOUNT_LOCKED (refused by a lock).",
		}, []string{"code"}),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "staffroom_http_requests_total",
			Help: "HTTP responses by route and status code, including those refused before GraphQL runs (401, 413).",
		}, []string{"route", "code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "staffroom_outbox_deliveries_total",
			Help: "Emails whose delivery ended, by final status (SENT, or FAILED after the last retry).",
		}, []string{"status"}),
		operations: map[string]bool{},
	}
	m.registry.MustRegister(
		m.requests, m.duration, m.errors, m.logins, m.http, m.deliveries,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL, "staffroom"),
		&outboxCollector{db: db, log: log},
	)
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// InterceptResponse is a gqlgen response interceptor (for AroundResponses): it
// records each operation with the codes of the errors in its response, which
// the error presenter has set by then.
func (m *Metrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	operation := ""
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if !oc.Stats.OperationStart.IsZero() {
			start = oc.Stats.OperationStart
		}
		if oc.Operation != nil {
			operation = m.operationLabel(oc.Operation.Name)
		} else {
			operation = other // the document did not parse or named no operation
		}
	}
	outcome := "ok"
	if len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.requests.WithLabelValues(operation, outcome).Inc()
	m.duration.WithLabelValues(operation, outcome).Observe(time.Since(start).Seconds())
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		if !codePattern.MatchString(code) {
			code = other
		}
		m.errors.WithLabelValues(code).Inc()
		if loginFailures[code] {
			m.logins.WithLabelValues(code).Inc()
		}
	}
	return resp
}

func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return anonymous
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.operations[name] {
		return name
	}
	if len(m.operations) >= maxOperations {
		return other
	}
	m.operations[name] = true
	return name
}

// Instrument counts the responses of h under a fixed route name.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	counter := m.http.MustCurryWith(prometheus.Labels{"route": route})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		counter.WithLabelValues(strconv.Itoa(rec.status)).Inc()
	})
}

// OutboxDelivered counts an email whose delivery ended with status.
func (m *Metrics) OutboxDelivered(status outboxemail.Status) {
	m.deliveries.WithLabelValues(status.String()).Inc()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// outboxCollector reads the outbox's backlog from the database at each scrape,
// so that every replica reports the same shared queue.
type outboxCollector struct {
	db  *store.DB
	log *slog.Logger
}

var outboxEmails = prometheus.NewDesc("staffroom_outbox_emails",
	"Emails in the outbox by status: QUEUED is the backlog waiting to be sent, FAILED gave up after the last retry.",
	[]string{"status"}, nil)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxEmails }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sys := access.SystemContext(ctx, "metrics")
	for _, status := range []outboxemail.Status{outboxemail.StatusQUEUED, outboxemail.StatusFAILED} {
		n, err := c.db.Client.OutboxEmail.Query().Where(outboxemail.StatusEQ(status)).Count(sys)
		if err != nil {
			// Left out of this scrape: the rest of the metrics still matter
			// when the database does not answer.
			c.log.Warn("metrics: count outbox emails", "status", status, "err", err)
			return
		}
		ch <- prometheus.MustNewConstMetric(outboxEmails, prometheus.GaugeValue, float64(n), status.String())
	}
}
