package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// Group is a class, an attendance list, a form or a team. Members are linked to
// the groups they are assigned to.
type Group struct {
	ent.Schema
}

// Mixin of the Group.
func (Group) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.GroupPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Group.
func (Group) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").Values("CLASS", "ATTENDANCE_LIST", "FORM", "TEAM").Default("CLASS").
			Annotations(entgql.OrderField("KIND")),
		field.String("description").Default("").MaxLen(1000),
	}
}

// Edges of the Group.
func (Group) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("members", Membership.Type).Ref("groups").
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		edge.From("messages", Message.Type).Ref("groups").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Group.
func (Group) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "name").Unique()}
}

// Annotations of the Group.
func (Group) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Mutations()}
}

// Policy of the Group.
func (Group) Policy() ent.Policy { return access.GroupPolicy() }
