//go:build ignore

// Command gqlgen generates the executable schema as `gqlgen generate` does, with
// one difference: an operation is executed in one goroutine. gqlgen starts a
// goroutine for every field bound to a resolver or to a method that takes a
// context (ent's edge methods) and for every element of a list of objects; the
// data of those fields is already loaded (entgql's field collection loads each
// edge for the whole page at once), so the goroutines only cost their stacks.
// Root query fields keep gqlgen's concurrency; mutations are serial anyway.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
	if err := api.Generate(cfg, api.AddPlugin(inPlace{})); err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
	if err := rewrite(cfg.Exec.Filename); err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
}

// inPlace resolves every field of a non-root object in its parent's goroutine.
type inPlace struct{}

func (inPlace) Name() string { return "inplace" }

func (inPlace) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		if !o.Root {
			o.DisableConcurrency = true
		}
	}
	return nil
}

// rewrite makes two changes gqlgen has no setting for, each checked so that a
// gqlgen upgrade that changes the code around them fails here, not at run time:
//   - lists of objects marshal their elements one after another
//     (marshalSliceInOrder, graph/inorder.go) instead of a goroutine each; the
//     worker_limit setting still starts one per element;
//   - objects no longer build a deferred group (a path, a field set and a map,
//     a fifth of a members page's allocations): only a field resolved
//     concurrently is ever deferred, and inPlace leaves none;
//   - objects are written by objectWriter (graph/execution.go) rather than by
//     graphql.FieldSet, which allocates a map and a copy of each field.
func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.Contains(src, []byte("&deferred")) {
		return fmt.Errorf("%s: a field is still resolved concurrently (&deferred): the deferred groups are needed", path)
	}
	for _, r := range []struct{ from, to string }{
		{"graphql.MarshalSliceConcurrently(", "marshalSliceInOrder("},
		{"deferred := graphql.NewDeferredGroup(ctx)", "var deferred graphql.DeferredGroup // never filled: nothing is deferred"},
		{"\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn out\n}", "\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn objectWriter{fields, out.Values}\n}"},
	} {
		if !bytes.Contains(src, []byte(r.from)) {
			return fmt.Errorf("%s: no %s to replace; has gqlgen changed?", path, r.from)
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	objects, written := bytes.Count(src, []byte("out := graphql.NewFieldSet(fields)")), bytes.Count(src, []byte("return objectWriter{"))
	if objects != written {
		return fmt.Errorf("%s: %d objects, %d written by objectWriter; has gqlgen changed?", path, objects, written)
	}
	return os.WriteFile(path, src, 0o644)
}
