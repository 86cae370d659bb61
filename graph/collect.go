package graph

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/user"
	"staffroom/internal/auth"
)

// viewerUser loads the viewer's user with the columns the selection reads
// (field collection), where Get would load every column.
func (r *Resolver) viewerUser(ctx context.Context, id pulid.ID) (*ent.User, error) {
	q, err := r.db(ctx).User.Query().Where(user.ID(id)).CollectFields(collectable(ctx))
	if err != nil {
		return nil, err
	}
	return q.Only(ctx)
}

// viewerOrganization loads the viewer's organization as viewerUser does.
func (r *Resolver) viewerOrganization(ctx context.Context, id pulid.ID) (*ent.Organization, error) {
	q, err := r.db(ctx).Organization.Query().Where(organization.ID(id)).CollectFields(collectable(ctx))
	if err != nil {
		return nil, err
	}
	return q.Only(ctx)
}

// membershipColumns narrows what a list of memberships loaded under the
// system context (the switcher, the memberships to review) reads of each
// membership, organization and role to what the selection asks for.
func membershipColumns(ctx context.Context) auth.Columns {
	fc := graphql.GetFieldContext(ctx)
	var c auth.Columns
	c.Membership, _ = plainColumns(ctx, fc, membershipImplementors, membership.ValidColumn, "organization", "role")
	if o := childField(ctx, fc, membershipImplementors, "organization"); o != nil {
		c.Organization, _ = plainColumns(ctx, o, organizationImplementors, organization.ValidColumn)
	}
	if r := childField(ctx, fc, membershipImplementors, "role"); r != nil {
		c.Role, _ = plainColumns(ctx, r, roleImplementors, role.ValidColumn)
	}
	return c
}

// plainColumns returns the columns that the fields selected on an object read,
// for a query that field collection cannot narrow (one run under the system
// context, whose eager loads would escape privacy). fc is the field that
// returns the object. Every selected field must be bound straight to a column
// of the ent type (no resolver, no method); id is always read. ok is false
// otherwise: a resolver may read any column, so the caller loads them all, as
// entgql does. skip names fields the caller loads itself (edges).
func plainColumns(ctx context.Context, fc *graphql.FieldContext, satisfies []string, valid func(string) bool, skip ...string) (cols []string, ok bool) {
	cols = []string{"id"}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, satisfies) {
		if f.Name == "__typename" || f.Name == "id" || slices.Contains(skip, f.Name) {
			continue
		}
		child, err := fc.Child(ctx, f)
		col := snake(f.Name)
		if err != nil || child.IsResolver || child.IsMethod || !valid(col) {
			return nil, false
		}
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
	}
	return cols, true
}

// childField returns the field context of the field called name selected under
// fc, or nil when it is not selected or selected more than once (under
// aliases, whose selections differ).
func childField(ctx context.Context, fc *graphql.FieldContext, satisfies []string, name string) *graphql.FieldContext {
	var found *graphql.FieldContext
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, satisfies) {
		if f.Name != name {
			continue
		}
		child, err := fc.Child(ctx, f)
		if err != nil || found != nil {
			return nil
		}
		found = child
	}
	return found
}

// snake turns a GraphQL field name into the column ent stores it in:
// billingEmail is billing_email.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// resolverColumns names, for fields that entgql's field collection does not
// know (resolvers), the fields it knows that give the columns they read (none
// beyond the id for some). entgql narrows a query's columns to the fields
// asked for, but one unknown field makes it select every column: `user { name
// }` loaded each user's fourteen columns, password hash included, where name
// needs two.
var resolverColumns = map[string]map[string][]string{
	"User": {"name": {"firstName", "lastName"}},
	// These read the organization's id only: its invitation templates and
	// billing columns stay in the database.
	"Organization": {"members": {}, "groups": {}, "messages": {}, "roles": {}, "invitations": {},
		"invoices": {}, "auditEvents": {}, "requiredMemberFields": {}},
}

