package graph

import (
	"context"
	"errors"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"staffroom/ent"
	"staffroom/ent/privacy"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/errcode"
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
	n, err := r.db(ctx).Noder(collectable(ctx), id, ent.WithNodeType(nodeType))
	if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) || errors.Is(err, pulid.ErrUnknownPrefix) {
		return nil, nil
	}
	return n, err
}

// nodeType resolves the type of a node(id:) from the id's prefix.
func nodeType(_ context.Context, id pulid.ID) (string, error) { return pulid.Table(id) }

// checkPage validates the paging arguments of one connection before any
// resolver runs: first together with last, and a negative count, are bad input.
// inputCheck calls it for every field that takes first and last, so each
// connection, generated edges included, shares this one rule; cursors are
// checked where their scalar is (checkCursor).
func checkPage(args map[string]any) *errcode.Error {
	first, hasFirst := args["first"]
	last, hasLast := args["last"]
	if hasFirst && first != nil && hasLast && last != nil {
		return errcode.Input("first", "first and last cannot be used together")
	}
	for _, name := range []string{"first", "last"} {
		if n, err := graphql.UnmarshalInt(args[name]); args[name] != nil && (err != nil || n < 0) {
			return errcode.Input(name, "%s must be zero or more", name)
		}
	}
	return nil
}

// checkCursor reports whether v is a cursor this server could have written: it
// decodes, and the value it carries is a scalar (anything else would reach the
// database as an argument it cannot take).
func checkCursor(v any) bool {
	var c entgql.Cursor[pulid.ID]
	if c.UnmarshalGQL(v) != nil {
		return false
	}
	switch c.Value.(type) {
	case nil, string, bool, time.Time,
		int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, float32, float64:
		return true
	}
	return false
}
