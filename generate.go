package main

// Code generation runs in this order: ent first (the client and graph/ent.graphql),
// then gqlgen, which reads both GraphQL schema files.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
