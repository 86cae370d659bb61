package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/internal/access"
)

// A schema with one guarded field, its filters and its order value, to prove the
// mechanism on every shape an argument can take. The real schema's guarded
// fields are TestGuardedFieldsHaveNoSideChannel's.
const guardedSchema = `
directive @hasPermission(permission: String!) on FIELD_DEFINITION
type Query { things(where: ThingWhereInput, orderBy: [ThingOrder!]): [Thing!]! }
type Thing { id: ID!  name: String  secret: String @hasPermission(permission: "billing.view") }
input ThingWhereInput {
  not: ThingWhereInput
  and: [ThingWhereInput!]
  name: String
  secret: String
  secretContains: String
}
input ThingOrder { field: ThingOrderField! }
enum ThingOrderField { NAME SECRET }
`

var guardCases = []struct {
	query  string
	vars   map[string]any
	denied bool
}{
	{query: `{ things(where: {name: "a"}, orderBy: [{field: NAME}]) { id } }`},
	{query: `{ things(where: {secret: "a"}) { id } }`, denied: true},
	{query: `{ things(where: {not: {and: [{name: "a"}, {secretContains: "a"}]}}) { id } }`, denied: true},
	{query: `{ things(orderBy: [{field: SECRET}]) { id } }`, denied: true},
	{query: `query($w: ThingWhereInput) { things(where: $w) { id } }`, vars: map[string]any{"w": map[string]any{"secret": "a"}}, denied: true},
	{query: `query($o: [ThingOrder!]) { things(orderBy: $o) { id } }`, vars: map[string]any{"o": []any{map[string]any{"field": "SECRET"}}}, denied: true},
	{query: `query { ...F } fragment F on Query { things(where: {secret: "a"}) { id } }`, denied: true},
}

func TestGuardArgumentsRefuseGuardedFilters(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: guardedSchema})
	g := newGuardArguments(schema)
	if len(g.guards) != 3 {
		t.Fatalf("derived guards %v, want the two filters and the order value of Thing.secret", g.guards)
	}
	lacking := access.NewViewer("usr_1", "ses_1", &access.Membership{OrgID: "org_1", MembershipID: "mem_1", RoleKey: "custom"})
	holding := access.NewViewer("usr_1", "ses_1", &access.Membership{OrgID: "org_1", MembershipID: "mem_1", RoleKey: "custom",
		RolePermissions: []string{access.BillingView}})
	for _, c := range guardCases {
		doc, errs := gqlparser.LoadQuery(schema, c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		oc := &graphql.OperationContext{Operation: doc.Operations[0], Variables: c.vars}
		err := g.MutateOperationContext(access.NewContext(context.Background(), lacking), oc)
		if denied := err != nil; denied != c.denied {
			t.Errorf("%s without billing.view: denied %v, want %v (%v)", c.query, denied, c.denied, err)
		}
		if err != nil && err.Extensions["code"] != "FORBIDDEN" {
			t.Errorf("%s: code %v, want FORBIDDEN", c.query, err.Extensions["code"])
		}
		if err := g.MutateOperationContext(access.NewContext(context.Background(), holding), oc); err != nil {
			t.Errorf("%s with billing.view: %v", c.query, err)
		}
	}
}
