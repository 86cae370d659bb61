package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
)

// passwordChosen refuses, before any resolver runs, every operation of a
// session whose password an administrator set, unless it selects only what
// such a session may do: change the password or log out.
type passwordChosen struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = passwordChosen{}

// whileTemporary are the root fields a session with a temporary password may select.
var whileTemporary = map[string]bool{"changePassword": true, "logOut": true, "__typename": true}

func (passwordChosen) ExtensionName() string                   { return "PasswordChosen" }
func (passwordChosen) Validate(graphql.ExecutableSchema) error { return nil }

func (passwordChosen) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	err := auth.CheckPasswordChosen(access.FromContext(ctx))
	if err == nil || oc.Operation == nil || selectsOnly(oc.Operation.SelectionSet, whileTemporary) {
		return nil
	}
	e, _ := errcode.As(err)
	out := gqlerror.Errorf("%s", e.Message)
	out.Extensions = map[string]any{"code": string(e.Code)}
	return out
}

// selectsOnly reports whether every root field of a selection set is one of names.
func selectsOnly(set ast.SelectionSet, names map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !names[s.Name] {
				return false
			}
		case *ast.InlineFragment:
			if !selectsOnly(s.SelectionSet, names) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !selectsOnly(s.Definition.SelectionSet, names) {
				return false
			}
		}
	}
	return true
}

// memberFields converts the GraphQL enum values to the domain's field names.
func memberFields(in []MemberField) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, f := range in {
		out[i] = string(f)
	}
	return out
}
