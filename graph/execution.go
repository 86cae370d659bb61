package graph

// The helpers below run inside generated.go: the generator (gqlgen.go) puts
// them where gqlgen's own would start a goroutine or allocate per element and
// per field. Each keeps what gqlgen's does for the client: the same JSON, the
// same errors and paths.

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceInOrder marshals the elements of a list of objects one after
// another in the calling goroutine. The generator (gqlgen.go) puts it where
// gqlgen calls graphql.MarshalSliceConcurrently, which starts a goroutine per
// element: the elements' data is loaded already, so the goroutines bought
// nothing but stack growth. Each element keeps its own field context (its index
// in error paths) and, unless panics are left to crash, a panic in one element
// is that element's error, as with gqlgen.
func marshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	// One allocation each for the list, not one per element.
	fcs := make([]graphql.FieldContext, length)
	index := make([]int, length)
	for i := range length {
		index[i] = i
		fcs[i].Index = &index[i]
		childCtx := graphql.WithFieldContext(ctx, &fcs[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalGuarded(childCtx, i, marshalElement)
	}
	return ret
}

func marshalGuarded(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (ret graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			ret = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// objectWriter writes an object's fields in the order they were selected, as
// graphql.FieldSet does, but without the map of written names and the copy of
// each field that FieldSet makes for every object it writes (an eighth of a
// members page's allocations). Values holds a value for every field: each
// field is resolved in place before the object is written.
type objectWriter struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

var (
	openBrace  = []byte{'{'}
	closeBrace = []byte{'}'}
	quote      = []byte{'"'}
	quoteColon = []byte{'"', ':'}
	comma      = []byte{','}
)

func (o objectWriter) MarshalGQL(w io.Writer) {
	w.Write(openBrace) //nolint:errcheck // as gqlgen's marshalers, the buffer keeps the error
	for i := range o.fields {
		alias := o.fields[i].Alias
		if written(o.fields[:i], alias) {
			continue // the first of the same name wins, as in FieldSet
		}
		if i > 0 {
			w.Write(comma) //nolint:errcheck
		}
		// A response name is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): it
		// needs no escaping.
		w.Write(quote)           //nolint:errcheck
		io.WriteString(w, alias) //nolint:errcheck
		w.Write(quoteColon)      //nolint:errcheck
		o.values[i].MarshalGQL(w)
	}
	w.Write(closeBrace) //nolint:errcheck
}

func written(before []graphql.CollectedField, alias string) bool {
	for i := range before {
		if before[i].Alias == alias {
			return true
		}
	}
	return false
}
