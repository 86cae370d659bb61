// Package errcode provides the stable error codes that clients see in
// extensions.code, and an error type that carries a code and a client message
// apart from the internal cause.
package errcode

import (
	"errors"
	"fmt"
)

// Code is a stable error code. Codes are never renamed.
type Code string

// The codes of docs/authorization.md.
const (
	Unauthenticated    Code = "UNAUTHENTICATED"
	Forbidden          Code = "FORBIDDEN"
	NotFound           Code = "NOT_FOUND"
	BadUserInput       Code = "BAD_USER_INPUT"
	Conflict           Code = "CONFLICT"
	LastOwner          Code = "LAST_OWNER"
	InvalidCredentials Code = "INVALID_CREDENTIALS"
	AccountLocked      Code = "ACCOUNT_LOCKED"
	InvitationInvalid  Code = "INVITATION_INVALID"
	RateLimited        Code = "RATE_LIMITED"
	ComplexityLimit    Code = "COMPLEXITY_LIMIT"
	Internal           Code = "INTERNAL"
	// EmailUnverified refuses what a login may do only once its address is
	// verified (creating an organization): until then it works only in the
	// organizations that invited it.
	EmailUnverified Code = "EMAIL_UNVERIFIED"
	// PreviewReadOnly refuses every mutation of a role preview: its viewer
	// only shows what the role would see.
	PreviewReadOnly Code = "PREVIEW_READ_ONLY"
	// AccountNotManaged refuses an administrator's change to a login's contact
	// details or password when some membership of that login lies outside what
	// the administrator manages: a password reset email is the way then.
	AccountNotManaged Code = "ACCOUNT_NOT_MANAGED"
	// PasswordChangeRequired answers every field but changePassword and logOut
	// while the viewer's password is one an administrator set.
	PasswordChangeRequired Code = "PASSWORD_CHANGE_REQUIRED"
	// SeatsExhausted refuses a new member — an invitation, an acceptance, a
	// re-enabled member — when active members and pending invitations would
	// exceed the seats of the organization's plan.
	SeatsExhausted Code = "SEATS_EXHAUSTED"
	// PersonOnly refuses an API key an operation that acts on the caller's own
	// login, session or membership (logOut, changePassword,
	// switchOrganization, leaveOrganization, …): a key is not a person.
	PersonOnly Code = "PERSON_ONLY"
)

// The codes of requests refused before any resolver runs, besides
// BAD_USER_INPUT (bad arguments, variables or request bodies) and
// COMPLEXITY_LIMIT.
const (
	// IntrospectionDisabled answers an operation that selects __schema or
	// __type where introspection is off (production, unless turned on).
	IntrospectionDisabled Code = "INTROSPECTION_DISABLED"
	// ParseFailed answers a document that is not GraphQL; gqlgen sets it.
	ParseFailed Code = "GRAPHQL_PARSE_FAILED"
	// ValidationFailed answers a document that does not fit the schema, or
	// variables that do not fit their types; gqlgen sets it.
	ValidationFailed Code = "GRAPHQL_VALIDATION_FAILED"
)

// Error is an error with a code and a message meant for the client. Field names
// the input field at fault, for BAD_USER_INPUT. Err is the internal cause: it is
// logged, never sent.
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a client message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Input returns a BAD_USER_INPUT error about one input field.
func Input(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Taken returns a CONFLICT error about one input field whose value another
// record holds already (a username, a slug, an invoice number).
func Taken(field, format string, args ...any) *Error {
	return &Error{Code: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and client message whose cause is err.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// As returns the coded error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// Common errors.
var (
	ErrForbidden       = New(Forbidden, "you do not have permission to do this")
	ErrNotFound        = New(NotFound, "not found")
	ErrUnauthenticated = New(Unauthenticated, "authentication required")
)
