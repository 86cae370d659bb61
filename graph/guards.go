package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/internal/access"
	"staffroom/internal/errcode"
)

// resolverGuarded are the fields whose resolver, not a directive, hides their
// value from viewers without a permission (everyone reads their own).
var resolverGuarded = map[string]string{
	"User.email":         access.MembersContact,
	"User.phone":         access.MembersContact,
	"User.phoneVerified": access.MembersContact,
	// The author also reads them (messaging.CheckCopies).
	"Message.cc":  access.MessagesApprove,
	"Message.bcc": access.MessagesApprove,
}

// whereSuffixes are the predicates entgql generates for a field of a where input.
var whereSuffixes = []string{"", "NEQ", "In", "NotIn", "GT", "GTE", "LT", "LTE", "Contains", "HasPrefix",
	"HasSuffix", "EqualFold", "ContainsFold", "IsNil", "NotNil"}

// argumentGuards maps what an argument may name — "WhereInput.field" for a
// filter, "OrderField.VALUE" for an ordering — to the permission of the guarded
// field it would read: a filter or an ordering on a value answers questions
// about it, so it needs what reading the value needs.
type argumentGuards map[string]string

// GuardedFields returns every field of the schema whose value some viewers may
// not read, with the permission it needs: the @hasPermission fields and the
// fields their resolver guards.
func GuardedFields(schema *ast.Schema) map[string]string {
	out := map[string]string{}
	for _, def := range schema.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			if d := f.Directives.ForName("hasPermission"); d != nil {
				out[def.Name+"."+f.Name] = d.Arguments.ForName("permission").Value.Raw
			}
		}
	}
	for f, p := range resolverGuarded {
		out[f] = p
	}
	return out
}

// GuardedArguments returns the filter fields ("WhereInput.field") and order
// values ("OrderField.VALUE") of the schema's guarded fields, with the
// permission each needs.
func GuardedArguments(schema *ast.Schema) map[string]string { return newArgumentGuards(schema) }

// newArgumentGuards derives, from the schema, the filter fields and order values
// of every guarded field.
func newArgumentGuards(schema *ast.Schema) argumentGuards {
	g := argumentGuards{}
	for field, permission := range GuardedFields(schema) {
		typ, name, _ := strings.Cut(field, ".")
		if where := schema.Types[typ+"WhereInput"]; where != nil {
			for _, suffix := range whereSuffixes {
				if where.Fields.ForName(name+suffix) != nil {
					g[where.Name+"."+name+suffix] = permission
				}
			}
			for _, edge := range []string{"has" + upperFirst(name), "has" + upperFirst(name) + "With"} {
				if where.Fields.ForName(edge) != nil {
					g[where.Name+"."+edge] = permission
				}
			}
		}
		if order := schema.Types[typ+"OrderField"]; order != nil {
			if v := order.EnumValues.ForName(screamingSnake(name)); v != nil {
				g[order.Name+"."+v.Name] = permission
			}
		}
	}
	return g
}

// guardArguments refuses, before anything runs, an operation whose filters or
// orderings name a guarded field that the viewer may not read.
type guardArguments struct {
	schema *ast.Schema
	guards argumentGuards
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = guardArguments{}

func newGuardArguments(schema *ast.Schema) guardArguments {
	return guardArguments{schema: schema, guards: newArgumentGuards(schema)}
}

func (guardArguments) ExtensionName() string                   { return "GuardedArguments" }
func (guardArguments) Validate(graphql.ExecutableSchema) error { return nil }

func (g guardArguments) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || len(g.guards) == 0 {
		return nil
	}
	v := access.FromContext(ctx)
	var denied string
	visitFields(oc.Operation.SelectionSet, map[string]bool{}, func(f *ast.Field) bool {
		if f.Definition == nil {
			return true
		}
		for _, arg := range f.Arguments {
			def := f.Definition.Arguments.ForName(arg.Name)
			if def == nil || arg.Value == nil {
				continue
			}
			val, err := arg.Value.Value(oc.Variables)
			if err != nil {
				continue
			}
			if p := g.deniedIn(v, def.Type, val); p != "" {
				denied = p
				return false
			}
		}
		return true
	})
	if denied == "" {
		return nil
	}
	err := gqlerror.Errorf("filtering or ordering on this field needs the %s permission", denied)
	err.Extensions = map[string]any{"code": string(errcode.Forbidden)}
	return err
}

// deniedIn returns the permission that a value of type t names and v lacks.
func (g guardArguments) deniedIn(v *access.Viewer, t *ast.Type, val any) string {
	if val == nil || t == nil {
		return ""
	}
	if t.Elem != nil {
		list, _ := val.([]any)
		for _, item := range list {
			if p := g.deniedIn(v, t.Elem, item); p != "" {
				return p
			}
		}
		return ""
	}
	def := g.schema.Types[t.NamedType]
	switch {
	case def == nil:
	case def.Kind == ast.Enum:
		if s, ok := val.(string); ok {
			if p, guarded := g.guards[def.Name+"."+s]; guarded && !v.Has(p) {
				return p
			}
		}
	case def.Kind == ast.InputObject:
		obj, _ := val.(map[string]any)
		for key, item := range obj {
			if p, guarded := g.guards[def.Name+"."+key]; guarded && !v.Has(p) {
				return p
			}
			if f := def.Fields.ForName(key); f != nil {
				if p := g.deniedIn(v, f.Type, item); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// visitFields calls visit for every field of a selection set, fragments
// included (each once); visit returns false to stop.
func visitFields(set ast.SelectionSet, fragments map[string]bool, visit func(*ast.Field) bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !visit(s) || !visitFields(s.SelectionSet, fragments, visit) {
				return false
			}
		case *ast.InlineFragment:
			if !visitFields(s.SelectionSet, fragments, visit) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || fragments[s.Name] {
				continue
			}
			fragments[s.Name] = true
			if !visitFields(s.Definition.SelectionSet, fragments, visit) {
				return false
			}
		}
	}
	return true
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// screamingSnake turns billingEmail into BILLING_EMAIL, as entgql names order fields.
func screamingSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}
