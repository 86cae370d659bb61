package graph

import (
	"context"

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

// nodeType resolves the type of a node(id:) from the id's prefix.
func nodeType(_ context.Context, id pulid.ID) (string, error) { return pulid.Table(id) }
