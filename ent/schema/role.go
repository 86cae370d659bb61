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

// Role is a named set of permissions in one organization, with the keys of the
// roles its holders may manage.
type Role struct {
	ent.Schema
}

// Mixin of the Role.
func (Role) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.RolePrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Role.
func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(64).Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		field.String("description").Default("").MaxLen(500),
		field.Bool("builtin").Default(false).Immutable(),
		field.Strings("permissions").Default([]string{}),
		// Keys of the roles that holders of this role may manage; resolved to roles
		// by the GraphQL layer.
		field.Strings("manages").Default([]string{}).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// The group scope new members with this role get.
		field.Enum("default_group_scope").Values("ALL", "LINKED").Default("ALL").
			Annotations(entgql.Skip(entgql.SkipAll)),
		// The group scope by group kind (CLASS, ATTENDANCE_LIST, FORM, TEAM → ALL,
		// LINKED or NONE): a kind missing from the map follows groups.view and the
		// membership's group scope (access.Viewer.GroupScopeOf). Roles made before
		// it have none (NULL): existing organizations keep what their roles saw.
		field.JSON("group_scopes", map[string]string{}).Default(map[string]string{}).Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Role.
func (Role) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "key").Unique()}
}

// Annotations of the Role.
func (Role) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Policy of the Role.
func (Role) Policy() ent.Policy { return access.RolePolicy() }
