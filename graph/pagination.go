package graph

import (
	"context"
	"errors"

	"staffroom/ent"
	"staffroom/ent/privacy"

	"staffroom/ent/schema/pulid"
)

// Page sizes of every connection.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageSize applies the default page size when neither first nor last is given,
// and caps both.
func pageSize(first, last *int) (*int, *int) {
	capped := func(n *int) *int {
		if n == nil || *n <= maxPageSize {
			return n
		}
		m := maxPageSize
		return &m
	}
	if first == nil && last == nil {
		n := defaultPageSize
		return &n, nil
	}
	return capped(first), capped(last)
}

// node fetches one node. An id of another organization behaves exactly like one
// that does not exist: null, whether the tenant filter hid it or privacy denied it.
func (r *Resolver) node(ctx context.Context, id pulid.ID) (ent.Noder, error) {
	n, err := r.db(ctx).Noder(ctx, id, ent.WithNodeType(nodeType))
	if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) || errors.Is(err, pulid.ErrUnknownPrefix) {
		return nil, nil
	}
	return n, err
}

// nodeType resolves the type of a node(id:) from the id's prefix.
func nodeType(_ context.Context, id pulid.ID) (string, error) { return pulid.Table(id) }
