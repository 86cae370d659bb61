package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/ent"
	"staffroom/ent/privacy"
	"staffroom/internal/errcode"
)

// presentError is the one place where errors become what a client sees: a stable
// code in extensions.code and a message that never carries SQL, stack traces or
// request bodies. Unexpected errors are logged here, once, with their cause, at
// ERROR; bad requests at WARN, without a stack.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		code, message, field := classify(err)
		if code == "" {
			// Errors of the GraphQL layer itself (parse, validation, variable
			// coercion, the limits, inputCheck) carry their own safe message.
			code, field = layerCode(gqlErr)
			message = gqlErr.Message
		} else if arg := argumentPath(ctx, gqlErr); code == errcode.Internal && arg != "" {
			// An argument that did not decode: inputCheck refuses most of these
			// before execution; this covers any scalar it does not know.
			code, message, field = errcode.BadUserInput, "invalid value for "+arg, arg
		}
		switch code {
		case errcode.Internal:
			log.ErrorContext(ctx, "request failed", "path", gqlErr.Path.String(), "err", err)
		case errcode.BadUserInput, errcode.ParseFailed, errcode.ValidationFailed, errcode.IntrospectionDisabled:
			log.WarnContext(ctx, "request refused", "code", string(code), "field", field, "path", gqlErr.Path.String(), "message", message)
		}
		gqlErr.Message = message
		setCode(gqlErr, code, field)
		return gqlErr
	}
}

// layerCode returns the code and field of an error made by gqlgen, entgql or
// one of the handler's extensions. entgql's INVALID_PAGINATION becomes
// BAD_USER_INPUT, the code every other paging error has.
func layerCode(e *gqlerror.Error) (errcode.Code, string) {
	code, _ := e.Extensions["code"].(string)
	field, _ := e.Extensions["field"].(string)
	switch {
	case code == "INVALID_PAGINATION" && strings.HasPrefix(e.Message, "`last`"):
		return errcode.BadUserInput, "last"
	case code == "INVALID_PAGINATION":
		return errcode.BadUserInput, "first"
	case code == "":
		return errcode.BadUserInput, field
	}
	return errcode.Code(code), field
}

// argumentPath returns the path of the argument at fault (after, where.createdAtGT)
// when err was raised while decoding the arguments of the current field, and ""
// for errors of the field itself.
func argumentPath(ctx context.Context, e *gqlerror.Error) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || e.Err == nil {
		return ""
	}
	own := len(fc.Path())
	if len(e.Path) <= own {
		return ""
	}
	var b strings.Builder
	for _, el := range e.Path[own:] {
		switch el := el.(type) {
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		}
	}
	return b.String()
}

func setCode(e *gqlerror.Error, code errcode.Code, field string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(code)
	if field != "" {
		e.Extensions["field"] = field
	}
}

// classify maps an error to its code and client message. An empty code means the
// error was made by gqlgen for the client and is safe as it is.
func classify(err error) (errcode.Code, string, string) {
	if e, ok := errcode.As(err); ok {
		return e.Code, e.Message, e.Field
	}
	var validation *ent.ValidationError
	switch {
	case ent.IsNotFound(err):
		return errcode.NotFound, "not found", ""
	case errors.Is(err, privacy.Deny):
		return errcode.Forbidden, "you do not have permission to do this", ""
	case ent.IsConstraintError(err):
		return errcode.Conflict, "conflicts with an existing record", ""
	case errors.As(err, &validation):
		return errcode.BadUserInput, fmt.Sprintf("invalid value for %s", validation.Name), validation.Name
	case errors.Is(err, context.DeadlineExceeded):
		return errcode.Internal, "the request took too long", ""
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		return "", "", ""
	}
	return errcode.Internal, "internal error", ""
}

// recoverPanic turns a panic in a resolver into an INTERNAL error and logs the stack.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errcode.New(errcode.Internal, "internal error")
	}
}
