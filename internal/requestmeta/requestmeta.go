// Package requestmeta carries what is known about the HTTP request behind a
// context — its id, the client's address and user agent — to the audit log, the
// rate limiter and the logs.
package requestmeta

import "context"

// Meta describes one request.
type Meta struct {
	ID        string
	IP        string
	UserAgent string
	// Operation is the GraphQL operation name, filled in once it is known, for
	// the request's log line.
	Operation string
	Errors    int
}

type key struct{}

// NewContext returns a context carrying m.
func NewContext(ctx context.Context, m *Meta) context.Context {
	return context.WithValue(ctx, key{}, m)
}

// FromContext returns the request's meta, or an empty one outside a request.
func FromContext(ctx context.Context) *Meta {
	if m, ok := ctx.Value(key{}).(*Meta); ok {
		return m
	}
	return &Meta{}
}
