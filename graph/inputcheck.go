package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/internal/errcode"
)

// Caps of where inputs: each nesting multiplies the SQL that a filter builds,
// and each entry lengthens it, so both are bounded before ent sees them. The
// screens use two levels and a few dozen ids at most.
const (
	maxWhereDepth = 4    // where inputs inside where inputs: not, and, or, has…With
	maxWhereList  = 100  // entries of one list in a where input: …In lists, and/or branches
	maxWhereSize  = 1000 // fields and list entries in one where argument, all levels together
)

// inputCheck refuses bad input at the edge, after the document is validated and
// before any resolver runs: strings carrying NUL bytes (PostgreSQL rejects them),
// times and cursors that do not decode, paging arguments that contradict each
// other, where inputs past their caps, and introspection where it is off. It
// walks every argument of every field, so a new field is covered without code of
// its own. Refusals are BAD_USER_INPUT with the argument's path in
// extensions.field (INTROSPECTION_DISABLED for introspection).
type inputCheck struct {
	introspection bool
	schema        *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &inputCheck{}

func (*inputCheck) ExtensionName() string { return "InputCheck" }

func (c *inputCheck) Validate(s graphql.ExecutableSchema) error {
	c.schema = s.Schema()
	return nil
}

func (c *inputCheck) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	// Variables first: one that no argument uses still reaches no resolver, but
	// a NUL anywhere in the request is refused the same way.
	for name, v := range oc.Variables {
		if path, ok := findNUL(v, "$"+name); ok {
			return refusal(nil, errcode.Input(path, "%s contains a NUL character", path))
		}
	}
	w := inputWalk{check: c, vars: oc.Variables, fragments: map[string]bool{}}
	w.directives(oc.Operation.Directives)
	w.selections(oc.Operation.SelectionSet)
	return w.err
}

// refusal turns a coded error into the error of a refused operation.
func refusal(pos *ast.Position, e *errcode.Error) *gqlerror.Error {
	err := gqlerror.Errorf("%s", e.Message)
	if pos != nil {
		err = gqlerror.ErrorPosf(pos, "%s", e.Message)
	}
	err.Extensions = map[string]any{"code": string(e.Code)}
	if e.Field != "" {
		err.Extensions["field"] = e.Field
	}
	return err
}

// inputWalk is one pass of inputCheck over an operation; it stops at the first
// refusal.
type inputWalk struct {
	check     *inputCheck
	vars      map[string]any
	fragments map[string]bool // spread fragments already walked
	err       *gqlerror.Error
}

func (w *inputWalk) selections(set ast.SelectionSet) {
	for _, sel := range set {
		if w.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.field(s)
		case *ast.InlineFragment:
			w.directives(s.Directives)
			w.selections(s.SelectionSet)
		case *ast.FragmentSpread:
			w.directives(s.Directives)
			if s.Definition != nil && !w.fragments[s.Name] {
				w.fragments[s.Name] = true
				w.selections(s.Definition.SelectionSet)
			}
		}
	}
}

func (w *inputWalk) field(f *ast.Field) {
	if !w.check.introspection && (f.Name == "__schema" || f.Name == "__type") {
		w.err = refusal(f.Position, errcode.New(errcode.IntrospectionDisabled, "introspection is disabled on this server"))
		return
	}
	w.arguments(f.Arguments)
	w.directives(f.Directives)
	if w.err == nil && f.Definition != nil &&
		f.Definition.Arguments.ForName("first") != nil && f.Definition.Arguments.ForName("last") != nil {
		if e := checkPage(f.ArgumentMap(w.vars)); e != nil {
			w.err = refusal(f.Position, e)
			return
		}
	}
	w.selections(f.SelectionSet)
}

func (w *inputWalk) directives(list ast.DirectiveList) {
	for _, d := range list {
		w.arguments(d.Arguments)
	}
}

func (w *inputWalk) arguments(args ast.ArgumentList) {
	for _, a := range args {
		if w.err != nil || a.Value == nil {
			return
		}
		v, err := a.Value.Value(w.vars)
		if err != nil {
			continue // the validator has refused what does not resolve
		}
		if e := w.check.value(v, a.Value.ExpectedType, a.Name, nil); e != nil {
			w.err = refusal(a.Position, e)
		}
	}
}

// whereBudget tracks one where argument against the caps.
type whereBudget struct{ size int }

// value checks one input value of type t at path; where is set inside a where
// input, with depth its nesting.
func (c *inputCheck) value(v any, t *ast.Type, path string, where *whereState) *errcode.Error {
	if v == nil || t == nil {
		return nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok { // a single value stands for a list of one
			return c.value(v, t.Elem, path, where)
		}
		if where != nil {
			if len(list) > maxWhereList {
				return errcode.Input(path, "%s has more than %d entries", path, maxWhereList)
			}
			if where.budget.size += len(list); where.budget.size > maxWhereSize {
				return errcode.Input(path, "the filter has more than %d values", maxWhereSize)
			}
		}
		for i, item := range list {
			if e := c.value(item, t.Elem, path+"["+strconv.Itoa(i)+"]", where); e != nil {
				return e
			}
		}
		return nil
	}
	def := c.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.InputObject:
		return c.object(v, def, path, where)
	case ast.Scalar:
		return scalar(v, def.Name, path)
	}
	return nil
}

// whereState is the position of a value inside a where argument.
type whereState struct {
	depth  int
	budget *whereBudget
}

func (c *inputCheck) object(v any, def *ast.Definition, path string, where *whereState) *errcode.Error {
	fields, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if strings.HasSuffix(def.Name, "WhereInput") {
		if where == nil {
			where = &whereState{depth: 1, budget: &whereBudget{}}
		} else {
			where = &whereState{depth: where.depth + 1, budget: where.budget}
		}
		if where.depth > maxWhereDepth {
			return errcode.Input(path, "%s nests filters deeper than %d levels", path, maxWhereDepth)
		}
		if where.budget.size += len(fields); where.budget.size > maxWhereSize {
			return errcode.Input(path, "the filter has more than %d values", maxWhereSize)
		}
	}
	for name, fv := range fields {
		fd := def.Fields.ForName(name)
		if fd == nil {
			continue
		}
		if e := c.value(fv, fd.Type, path+"."+name, where); e != nil {
			return e
		}
	}
	return nil
}

// scalar checks a scalar value whose decoding would otherwise fail inside a
// resolver or the database.
func scalar(v any, name, path string) *errcode.Error {
	if p, ok := findNUL(v, path); ok {
		return errcode.Input(p, "%s contains a NUL character", p)
	}
	switch name {
	case "Time":
		if _, err := graphql.UnmarshalTime(v); err != nil {
			return errcode.Input(path, "%s is not a time in RFC 3339 format (2006-01-02T15:04:05Z)", path)
		}
	case "Cursor":
		if !checkCursor(v) {
			return errcode.Input(path, "%s is not a cursor of this connection", path)
		}
	}
	return nil
}

// findNUL returns the path of the first string under v (map keys included)
// that contains a NUL byte.
func findNUL(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, item := range x {
			if p, ok := findNUL(item, path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case map[string]any:
		for k, item := range x {
			if strings.IndexByte(k, 0) >= 0 {
				return path, true
			}
			if p, ok := findNUL(item, path+"."+k); ok {
				return p, true
			}
		}
	}
	return "", false
}
