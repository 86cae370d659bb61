package names

import (
	"errors"
	"testing"
)

var normalizeCases = []struct {
	in, want string
	refused  rune
}{
	{in: "Zoë", want: "Zoë"},
	{in: "Zoe\u0308", want: "Zoë"}, // decomposed ë becomes the composed one
	{in: "Ångström", want: "Ångström"},
	{in: "Class 1A", want: "Class 1A"},
	{in: "admin\u202Egpj.exe", refused: 0x202E}, // right-to-left override
	{in: "Ann\u2066a", refused: 0x2066},         // left-to-right isolate
	{in: "Bo\u200Bb", refused: 0x200B},          // zero-width space
	{in: "Bo\u200Db", refused: 0x200D},          // zero-width joiner
	{in: "\uFEFFAnn", refused: 0xFEFF},          // byte order mark
	{in: "Line\nbreak", refused: '\n'},
	{in: "Tab\there", refused: '\t'},
	{in: "Nul\x00", refused: 0},
	{in: "Bell\x07", refused: 7},
}

func TestNormalize(t *testing.T) {
	for _, c := range normalizeCases {
		got, err := Normalize(c.in)
		var bad *RefusedError
		switch {
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case c.want == "" && (!errors.As(err, &bad) || bad.Rune != c.refused):
			t.Errorf("Normalize(%q) = %q, %v; want U+%04X refused", c.in, got, err, c.refused)
		}
	}
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{"first_name": "firstName", "name": "name", "username_key": "usernameKey"} {
		if got := camel(in); got != want {
			t.Errorf("camel(%q) = %q, want %q", in, got, want)
		}
	}
}
