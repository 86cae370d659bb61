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

// APIKey is an organization's credential for another of its apps: a Bearer
// token that acts as a non-human viewer with exactly its permissions. Only the
// SHA-256 of the key is stored; its permissions are fixed when it is made.
type APIKey struct {
	ent.Schema
}

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.APIKeyPrefix}, TenantMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		// The key's first characters, shown to recognise it.
		field.String("prefix").NotEmpty().MaxLen(32).Immutable(),
		field.Bytes("secret_hash").Unique().Sensitive().Immutable(),
		field.JSON("permissions", []string{}).Immutable(),
		// The membership that made the key; it may since have left.
		field.String("created_by_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Optional().Nillable().Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Int64("use_count").Default(0),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "created_at")}
}

// Annotations of the APIKey: graph/integrations.graphqls writes its type.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the APIKey.
func (APIKey) Policy() ent.Policy { return access.APIKeyPolicy() }
