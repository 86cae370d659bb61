// Package web provides Staffroom's HTTP surface: the routes (GraphQL, GraphiQL,
// health, JWKS) and the middleware every request passes — request id, one log
// line, panic recovery, body limit and timeout.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

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
}

// New returns the server's root handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	gql := o.Authenticate(limitBody(o.MaxBodyBytes, o.GraphQL))
	mux.Handle("/graphql", gql)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n") //nolint:errcheck
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
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
	})
	if o.JWKS != nil {
		mux.Handle("GET /.well-known/jwks.json", o.JWKS)
	}
	if o.GraphiQL {
		mux.Handle("GET /{$}", playground.Handler("Staffroom", "/graphql"))
	}
	return withRequest(o.Logger, withTimeout(o.Timeout, recoverPanic(o.Logger, mux)))
}

// withRequest gives the request an id and its meta, and writes one log line when
// it ends: method, path, GraphQL operation, status, duration.
func withRequest(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		meta := &requestmeta.Meta{ID: requestID(r), IP: clientIP(r), UserAgent: r.UserAgent()}
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

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
