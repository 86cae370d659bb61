package graph

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
)

// NewQuerier returns a function that runs a read-only query in process as the
// viewer in ctx, through the same schema, directives and privacy as a
// request, and returns its data. Field errors (a guarded field the viewer may
// not read) leave nulls in the data, as they do for a client. Webhook
// payloads are built with it, so that they show what the API would.
func NewQuerier(schema graphql.ExecutableSchema) func(ctx context.Context, query string, vars map[string]any) (json.RawMessage, error) {
	exec := executor.New(schema)
	exec.SetQueryCache(lru.New[*ast.QueryDocument](100))
	return func(ctx context.Context, query string, vars map[string]any) (json.RawMessage, error) {
		ctx = graphql.StartOperationTrace(ctx)
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
		if errs != nil {
			return nil, fmt.Errorf("graph: query: %w", errs)
		}
		if oc.Operation.Operation != ast.Query {
			return nil, fmt.Errorf("graph: %s is not a query", oc.Operation.Operation)
		}
		handle, ctx := exec.DispatchOperation(ctx, oc)
		resp := handle(ctx)
		if resp == nil || len(resp.Data) == 0 || string(resp.Data) == "null" {
			return nil, fmt.Errorf("graph: query answered no data: %v", resp.Errors)
		}
		return resp.Data, nil
	}
}

// member returns the membership with the id, or nil when there is none or the
// reader may not see it.
func (r *Resolver) member(ctx context.Context, id pulid.ID) (*ent.Membership, error) {
	if id == "" {
		return nil, nil
	}
	m, err := r.db(ctx).Membership.Query().Where(membership.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return m, err
}
