package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/integrations"
	"staffroom/internal/requestmeta"
)

var errNoOrganization = errcode.New(errcode.Forbidden, "no active organization: switch to an organization you are an active member of")

// hasPermission resolves a field only for viewers who hold the permission in the
// active organization: one map lookup. A denied field is null with FORBIDDEN at
// its path; guarded fields are nullable, so the parent survives.
func hasPermission(ctx context.Context, _ any, next graphql.Resolver, permission string) (any, error) {
	v := access.FromContext(ctx)
	switch {
	case v == nil:
		return nil, errcode.ErrUnauthenticated
	case !v.Active():
		return nil, errNoOrganization
	case !v.Has(permission):
		return nil, errcode.New(errcode.Forbidden, "this needs the %s permission", permission)
	}
	return next(ctx)
}

// authenticated needs a caller; its mutations (logOut, changePassword,
// switchOrganization, leaveOrganization, …) act on the caller's own login,
// session or membership, so they need a person, not an API key.
func authenticated(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	v := access.FromContext(ctx)
	if v == nil {
		return nil, errcode.ErrUnauthenticated
	}
	if v.IsAPIKey() && graphql.GetFieldContext(ctx).Object == "Mutation" {
		return nil, integrations.ErrPersonOnly
	}
	return next(ctx)
}

func (r *Resolver) throttled(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if r.limiter == nil { // a schema built without one, for tests and tools
		return next(ctx)
	}
	if err := r.limiter.Allow(ctx, requestmeta.FromContext(ctx).IP); err != nil {
		return nil, err
	}
	return next(ctx)
}

// activeViewer returns the viewer of an organization-scoped operation, or the
// error it gets without one.
func activeViewer(ctx context.Context) (*access.Viewer, error) {
	v := access.FromContext(ctx)
	if v == nil {
		return nil, errcode.ErrUnauthenticated
	}
	if !v.Active() {
		return nil, errNoOrganization
	}
	return v, nil
}
