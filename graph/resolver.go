// Package graph is Staffroom's GraphQL layer: the gqlgen executable schema, thin
// resolvers over ent and the domain packages, the @hasPermission directive and
// the error presenter.
package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"staffroom/ent"
)

// Resolver holds the dependencies of every resolver. It is the only place where
// they are injected.
type Resolver struct {
	client *ent.Client
}

// Deps are what the resolvers need.
type Deps struct {
	Client *ent.Client
}

// NewSchema returns the executable schema wired to its dependencies.
func NewSchema(d Deps) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{
		Resolvers: &Resolver{client: d.Client},
	})
}
