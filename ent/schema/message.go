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

// Message is an email or SMS written by a member to groups and members. Sending
// it writes one Delivery per person reached, which the outbox worker sends.
type Message struct {
	ent.Schema
}

// Mixin of the Message.
func (Message) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.MessagePrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("channel").Values("EMAIL", "SMS").Default("EMAIL"),
		field.String("subject").Default("").MaxLen(300),
		field.Text("body").MaxLen(100_000),
		field.Enum("status").Values("PENDING_APPROVAL", "SENT").
			Annotations(entgql.OrderField("STATUS")),
		field.String("author_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("approved_by_id").GoType(pulid.ID("")).Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// The template the text came from: an approval fills its fields in. No
		// edge: deleting a template leaves the messages sent with it.
		field.String("template_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("sent_at").Optional().Nillable().
			Annotations(entgql.OrderField("SENT_AT")),
	}
}

// Edges of the Message. Recipient edges have no where filters: they would answer
// questions about members and groups outside the viewer's row scope.
func (Message) Edges() []ent.Edge {
	noInput := entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.To("author", Membership.Type).Field("author_id").Unique().Immutable().Annotations(noInput),
		edge.To("approved_by", Membership.Type).Field("approved_by_id").Unique().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("groups", Group.Type).Annotations(noInput),
		edge.To("recipients", Membership.Type).Annotations(noInput),
		edge.To("cc", Membership.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("bcc", Membership.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		// Served by graph/messaging.graphqls: a where input here would add
		// hasDeliveriesWith, which answers about BCC rows privacy hides.
		edge.To("deliveries", Delivery.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "author_id")}
}

// Annotations of the Message.
func (Message) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy of the Message.
func (Message) Policy() ent.Policy { return access.MessagePolicy() }
