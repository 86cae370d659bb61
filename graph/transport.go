package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/internal/errcode"
)

// The response media types of the GraphQL over HTTP specification.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// httpTransport serves GraphQL over HTTP, GET and POST with a JSON body, as the
// GraphQL over HTTP specification asks. It replaces gqlgen's transports, whose
// decoder echoes the request body, lets wrong shapes (arrays, `"x"`,
// `{"query": 5}`) panic inside the transaction wrapper, and answers parse and
// validation failures with 422 whatever the client accepts.
//
// Status codes:
//   - a request that is not one GraphQL request (body not a JSON object, query
//     missing or not a string, variables not an object) is 400, BAD_USER_INPUT;
//   - a request refused before execution (parse, validation, variable coercion,
//     the limits, inputCheck) is 200 under application/json and 400 under
//     application/graphql-response+json, and its body has no data entry;
//   - a mutation sent with GET is 405;
//   - everything that executes is 200, errors or not.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mediaType == mediaJSON
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMedia(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media)
	start := graphql.Now()
	params, bad := readParams(r)
	if bad != nil {
		// An empty operation context: the response middleware (the
		// transaction wrapper among them) expects one.
		ctx = graphql.WithOperationContext(ctx, &graphql.OperationContext{})
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{refusal(nil, bad)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeResponse(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		e := errcode.New(errcode.BadUserInput, "GET runs queries only: send %s with POST", oc.Operation.Operation)
		writeResponse(w, http.StatusMethodNotAllowed, exec.DispatchError(graphql.WithOperationContext(ctx, oc), gqlerror.List{refusal(nil, e)}))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	if resp != nil && resp.Data == nil {
		// Execution began: the data entry is there, null when an error
		// (or the transaction wrapper, which drops data on error) left none.
		resp.Data = json.RawMessage("null")
	}
	writeResponse(w, http.StatusOK, resp)
}

// responseMedia picks the response media type from an Accept header: JSON
// unless the client prefers graphql-response+json (gqlgen's choice, too).
func responseMedia(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// readParams decodes one GraphQL request from the query string (GET) or the
// JSON body (POST). Its errors name the parameter at fault and never repeat
// the body.
func readParams(r *http.Request) (*graphql.RawParams, *errcode.Error) {
	p := &graphql.RawParams{}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, errcode.Input("", "the query string is malformed")
		}
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if p.Variables, err = decodeObject(q.Get("variables")); err != nil {
			return nil, errcode.Input("variables", "variables must be a JSON object")
		}
		if p.Extensions, err = decodeObject(q.Get("extensions")); err != nil {
			return nil, errcode.Input("extensions", "extensions must be a JSON object")
		}
		return p, requireQuery(p)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errcode.Input("", "could not read the request body")
	}
	switch body = bytes.TrimSpace(body); {
	case len(body) == 0:
		return nil, errcode.Input("", "the request body is empty: send a JSON object with a query")
	case body[0] == '[':
		return nil, errcode.Input("", "batched requests are not supported: send one JSON object")
	case body[0] != '{':
		return nil, errcode.Input("", "the request body must be a JSON object with a query")
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil, errcode.Input("", "the request body is not valid JSON")
	}
	for name, dst := range map[string]*string{"query": &p.Query, "operationName": &p.OperationName} {
		if raw, ok := fields[name]; ok && json.Unmarshal(raw, dst) != nil {
			return nil, errcode.Input(name, "%s must be a string", name)
		}
	}
	if p.Variables, err = decodeObject(string(fields["variables"])); err != nil {
		return nil, errcode.Input("variables", "variables must be a JSON object")
	}
	if p.Extensions, err = decodeObject(string(fields["extensions"])); err != nil {
		return nil, errcode.Input("extensions", "extensions must be a JSON object")
	}
	return p, requireQuery(p)
}

func requireQuery(p *graphql.RawParams) *errcode.Error {
	if strings.TrimSpace(p.Query) == "" {
		return errcode.Input("query", "query is required")
	}
	return nil
}

// decodeObject decodes a JSON object (or null, or nothing) keeping numbers as
// written, as gqlgen's variable coercion expects.
func decodeObject(s string) (map[string]any, error) {
	if s == "" || s == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errcode.New(errcode.BadUserInput, "trailing data")
	}
	return m, nil
}

// response is a GraphQL response whose data entry is left out when execution
// never started, as the specification asks.
type response struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	if resp == nil { // the client went away
		return
	}
	body, err := encodeResponse(resp)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // nothing to do for a client that went away
}

// encodeResponse writes what json.Marshal of a response would, but copies the
// data as it is: gqlgen wrote it as compact JSON already, and having
// encoding/json check and copy it again cost a few percent of a large page.
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	head, err := json.Marshal(response{Errors: resp.Errors})
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(head)+len(resp.Data)+16)
	body = append(body, head[:len(head)-1]...) // without its closing brace
	if len(resp.Data) > 0 {
		if len(head) > 2 {
			body = append(body, ',')
		}
		body = append(body, `"data":`...)
		body = append(body, resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return nil, err
		}
		if len(body) > 1 {
			body = append(body, ',')
		}
		body = append(body, `"extensions":`...)
		body = append(body, ext...)
	}
	return append(body, '}'), nil
}
