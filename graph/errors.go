package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"staffroom/ent"
	"staffroom/ent/privacy"
	"staffroom/internal/errcode"
)

// presentError is the one place where errors become what a client sees: a stable
// code in extensions.code and a message that never carries SQL, stack traces or
// request bodies. Unexpected errors are logged here, once, with their cause.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		code, message, field := classify(err)
		if code == "" {
			// Errors of the GraphQL layer itself (parse, validation, variable
			// coercion) carry their own safe message and code.
			if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
				setCode(gqlErr, errcode.BadUserInput, "")
			}
			return gqlErr
		}
		if code == errcode.Internal {
			log.ErrorContext(ctx, "request failed", "path", gqlErr.Path.String(), "err", err)
		}
		gqlErr.Message = message
		setCode(gqlErr, code, field)
		return gqlErr
	}
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
