// Package web provides Staffroom's HTTP surface: the routes (GraphQL, GraphiQL,
// health, JWKS, metrics) and the middleware every request passes — request id,
// one log line, panic recovery, body limit, timeout and, on GraphQL, CORS.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rs/cors"

	"staffroom/internal/graphiql"
	"staffroom/internal/requestmeta"
)

// Options are what the routes serve and the limits they apply.
type Options struct {
	GraphQL http.Handler
	// Authenticate wraps the GraphQL handler: it turns the bearer token into the
	// viewer of the request.
	Authenticate func(http.Handler) http.Handler
	JWKS         http.Handler
	Ready        func(context.Context) error
	GraphiQL     bool
	MaxBodyBytes int64
	Timeout      time.Duration
	Logger       *slog.Logger
	// TrustedProxies are the networks of reverse proxies whose X-Forwarded-For
	// header is believed; other peers are the client themselves.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the exact origins whose scripts may call GraphQL; "*"
	// is any origin. Empty: none.
	CORSOrigins []string
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Instrument, when set, wraps each route's handler under a fixed route
	// name, for metrics.
	Instrument func(route string, h http.Handler) http.Handler
	// Pages, when set, serves the pages behind emailed links at PagePaths.
	Pages     http.Handler
	PagePaths []string
}

// corsMaxAge is how long a browser may reuse a preflight answer, in seconds.
const corsMaxAge = 600

// New returns the server's root handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.Handler) {
		if o.Instrument != nil {
			h = o.Instrument(route, h)
		}
		mux.Handle(pattern, h)
	}
	// CORS comes before authentication, so that a browser can read a 401 too.
	gql := withCORS(o.CORSOrigins, o.Authenticate(limitBody(o.MaxBodyBytes, o.GraphQL)))
	handle("/graphql", "graphql", gql)
	handle("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n") //nolint:errcheck
	}))
	handle("GET /readyz", "readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := o.Ready(ctx); err != nil {
			o.Logger.WarnContext(ctx, "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n") //nolint:errcheck
			return
		}
		io.WriteString(w, "ok\n") //nolint:errcheck
	}))
	if o.JWKS != nil {
		handle("GET /.well-known/jwks.json", "jwks", o.JWKS)
	}
	if o.GraphiQL {
		handle("GET /{$}", "graphiql", graphiql.Page())
		handle("GET /graphiql/", "graphiql", graphiql.Assets("/graphiql/"))
	}
	if o.Metrics != nil {
		handle("GET /metrics", "metrics", o.Metrics)
	}
	for _, path := range o.PagePaths {
		handle(path, "pages", o.Pages)
	}
	return withRequest(o.Logger, o.TrustedProxies, withTimeout(o.Timeout, recoverPanic(o.Logger, mux)))
}

// withCORS lets scripts of the listed origins call next. Tokens travel in the
// Authorization header, never in cookies, so credentials stay off.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		ExposedHeaders: []string{"X-Request-Id", "WWW-Authenticate"},
		MaxAge:         corsMaxAge,
	}).Handler(next)
}

// withRequest gives the request an id and its meta, and writes one log line when
// it ends: method, path, GraphQL operation, status, duration.
func withRequest(log *slog.Logger, proxies []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		meta := &requestmeta.Meta{ID: requestID(r), IP: clientIP(r, proxies), UserAgent: r.UserAgent()}
		w.Header().Set("X-Request-Id", meta.ID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(requestmeta.NewContext(r.Context(), meta)))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		log.Log(r.Context(), level, "request",
			"id", meta.ID, "method", r.Method, "path", r.URL.Path,
			"operation", meta.Operation, "status", rec.status, "errors", meta.Errors,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && !strings.ContainsAny(id, "\r\n") {
		return id
	}
	var b [12]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// clientIP returns the address of the client: the TCP peer, or, when the peer is
// a trusted proxy, the right-most address of X-Forwarded-For that is not one.
func clientIP(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := host
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops); trusted(ip, proxies) && i > 0; i-- {
		hop := strings.TrimSpace(hops[i-1])
		if _, err := netip.ParseAddr(hop); err != nil {
			break
		}
		ip = hop
	}
	return ip
}

func trusted(ip string, proxies []netip.Prefix) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range proxies {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
			}
			out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func recoverPanic(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", "panic", p)
				WriteError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over max bytes with 413 and malformed JSON with 400,
// before gqlgen sees them: gqlgen would answer both with 200 or echo the body.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			WriteError(w, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "request body is too large")
			return
		case err != nil:
			WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "could not read the request body")
			return
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && !json.Valid(body):
			WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "request body is not valid JSON")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// WriteError writes a GraphQL-shaped error response outside of GraphQL execution.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}
