package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// GroupLink ties a membership to a group ("assigned to"): the row of the
// membership_groups join table, with the time the link ends, if it does.
type GroupLink struct {
	ent.Schema
}

// Annotations of the GroupLink.
func (GroupLink) Annotations() []schema.Annotation {
	return []schema.Annotation{
		field.ID("membership_id", "group_id"),
		entsql.Table("membership_groups"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Fields of the GroupLink.
func (GroupLink) Fields() []ent.Field {
	return []ent.Field{
		field.String("membership_id").GoType(pulid.ID("")).Immutable(),
		field.String("group_id").GoType(pulid.ID("")).Immutable(),
		field.Time("until").Optional().Nillable(),
	}
}

// Edges of the GroupLink.
func (GroupLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("membership", Membership.Type).Field("membership_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("group", Group.Type).Field("group_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the GroupLink.
func (GroupLink) Indexes() []ent.Index {
	return []ent.Index{index.Fields("until")}
}

// Policy of the GroupLink.
func (GroupLink) Policy() ent.Policy { return access.GroupLinkPolicy() }
