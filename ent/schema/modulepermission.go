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

// ModulePermission is a permission an organization defines for one of the apps
// around Staffroom (app.<module>.<action>): roles hold it, members are granted
// or revoked it, and apps ask about it, exactly like a permission of the catalog.
type ModulePermission struct {
	ent.Schema
}

// Mixin of the ModulePermission.
func (ModulePermission) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.ModulePermissionPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the ModulePermission.
func (ModulePermission) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(100).Immutable(),
		field.String("name").NotEmpty().MaxLen(200),
		field.String("description").Default("").MaxLen(1000),
		field.String("app").NotEmpty().MaxLen(100),
	}
}

// Indexes of the ModulePermission.
func (ModulePermission) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "key").Unique()}
}

// Annotations of the ModulePermission: graph/integrations.graphqls writes its type.
func (ModulePermission) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the ModulePermission.
func (ModulePermission) Policy() ent.Policy { return access.ModulePermissionPolicy() }