// collectable returns ctx as entgql's field collection should see it: the
// field's selection with each field of resolverColumns replaced by the fields
// that give its columns. Only the collection sees the replacement; gqlgen
// resolves the selection as it was asked. Resolvers pass it to Paginate,
// CollectFields and Noder.
func collectable(ctx context.Context) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || !sameSelections(fc.Field.Selections, fc.Field.SelectionSet) {
		return ctx // selected more than once, merged: left as it is
	}
	sel := selectionView(graphql.GetOperationContext(ctx).Doc, fc.Field.Field)
	if sel == nil {
		return ctx
	}
	view := *fc
	view.Field.Selections = sel
	ctx = graphql.WithFieldContext(ctx, &view)
	view.Parent = fc.Parent
	return ctx
}

func sameSelections(a, b ast.SelectionSet) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0] || slices.Equal(a, b))
}

// selectionViews remembers the view of each field of a parsed document: gqlgen
// keeps each request's collected fields by the address of the selection they
// come from, so the view must live as long as the document does, not be made
// again for each request (an address reused after it is freed would find
// another selection's fields). An entry goes when its field's document is
// collected.
var selectionViews sync.Map // weak.Pointer[ast.Field] → ast.SelectionSet (nil: nothing to replace)

func selectionView(doc *ast.QueryDocument, f *ast.Field) ast.SelectionSet {
	key := weak.Make(f)
	if v, ok := selectionViews.Load(key); ok {
		return v.(ast.SelectionSet)
	}
	sel, changed := replaceResolverFields(doc, f.SelectionSet)
	if !changed {
		sel = nil
	}
	v, loaded := selectionViews.LoadOrStore(key, sel)
	if !loaded {
		runtime.AddCleanup(f, func(k weak.Pointer[ast.Field]) { selectionViews.Delete(k) }, key)
	}
	return v.(ast.SelectionSet)
}

// replaceResolverFields returns set with the fields of resolverColumns
// replaced, copying only what changes; fragment spreads that contain one
// become inline fragments of the same type condition.
func replaceResolverFields(doc *ast.QueryDocument, set ast.SelectionSet) (ast.SelectionSet, bool) {
	var out ast.SelectionSet
	for i, s := range set {
		var repl ast.SelectionSet // nil: s stays
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil && resolverColumns[s.ObjectDefinition.Name][s.Name] != nil {
				repl = ast.SelectionSet{}
				for _, name := range resolverColumns[s.ObjectDefinition.Name][s.Name] {
					repl = append(repl, &ast.Field{Alias: name, Name: name, Directives: s.Directives,
						Definition: s.ObjectDefinition.Fields.ForName(name), ObjectDefinition: s.ObjectDefinition, Position: s.Position})
				}
			} else if sub, changed := replaceResolverFields(doc, s.SelectionSet); changed {
				c := *s
				c.SelectionSet = sub
				repl = ast.SelectionSet{&c}
			}
		case *ast.InlineFragment:
			if sub, changed := replaceResolverFields(doc, s.SelectionSet); changed {
				c := *s
				c.SelectionSet = sub
				repl = ast.SelectionSet{&c}
			}
		case *ast.FragmentSpread:
			if frag := doc.Fragments.ForName(s.Name); frag != nil {
				if sub, changed := replaceResolverFields(doc, frag.SelectionSet); changed {
					repl = ast.SelectionSet{&ast.InlineFragment{TypeCondition: frag.TypeCondition, Directives: s.Directives,
						SelectionSet: sub, ObjectDefinition: frag.Definition, Position: s.Position}}
				}
			}
		}
		if repl != nil && out == nil {
			out = append(ast.SelectionSet{}, set[:i]...)
		}
		switch {
		case repl != nil:
			out = append(out, repl...)
		case out != nil:
			out = append(out, s)
		}
	}
	if out == nil {
		return set, false
	}
	return out, true
}
