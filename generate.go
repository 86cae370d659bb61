package main

// Code generation runs in this order: ent first (the client and graph/ent.graphql),
// then gqlgen, which reads both GraphQL schema files (graph/gqlgen.go runs it with
// every operation executed in one goroutine).
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run ./graph/gqlgen.go
