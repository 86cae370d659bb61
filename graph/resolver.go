// Package graph is Staffroom's GraphQL layer: the gqlgen executable schema, thin
// resolvers over ent and the domain packages, the directives and the error
// presenter.
package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"staffroom/ent"
	"staffroom/internal/auth"
	"staffroom/internal/integrations"
	"staffroom/internal/invitation"
	"staffroom/internal/store"
)

// Resolver holds the dependencies of every resolver. It is the only place where
// they are injected.
type Resolver struct {
	client      *ent.Client
	auth        *auth.Service
	limiter     auth.RateLimiter
	invitations *invitation.Service
	webhooks    integrations.Webhooks
}

// Deps are what the resolvers need.
type Deps struct {
	Client      *ent.Client
	Auth        *auth.Service
	Limiter     auth.RateLimiter
	Invitations *invitation.Service
	// AllowPrivateWebhooks accepts http and private webhook URLs: development.
	AllowPrivateWebhooks bool
}

// NewSchema returns the executable schema wired to its dependencies, priced by
// the cost rules of complexity.go.
func NewSchema(d Deps) graphql.ExecutableSchema {
	r := &Resolver{client: d.Client, auth: d.Auth, limiter: d.Limiter, invitations: d.Invitations,
		webhooks: integrations.Webhooks{Client: d.Client, AllowPrivate: d.AllowPrivateWebhooks}}
	return withCosts(NewExecutableSchema(Config{
		Resolvers: r,
		Directives: DirectiveRoot{
			HasPermission: hasPermission,
			Authenticated: authenticated,
			Throttled:     r.throttled,
		},
	}))
}

// db returns the client to use: the mutation's transaction when there is one.
func (r *Resolver) db(ctx context.Context) *ent.Client { return store.Client(ctx, r.client) }
