package graph

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/integrations"
)

// The cost model. A field costs 1 plus its selection (gqlgen's default), except
// for lists, which cost their length times their selection, so that nesting
// multiplies and aliases add up:
//   - a connection costs its page size (first or last, default 20, at most 100);
//   - a list without paging has a cap: it never returns more, and weighs its cap;
//   - a list sized by an argument (nodes(ids:), bulk mutations) weighs one
//     lookup per element plus its selection.
//
// Introspection costs its default: gqlgen leaves __schema out, and __type is
// small.

// fieldKey names a field of an object type.
type fieldKey struct{ object, field string }

// listCaps are the most items that each list without paging returns. Lists
// longer than their cap are cut (capLists), so the weight is what runs.
var listCaps = map[fieldKey]int{
	{"Query", "permissionCatalog"}: len(access.Catalog),
	{"Viewer", "memberships"}:      50,
	{"Organization", "roles"}:      50,
	{"Role", "manages"}:            50,
	{"Role", "groupScopes"}:        len(access.GroupKinds),
	{"Membership", "groups"}:       50,
	{"Membership", "groupLinks"}:   50,
	// A member is granted at most every permission there is.
	{"Membership", "grantExpiries"}:             len(access.Catalog) + integrations.MaxModulePermissions,
	{"Message", "groups"}:                       50,
	{"Group", "members"}:                        100,
	{"Message", "recipients"}:                   100,
	{"Message", "cc"}:                           100,
	{"Message", "bcc"}:                          100,
	{"AccessReview", "elevated"}:                100,
	{"AccessReview", "inactive"}:                100,
	{"AccessReview", "extraGrants"}:             100,
	{"AccessReview", "stalePendingInvitations"}: 100,
	{"Viewer", "membershipsToReview"}:           50,
	{"AccessReview", "unverified"}:              100,
	{"AccessReview", "missingRequiredFields"}:   100,
	// previewRole refuses more groups (auth.MaxPreviewGroups).
	{"RolePreview", "groups"}: auth.MaxPreviewGroups,
	// The import refuses more rows than this (invitation.maxImportRows).
	{"ImportReport", "rows"}:              500,
	{"Organization", "apiKeys"}:           apiKeysCap,
	{"Organization", "modulePermissions"}: modulePermissionsCap,
	{"AccessReview", "apiKeys"}:           apiKeysCap,
	{"Organization", "webhookEndpoints"}:  integrations.MaxWebhookEndpoints,
}

// apiKeysCap is how many keys Organization.apiKeys lists, newest first.
const apiKeysCap = 100

// modulePermissionsCap is how many module permissions an organization
// defines (integrations.MaxModulePermissions).
const modulePermissionsCap = integrations.MaxModulePermissions

// sizedBy are the lists that return one item per element of an argument, so
// that a long argument prices itself (nodes also refuses more than 100 ids).
var sizedBy = map[fieldKey]string{
	{"Query", "nodes"}:             "ids",
	{"Mutation", "inviteMembers"}:  "input",
	{"Mutation", "setMembersRole"}: "ids",
}

// costFunc is the complexity of one field given its selection's complexity and
// its arguments.
type costFunc func(child int, args map[string]any) int

// costRules walks the schema once and returns the cost of every list field that
// has a rule: connections (paginated by first/last), capped lists and
// argument-sized lists. A list of objects without a rule is a gap that
// TestEveryListHasACost reports.
func costRules(s *ast.Schema) map[fieldKey]costFunc {
	rules := map[fieldKey]costFunc{}
	for _, t := range s.Types {
		if t.Kind != ast.Object || strings.HasPrefix(t.Name, "__") {
			continue
		}
		for _, f := range t.Fields {
			key := fieldKey{t.Name, f.Name}
			switch {
			case isConnection(s, f):
				rules[key] = connectionCost
			case listCaps[key] > 0:
				rules[key] = cappedCost(listCaps[key])
			case sizedBy[key] != "":
				rules[key] = sizedCost(sizedBy[key])
			}
		}
	}
	return rules
}

