package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// RateLimitWindow counts the events of one key (a client address) under one
// limit (its scope) in the minute that started at window_start. On PostgreSQL
// every replica counts here, so that a limit holds for all of them together;
// SQLite serves one process, which counts in memory.
type RateLimitWindow struct {
	ent.Schema
}

// Mixin of the RateLimitWindow.
func (RateLimitWindow) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.RateLimitWindowPrefix}}
}

// Fields of the RateLimitWindow.
func (RateLimitWindow) Fields() []ent.Field {
	return []ent.Field{
		field.String("scope").MaxLen(64).Immutable(),
		field.String("key").MaxLen(255).Immutable(),
		field.Time("window_start"),
		field.Int("events"),
	}
}

// Indexes of the RateLimitWindow: one row per key and limit, which the
// counting upsert conflicts on, and the start that the sweep deletes by.
func (RateLimitWindow) Indexes() []ent.Index {
	return []ent.Index{index.Fields("scope", "key").Unique(), index.Fields("window_start")}
}

// Annotations of the RateLimitWindow.
func (RateLimitWindow) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the RateLimitWindow.
func (RateLimitWindow) Policy() ent.Policy { return access.SystemOnlyPolicy() }
