package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound what one GraphQL request may ask for.
type Limits struct {
	Complexity int // the cost of the selected fields, lists weighted by their page size or cap
	// ResponseBytes caps the data of one response; 0 leaves it unbounded.
	ResponseBytes int
	Depth         int // nesting of selection sets
	Tokens        int // lexer tokens of the document: caps aliases and huge queries before parsing
}

// HandlerOptions configure the GraphQL HTTP handler.
type HandlerOptions struct {
	Limits        Limits
	Introspection bool
	// Suggestions ("did you mean …") help developers and help attackers map a
	// schema whose introspection is off; production turns them off.
	Suggestions bool
	Logger      *slog.Logger
	// TxOpener runs each mutation operation in one transaction.
	TxOpener entgql.TxOpener
	// Observe, if set, learns each operation's name and error count (for the
	// request's log line).
	Observe func(ctx context.Context, operation string, errors int)
}

// NewHandler returns the GraphQL handler: GET and POST transports, a query cache,
// the limits, and the one error presenter. Each extension is added on purpose
// (no uploads, no persisted queries, introspection only when asked for).
func NewHandler(schema graphql.ExecutableSchema, o HandlerOptions) *handler.Server {
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(o.Limits.Tokens)
	srv.SetDisableSuggestion(!o.Suggestions)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(&complexityLimit{limit: o.Limits.Complexity})
	srv.Use(depthLimit(o.Limits.Depth))
	srv.Use(newGuardArguments(schema.Schema()))
	srv.Use(&inputCheck{introspection: o.Introspection})
	srv.Use(passwordChosen{})
	srv.Use(previewReadOnly{})
	if o.TxOpener != nil {
		srv.Use(entgql.Transactioner{TxOpener: o.TxOpener, SkipTxFunc: hasSelfTransacting})
	}
	if o.Limits.ResponseBytes > 0 {
		// After the transaction, so that it runs inside it: a refused answer undoes its mutation.
		srv.AroundResponses(limitResponse(o.Limits.ResponseBytes))
	}
	srv.SetErrorPresenter(presentError(o.Logger))
	srv.SetRecoverFunc(recoverPanic(o.Logger))
	if o.Observe != nil {
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			resp := next(ctx)
			name := ""
			if graphql.HasOperationContext(ctx) {
				name = graphql.GetOperationContext(ctx).OperationName
			}
			if resp != nil {
				o.Observe(ctx, name, len(resp.Errors))
			}
			return resp
		})
	}
	return srv
}

// depthLimit refuses operations nested deeper than max selection sets. The depth
// is the number of selection sets nested inside the operation's own, as
// graphql-depth-limit counts it: `{ viewer { user { id } } }` is 2 deep, and
// graphql-js's standard introspection query 14.
type depthLimit int

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit(0)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, map[string]int{}); depth > int(d) {
		err := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, int(d))
		err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
		return err
	}
	return nil
}

// selectionDepth returns how many selection sets nest inside set. Each fragment
// is measured once (fragments maps its name to its depth), so that a document
// spreading fragments many times costs its size, not the size of its expansion;
// validation has refused cycles already.
func selectionDepth(set ast.SelectionSet, fragments map[string]int) int {
	deepest := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				deepest = max(deepest, 1+selectionDepth(s.SelectionSet, fragments))
			}
		case *ast.InlineFragment:
			deepest = max(deepest, selectionDepth(s.SelectionSet, fragments))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			depth, ok := fragments[s.Name]
			if !ok {
				depth = selectionDepth(s.Definition.SelectionSet, fragments)
				fragments[s.Name] = depth
			}
			deepest = max(deepest, depth)
		}
	}
	return deepest
}

// selfTransacting mutations manage their own transactions: a failed login must
// count although the operation fails, bulk invitations commit row by row, and an
// import's dry run rolls back only itself — all of which a shared transaction
// would undo. An operation that contains one runs without the shared
// transaction; every other mutation in it still opens its own where it needs one.
var selfTransacting = map[string]bool{
	"signUp": true, "logIn": true, "refreshSession": true, "logOut": true,
	"switchOrganization": true, "changePassword": true, "requestPasswordReset": true,
	"resetPassword": true, "acceptInvitation": true, "inviteMembers": true, "importMembers": true,
	"verifyEmail": true, "confirmPhoneVerification": true, "changeEmail": true,
}

func hasSelfTransacting(op *ast.OperationDefinition) bool {
	return selectsAny(op.SelectionSet, selfTransacting)
}

func selectsAny(set ast.SelectionSet, names map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if names[s.Name] {
				return true
			}
		case *ast.InlineFragment:
			if selectsAny(s.SelectionSet, names) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && selectsAny(s.Definition.SelectionSet, names) {
				return true
			}
		}
	}
	return false
}