// isConnection reports whether f returns a Relay connection and takes its page
// size: its edges are then weighed by the page.
func isConnection(s *ast.Schema, f *ast.FieldDefinition) bool {
	t := s.Types[f.Type.Name()]
	return t != nil && t.Kind == ast.Object && strings.HasSuffix(t.Name, "Connection") &&
		f.Type.Elem == nil && f.Arguments.ForName("first") != nil && f.Arguments.ForName("last") != nil
}

func connectionCost(child int, args map[string]any) int {
	n, ok := intArg(args["first"])
	if !ok {
		n, ok = intArg(args["last"])
	}
	if !ok {
		n = defaultPageSize
	}
	return weigh(min(n, maxPageSize), child)
}

func cappedCost(limit int) costFunc {
	return func(child int, _ map[string]any) int { return weigh(limit, child) }
}

func sizedCost(arg string) costFunc {
	return func(child int, args map[string]any) int {
		list, _ := args[arg].([]any)
		return weigh(len(list), 1+child)
	}
}

// weigh multiplies without overflowing: a hostile page size must not wrap the
// sum around to something small.
func weigh(n, child int) int {
	n, child = max(n, 1), max(child, 1)
	if child > maxCost/n {
		return maxCost
	}
	return n * child
}

const maxCost = int(^uint(0) >> 1)

// intArg reads an Int argument as gqlparser and gqlgen hand it over: a literal
// is an int64, a variable may still be a json.Number.
func intArg(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// pricedSchema is the executable schema with the cost rules in front of the
// generated complexity functions.
type pricedSchema struct {
	graphql.ExecutableSchema
	rules map[fieldKey]costFunc
}

func withCosts(es graphql.ExecutableSchema) graphql.ExecutableSchema {
	return pricedSchema{ExecutableSchema: es, rules: costRules(es.Schema())}
}

func (p pricedSchema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if rule := p.rules[fieldKey{typeName, field}]; rule != nil {
		return rule(child, args), true
	}
	return p.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
}

// capLists cuts a capped list to its cap, so that no list returns more than it
// was weighed for.
func capLists(ctx context.Context, res any) any {
	fc := graphql.GetFieldContext(ctx)
	limit, ok := listCaps[fieldKey{fc.Object, fc.Field.Name}]
	if !ok {
		return res
	}
	if v := reflect.ValueOf(res); v.Kind() == reflect.Slice && v.Len() > limit {
		return v.Slice(0, limit).Interface()
	}
	return res
}

// complexityLimit refuses, before anything runs, an operation that costs more
// than the limit, and cuts the capped lists of the operations it lets through.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &complexityLimit{}

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if cost := complexity.Calculate(ctx, c.es, oc.Operation, oc.Variables); cost > c.limit {
		err := gqlerror.Errorf("the operation costs %d, more than the limit of %d: ask for fewer fields or smaller pages", cost, c.limit)
		err.Extensions = map[string]any{"code": string(errcode.ComplexityLimit)}
		return err
	}
	// Wrapping the operation's resolver middleware, rather than adding a field
	// middleware, costs no allocation per field.
	previous := oc.ResolverMiddleware
	oc.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		res, err := previous(ctx, next)
		if err != nil || res == nil {
			return res, err
		}
		return capLists(ctx, res), nil
	}
	return nil
}

// limitResponse replaces data larger than limit bytes with a COMPLEXITY_LIMIT
// error, for what the complexity let through (long strings, many scalars). Inside
// the mutation transaction, the refusal also rolls the mutation back.
func limitResponse(limit int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || len(resp.Data) <= limit {
			return resp
		}
		err := gqlerror.Errorf("the response is larger than %d bytes: ask for fewer fields or smaller pages", limit)
		err.Extensions = map[string]any{"code": string(errcode.ComplexityLimit)}
		return &graphql.Response{Errors: gqlerror.List{err}, Extensions: resp.Extensions}
	}
}
