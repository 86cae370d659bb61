package graph_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"staffroom/graph"
)

// docs/api.md is the API reference. Its convention, which this test holds:
//
//   - every root field of Query and Mutation has one entry, a level-3 heading
//     naming it alone in backticks (### `logIn`), running to the next level-2 or
//     level-3 heading; such a heading names nothing else;
//   - an entry says who may call the operation (a "**Who:**" line) and which
//     error codes it answers (an "**Errors:**" line; every code there is one
//     that internal/errcode defines), and has a curl example that calls it;
//   - every example is a call of the shell helper, gql 'query' 'variables', in a
//     sh block: the query is one line without double quotes or backslashes (it
//     is pasted into a JSON string), parses and validates against the schema, and
//     the variables are a JSON object that fits the operation's variables once
//     shell variables ($ROLE) stand for a string;
//   - the helper is the README walk-through's, word for word.

const (
	apiDocPath        = "../docs/api.md"
	apiDocPlaceholder = "placeholder-value"
)

// apiExample is one gql call of the doc.
type apiExample struct {
	line      int    // where the call starts, for messages
	entry     string // the operation whose entry holds it, or ""
	query     string
	variables string
}

// apiEntry is one operation's entry.
type apiEntry struct {
	name string
	line int
	text strings.Builder
}

var (
	apiEntryHeading = regexp.MustCompile("^### `([A-Za-z_][A-Za-z0-9_]*)`\\s*$")
	apiGqlCall      = regexp.MustCompile(`(?:^|[\s(;|&])gql[ \t]+(?:\\\n[ \t]*)?['"]`)
	apiShellVar     = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)
	apiCode         = regexp.MustCompile("`([A-Z][A-Z_]+)`")
)

func TestAPIDoc(t *testing.T) {
	raw, err := os.ReadFile(apiDocPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	schema := graph.NewSchema(graph.Deps{}).Schema()
	codes := knownErrorCodes(t)

	entries, examples := parseAPIDoc(t, doc)
	if len(examples) == 0 {
		t.Fatal("docs/api.md has no gql examples")
	}

	// Every operation has an entry, and every entry names an operation.
	ops := map[string]ast.Operation{}
	for _, root := range []struct {
		def *ast.Definition
		op  ast.Operation
	}{{schema.Query, ast.Query}, {schema.Mutation, ast.Mutation}} {
		for _, f := range root.def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			ops[f.Name] = root.op
		}
	}
	byName := map[string]*apiEntry{}
	for _, e := range entries {
		if _, ok := ops[e.name]; !ok {
			t.Errorf("docs/api.md:%d: the entry %s names no Query or Mutation field of the schema", e.line, e.name)
		}
		if prev, dup := byName[e.name]; dup {
			t.Errorf("docs/api.md:%d: a second entry for %s (the first is at line %d)", e.line, e.name, prev.line)
		}
		byName[e.name] = e
	}
	var missing []string
	for name, op := range ops {
		if byName[name] == nil {
			missing = append(missing, fmt.Sprintf("%s.%s", rootName(op), name))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("docs/api.md has no entry (### `%s`) for %s", m[strings.IndexByte(m, '.')+1:], m)
	}

	// Each entry says who may call it and what it answers.
	for _, e := range entries {
		text := e.text.String()
		if !strings.Contains(text, "**Who:**") {
			t.Errorf("docs/api.md:%d: the entry %s does not say who may call it (**Who:**)", e.line, e.name)
		}
		_, errorsLine, ok := strings.Cut(text, "**Errors:**")
		if !ok {
			t.Errorf("docs/api.md:%d: the entry %s does not list its error codes (**Errors:**)", e.line, e.name)
			continue
		}
		errorsLine, _, _ = strings.Cut(errorsLine, "\n-")
		errorsLine, _, _ = strings.Cut(errorsLine, "\n\n")
		for _, m := range apiCode.FindAllStringSubmatch(errorsLine, -1) {
			if !codes[m[1]] {
				t.Errorf("docs/api.md:%d: the entry %s lists %s, which internal/errcode does not define", e.line, e.name, m[1])
			}
		}
	}

	// Every example fits the schema, and each entry's examples call it.
	calls := map[string]bool{}
	for _, ex := range examples {
		where := fmt.Sprintf("docs/api.md:%d", ex.line)
		if strings.ContainsAny(ex.query, "\"\\\n") {
			t.Errorf("%s: the query holds a double quote, a backslash or a line break, which the JSON string of gql cannot carry: %s", where, ex.query)
			continue
		}
		q, errs := gqlparser.LoadQuery(schema, ex.query)
		if len(errs) > 0 {
			t.Errorf("%s: the example does not fit the schema: %v\n%s", where, errs, ex.query)
			continue
		}
		if len(q.Operations) != 1 {
			t.Errorf("%s: the example holds %d operations, want one", where, len(q.Operations))
			continue
		}
		op := q.Operations[0]
		for _, sel := range op.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && ex.entry != "" && f.Name == ex.entry && ops[ex.entry] == op.Operation {
				calls[ex.entry] = true
			}
		}
		if strings.Contains(ex.variables, "$") {
			t.Errorf("%s: the variables hold a $ that the shell does not expand (single quotes?): %s", where, ex.variables)
		}
		var vars map[string]any
		if err := json.Unmarshal([]byte(ex.variables), &vars); err != nil || vars == nil {
			t.Errorf("%s: the variables are not a JSON object (%v): %s", where, err, ex.variables)
			continue
		}
		if _, err := validator.VariableValues(schema, op, vars); err != nil {
			t.Errorf("%s: the variables do not fit the operation: %v\n%s", where, err, ex.variables)
		}
	}
	for _, e := range entries {
		if _, ok := ops[e.name]; ok && !calls[e.name] {
			t.Errorf("docs/api.md:%d: no example of the entry %s calls %s", e.line, e.name, e.name)
		}
	}

	// The helper is the README's, so that readers learn one.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, got := gqlHelper(string(readme)), gqlHelper(doc)
	if want == "" {
		t.Fatal("README.md has no gql helper")
	}
	if got != want {
		t.Errorf("docs/api.md's gql helper differs from README.md's:\n%s\nwant:\n%s", got, want)
	}
}

