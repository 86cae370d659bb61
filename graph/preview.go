package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
)

// previewReadOnly refuses every mutation operation of a role preview before
// any resolver runs, so that no mutation, present or future, can forget it.
// The privacy layer refuses the preview's writes as well, for any other path.
type previewReadOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = previewReadOnly{}

func (previewReadOnly) ExtensionName() string                   { return "PreviewReadOnly" }
func (previewReadOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (previewReadOnly) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation == ast.Query || !access.FromContext(ctx).Previewing() {
		return nil
	}
	err := gqlerror.Errorf("a role preview is read-only: every mutation is refused")
	err.Extensions = map[string]any{"code": string(errcode.PreviewReadOnly)}
	return err
}

// rolePreview describes what a preview viewer acts as, read as the preview
// itself; nil for any other viewer.
func (r *Resolver) rolePreview(ctx context.Context, v *access.Viewer) (*RolePreview, error) {
	if !v.Previewing() {
		return nil, nil
	}
	ctx = access.NewContext(ctx, v)
	rl, err := r.db(ctx).Role.Get(ctx, v.RoleID)
	if err != nil {
		return nil, err
	}
	groups, err := r.db(ctx).Group.Query().Where(group.IDIn(v.Preview.GroupIDs...)).Order(ent.Asc(group.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	return &RolePreview{Role: rl, GroupScope: membership.GroupScope(v.GroupScope), Groups: groups, ExpiresAt: v.Preview.ExpiresAt}, nil
}
