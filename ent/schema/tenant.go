package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// TenantMixin is embedded by every entity that belongs to one organization. Its
// query policy filters by the viewer's active organization and its mutation policy
// sets or verifies the organization; being a mixin, it runs before the entity's own
// policies, so no entity rule can allow a row of another organization.
type TenantMixin struct {
	mixin.Schema
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("organization_id").
			GoType(pulid.ID("")).
			Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).
			Field("organization_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the TenantMixin: every tenant query starts with the organization, and
// pages are ordered by id (a ULID, so by creation time).
func (TenantMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "id")}
}

// Policy of the TenantMixin.
func (TenantMixin) Policy() ent.Policy {
	return access.TenantPolicy()
}
