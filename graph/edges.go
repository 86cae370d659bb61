package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// loadedEdge returns an edge that field collection loaded with its entity:
// under the field's alias when the query gave one (entgql keeps aliased edges
// by name), or else the plain edge. ent's NotLoadedError says the entity was
// read without it.
func loadedEdge[T any](ctx context.Context, named func(string) (T, error), plain func() (T, error)) (T, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Alias != "" {
		return named(fc.Field.Alias)
	}
	return plain()
}
