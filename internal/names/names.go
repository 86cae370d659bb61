// Package names keeps the names people read — of people, members, groups,
// roles and organizations — in one form: NFC-normalized, without control,
// bidirectional-override or zero-width characters, so that two names that look
// alike are stored alike and compare alike.
package names

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"staffroom/ent"
	"staffroom/internal/errcode"
)

// fields are the string fields, in any entity, that hold a name.
var fields = map[string]bool{
	"first_name": true, "last_name": true, "name": true, "username": true, "username_key": true,
	"title": true, "customer_name": true, "email": true, "billing_email": true, "slug": true, "key": true,
}

// Normalize returns s in NFC, or an error naming the first character that has
// no place in a name: controls (tabs and line breaks included), bidirectional
// overrides and isolates, zero-width characters and other invisible format
// characters.
func Normalize(s string) (string, error) {
	n := norm.NFC.String(s)
	for _, r := range n {
		if refused(r) {
			return "", &RefusedError{Rune: r}
		}
	}
	return n, nil
}

func refused(r rune) bool {
	// Cf, the format characters, holds the bidi controls (U+202A–E,
	// U+2066–9), the zero-width space, joiners and the BOM.
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
}

// RefusedError names the character that a name may not hold.
type RefusedError struct{ Rune rune }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("names: U+%04X has no place in a name", e.Rune)
}

// Hook normalizes every name field a mutation sets, and refuses the mutation
// with BAD_USER_INPUT naming the field when one holds a refused character. It is
// installed on the client, so no path that writes a name can skip it.
func Hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			for _, f := range m.Fields() {
				if !fields[f] {
					continue
				}
				v, ok := m.Field(f)
				s, isString := v.(string)
				if !ok || !isString {
					continue
				}
				n, err := Normalize(s)
				var bad *RefusedError
				if errors.As(err, &bad) {
					return nil, errcode.Input(camel(f), "%s holds an invisible or control character (U+%04X): names are plain text", camel(f), bad.Rune)
				}
				if n != s {
					if err := m.SetField(f, n); err != nil {
						return nil, err
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// camel turns a column name into the input field clients know it by.
func camel(column string) string {
	parts := strings.Split(column, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
