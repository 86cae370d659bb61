package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// introspectionQuery is graphql-js 16's getIntrospectionQuery() with
// descriptions, specifiedByURL, isRepeatable, the schema description and
// deprecated input values: what GraphiQL, Apollo and code generators send.
func introspectionQuery(t *testing.T) string {
	t.Helper()
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(q)
}

// Standard clients read the schema under the default limits in development.
func TestStandardIntrospection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		r := s.MustDo(t, "", introspectionQuery(t), nil)
		var out struct {
			Schema struct {
				QueryType struct{ Name string }
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		r.Decode(t, &out)
		if out.Schema.QueryType.Name != "Query" || len(out.Schema.Types) < 20 {
			t.Errorf("queryType %q, %d types", out.Schema.QueryType.Name, len(out.Schema.Types))
		}
	})
}

// The depth in the error is the real nesting: the standard introspection query
// is 14 deep, so a limit of 13 refuses it saying 14, and 14 lets it through.
func TestDepthCount(t *testing.T) {
	d := storetest.Dialects()[0]
	for _, c := range []struct {
		limit   int
		query   string
		refusal string // "" when the query runs
	}{
		{13, introspectionQuery(t), "operation is nested 14 levels deep; the limit is 13"},
		{14, introspectionQuery(t), ""},
		{1, `{ viewer { user { id } } }`, "operation is nested 2 levels deep; the limit is 1"},
		{1, `{ permissionCatalog { key } }`, ""},
		{1, `{ ...F } fragment F on Query { a: permissionCatalog { key } ... on Query { b: permissionCatalog { key } } }`, ""},
		{1, `{ ...F } fragment F on Query { permissionCatalog { ... on PermissionInfo { __typename } } viewer { ...U } } fragment U on Viewer { user { id } }`,
			"operation is nested 2 levels deep; the limit is 1"},
	} {
		t.Run(fmt.Sprintf("limit %d %.30s", c.limit, strings.TrimSpace(c.query)), func(t *testing.T) {
			s := apptest.New(t, d, fmt.Sprintf("STAFFROOM_DEPTH_LIMIT=%d", c.limit))
			r := s.Do(t, "", c.query, nil)
			switch {
			case c.refusal == "" && len(r.Errors) > 0 && r.Errors[0].Message != "authentication required":
				t.Errorf("refused: %+v", r.Errors)
			case c.refusal != "" && (len(r.Errors) != 1 || r.Errors[0].Message != c.refusal || r.Errors[0].Code() != "BAD_USER_INPUT"):
				t.Errorf("errors = %+v, want %q", r.Errors, c.refusal)
			}
		})
	}
}

// exchange sends one raw request and returns its status and the body decoded
// as a generic JSON object, so that a missing data entry shows.
func exchange(t *testing.T, method, url, contentType, accept, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %s", res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func firstCode(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	ext, _ := e["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// GraphQL over HTTP: a request refused before execution is 200 under
// application/json and 400 without a data entry under
// application/graphql-response+json; a request that is not a GraphQL request
// is 400 under both.
func TestHTTPStatusRules(t *testing.T) {
	s := apptest.New(t, storetest.Dialects()[0])
	const (
		plain  = "application/json"
		strict = "application/graphql-response+json"
	)
	for _, c := range []struct {
		name, body string
		code       string
		json, gql  int // status under each Accept
	}{
		{"runs", `{"query":"{ __typename }"}`, "", 200, 200},
		{"parse failure", `{"query":"{"}`, "GRAPHQL_PARSE_FAILED", 200, 400},
		{"validation failure", `{"query":"{ noSuchField }"}`, "GRAPHQL_VALIDATION_FAILED", 200, 400},
		{"variable coercion failure", `{"query":"query($id: ID!) { __typename }","variables":{"id":null}}`, "GRAPHQL_VALIDATION_FAILED", 200, 400},
		{"unknown operation name", `{"query":"query A { __typename }","operationName":"B"}`, "GRAPHQL_VALIDATION_FAILED", 200, 400},
		{"edge refusal", `{"query":"query($s: String!) { __type(name: $s) { name } }","variables":{"s":"a\u0000b"}}`, "BAD_USER_INPUT", 200, 400},
		{"missing query", `{"qeury":"{ __typename }"}`, "BAD_USER_INPUT", 400, 400},
		{"batch", `[{"query":"{ __typename }"}]`, "BAD_USER_INPUT", 400, 400},
	} {
		for _, accept := range []string{plain, strict} {
			t.Run(c.name+" "+accept, func(t *testing.T) {
				status, body := exchange(t, http.MethodPost, s.URL+"/graphql", "application/json", accept, c.body)
				want := c.json
				if accept == strict {
					want = c.gql
				}
				if status != want || firstCode(body) != c.code {
					t.Errorf("status %d, code %q; want %d, %q: %v", status, firstCode(body), want, c.code, body)
				}
				if _, hasData := body["data"]; hasData == (c.code != "") {
					t.Errorf("data entry present: %v; the request executed: %v", hasData, c.code == "")
				}
			})
		}
	}
	t.Run("GET runs queries under the same rules", func(t *testing.T) {
		status, body := exchange(t, http.MethodGet, s.URL+"/graphql?query=%7B", "", strict, "")
		if status != 400 || firstCode(body) != "GRAPHQL_PARSE_FAILED" {
			t.Errorf("status %d: %v", status, body)
		}
		status, body = exchange(t, http.MethodGet, s.URL+"/graphql?query=%7B", "", plain, "")
		if status != 200 || firstCode(body) != "GRAPHQL_PARSE_FAILED" {
			t.Errorf("status %d: %v", status, body)
		}
	})
	t.Run("GET refuses mutations with 405", func(t *testing.T) {
		status, body := exchange(t, http.MethodGet, s.URL+"/graphql?query=mutation%7BlogOut%7D", "", "", "")
		if status != http.StatusMethodNotAllowed || firstCode(body) != "BAD_USER_INPUT" {
			t.Errorf("status %d: %v", status, body)
		}
	})
	t.Run("POST without a JSON content type is 4xx", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader([]byte(`{"query":"{ __typename }"}`)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 || res.StatusCode > 499 {
			t.Errorf("status %d", res.StatusCode)
		}
	})
}

// A bad bearer token is refused with 401 before anything runs; no token at all
// runs the request, and fields that need a login answer UNAUTHENTICATED.
func TestBearerTokenStatus(t *testing.T) {
	s := apptest.New(t, storetest.Dialects()[0])
	query := `{"query":"{ __typename viewer { user { id } } }"}`

	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(query))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer not-a-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(raw), "UNAUTHENTICATED") || strings.Contains(string(raw), "Query") {
		t.Errorf("invalid token: status %d, body %s", res.StatusCode, raw)
	}

	status, body := exchange(t, http.MethodPost, s.URL+"/graphql", "application/json", "", query)
	// viewer is non-null, so its error nulls data: the entry is there, the
	// request ran.
	if _, ran := body["data"]; status != 200 || firstCode(body) != "UNAUTHENTICATED" || !ran {
		t.Errorf("no token: status %d, body %v", status, body)
	}
}
