// Package app assembles Staffroom from its parts: the database, the domain
// services, the GraphQL schema and the HTTP routes. It is the one place where
// dependencies are created and handed out; server.go and the tests both use it.
package app

import (
	"context"
	"log/slog"
	"net/http"

	"staffroom/graph"
	"staffroom/internal/config"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store"
	"staffroom/internal/web"
)

// App is an assembled server.
type App struct {
	Handler http.Handler
	DB      *store.DB
}

// New assembles the server on an open, migrated database.
func New(cfg config.Config, db *store.DB, log *slog.Logger) (*App, error) {
	schema := graph.NewSchema(graph.Deps{Client: db.Client})
	gql := graph.NewHandler(schema, graph.HandlerOptions{
		Limits: graph.Limits{
			Complexity: cfg.ComplexityLimit,
			Depth:      cfg.DepthLimit,
			Tokens:     cfg.TokenLimit,
		},
		Introspection: cfg.Introspection,
		Suggestions:   cfg.Development(),
		Logger:        log,
		Observe: func(ctx context.Context, operation string, errors int) {
			m := requestmeta.FromContext(ctx)
			m.Operation, m.Errors = operation, errors
		},
	})
	h := web.New(web.Options{
		GraphQL:      gql,
		Authenticate: func(h http.Handler) http.Handler { return h },
		Ready:        db.SQL.PingContext,
		GraphiQL:     cfg.GraphiQL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Timeout:      cfg.RequestTimeout,
		Logger:       log,
	})
	return &App{Handler: h, DB: db}, nil
}