func rootName(op ast.Operation) string {
	if op == ast.Mutation {
		return "Mutation"
	}
	return "Query"
}

// knownErrorCodes returns the codes clients can see: the constants of
// internal/errcode.
func knownErrorCodes(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../internal/errcode/errcode.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	def := regexp.MustCompile(`(?m)^\s*[A-Za-z]+\s+Code\s*=\s*"([A-Z_]+)"`)
	for _, m := range def.FindAllStringSubmatch(string(raw), -1) {
		codes[m[1]] = true
	}
	if len(codes) < 10 {
		t.Fatalf("internal/errcode/errcode.go defines %d codes", len(codes))
	}
	return codes
}

// gqlHelper returns the lines of a document's gql function definition.
func gqlHelper(doc string) string {
	start := strings.Index(doc, "\ngql() {\n")
	if start < 0 {
		return ""
	}
	body := doc[start+1:]
	end := strings.Index(body, "\n}\n")
	if end < 0 {
		return ""
	}
	return body[:end+2]
}

// parseAPIDoc returns the doc's operation entries and the gql calls of its sh
// blocks.
func parseAPIDoc(t *testing.T, doc string) ([]*apiEntry, []apiExample) {
	t.Helper()
	var entries []*apiEntry
	var examples []apiExample
	var current *apiEntry
	lines := strings.SplitAfter(doc, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\n")
		switch {
		case strings.HasPrefix(line, "```"):
			lang := strings.TrimSpace(strings.TrimPrefix(line, "```"))
			var block strings.Builder
			first := i + 2
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				block.WriteString(lines[i])
			}
			if i == len(lines) {
				t.Fatalf("docs/api.md:%d: a code block is not closed", first-1)
			}
			if current != nil {
				current.text.WriteString(block.String())
			}
			if lang != "sh" {
				continue
			}
			name := ""
			if current != nil {
				name = current.name
			}
			for _, ex := range gqlCalls(t, block.String(), first) {
				ex.entry = name
				examples = append(examples, ex)
			}
			continue
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			current = nil
			if m := apiEntryHeading.FindStringSubmatch(line); m != nil {
				current = &apiEntry{name: m[1], line: i + 1}
				entries = append(entries, current)
			}
			continue
		}
		if current != nil {
			current.text.WriteString(lines[i])
		}
	}
	return entries, examples
}

// gqlCalls returns the calls of gql in a shell block that starts at line first
// of the doc: the query and the variables, as the shell would pass them, with
// each shell variable replaced by a placeholder.
func gqlCalls(t *testing.T, block string, first int) []apiExample {
	t.Helper()
	var out []apiExample
	for _, loc := range apiGqlCall.FindAllStringIndex(block, -1) {
		at := loc[1] - 1 // the opening quote
		line := first + strings.Count(block[:at], "\n")
		query, rest, err := shellWord(block[at:])
		if err != nil {
			t.Errorf("docs/api.md:%d: the query argument: %v", line, err)
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		for strings.HasPrefix(rest, "\\\n") {
			rest = strings.TrimLeft(rest[2:], " \t")
		}
		vars := "{}"
		if strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`) {
			if vars, _, err = shellWord(rest); err != nil {
				t.Errorf("docs/api.md:%d: the variables argument: %v", line, err)
				continue
			}
		}
		out = append(out, apiExample{line: line, query: query, variables: vars})
	}
	return out
}

// shellWord reads one shell word made of single- and double-quoted parts, and
// returns it with the rest of the input. Shell variables in double quotes
// become apiDocPlaceholder; in single quotes they stay as they are, as the
// shell leaves them.
func shellWord(s string) (string, string, error) {
	var b strings.Builder
	for s != "" {
		switch s[0] {
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", "", fmt.Errorf("an unclosed single quote")
			}
			b.WriteString(s[1 : end+1])
			s = s[end+2:]
		case '"':
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						b.WriteByte(s[i+1])
					}
					i++
				case s[i] == '$':
					m := apiShellVar.FindString(s[i:])
					if m == "" {
						return "", "", fmt.Errorf("a $ that is not a plain shell variable: %.20s", s[i:])
					}
					b.WriteString(apiDocPlaceholder)
					i += len(m) - 1
				case s[i] == '`':
					return "", "", fmt.Errorf("a command substitution inside an argument")
				default:
					b.WriteByte(s[i])
				}
			}
			if i == len(s) {
				return "", "", fmt.Errorf("an unclosed double quote")
			}
			s = s[i+1:]
		default:
			if strings.IndexByte(" \t\n);|&", s[0]) >= 0 {
				return b.String(), s, nil
			}
			return "", "", fmt.Errorf("an unquoted part in an argument: %.20s", s)
		}
	}
	return b.String(), s, nil
}
