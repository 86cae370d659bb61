package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The walker finds the first bad value wherever it is and names its path.
func TestInputWalker(t *testing.T) {
	c := &inputCheck{}
	if err := c.Validate(NewSchema(Deps{})); err != nil {
		t.Fatal(err)
	}
	where := ast.NamedType("MembershipWhereInput", nil)
	for _, tc := range []struct {
		name  string
		v     any
		t     *ast.Type
		field string // "" when the value passes
	}{
		{"plain string", "Zoë", ast.NamedType("String", nil), ""},
		{"NUL in a string", "a\x00", ast.NamedType("String", nil), "s"},
		{"NUL deep in a Map", map[string]any{"a": []any{"x", map[string]any{"b": "\x00"}}}, ast.NamedType("Map", nil), "s.a[1].b"},
		{"NUL in a Map key", map[string]any{"k\x00": 1}, ast.NamedType("Map", nil), "s"},
		{"NUL in a list of a where", map[string]any{"usernameIn": []any{"a", "b\x00"}}, where, "s.usernameIn[1]"},
		{"good time", "2024-02-29T12:00:00Z", ast.NamedType("Time", nil), ""},
		{"bad time", "29/02/2024", ast.NamedType("Time", nil), "s"},
		{"bad cursor", "garbage", ast.NamedType("Cursor", nil), "s"},
		{"single value for a list", "x\x00", ast.ListType(ast.NamedType("String", nil), nil), "s"},
		{"where at depth 4", map[string]any{"not": map[string]any{"or": []any{map[string]any{"not": map[string]any{}}}}}, where, ""},
		{"where at depth 5", map[string]any{"not": map[string]any{"or": []any{map[string]any{"not": map[string]any{"not": map[string]any{}}}}}}, where, "s.not.or[0].not.not"},
		{"list of 101", map[string]any{"idIn": make([]any, 101)}, where, "s.idIn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := c.value(tc.v, tc.t, "s", nil)
			switch {
			case tc.field == "" && e != nil:
				t.Errorf("refused: %v", e)
			case tc.field != "" && (e == nil || e.Field != tc.field):
				t.Errorf("got %v, want a refusal of %s", e, tc.field)
			}
		})
	}
}

func TestCheckPage(t *testing.T) {
	for _, tc := range []struct {
		args  map[string]any
		field string
	}{
		{map[string]any{"first": int64(10)}, ""},
		{map[string]any{"first": nil, "last": int64(3)}, ""},
		{map[string]any{"first": int64(1), "last": int64(1)}, "first"},
		{map[string]any{"first": int64(-1)}, "first"},
		{map[string]any{"last": int64(-5)}, "last"},
	} {
		e := checkPage(tc.args)
		if (e == nil) != (tc.field == "") || e != nil && e.Field != tc.field {
			t.Errorf("%v: %v", tc.args, e)
		}
	}
}

// entgql's own paging errors, should one get past checkPage, reach clients as
// BAD_USER_INPUT like every other paging error.
func TestLayerCodeMapsEntgqlPagination(t *testing.T) {
	for msg, field := range map[string]string{
		"`first` on a connection cannot be less than zero.": "first",
		"`last` on a connection cannot be less than zero.":  "last",
	} {
		code, f := layerCode(&gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "INVALID_PAGINATION"}})
		if code != "BAD_USER_INPUT" || f != field {
			t.Errorf("%s: %s on %q", msg, code, f)
		}
	}
}
