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

// Delivery is one person's copy of a sent message: written with the message's
// fan-out, in its transaction, and moved on by the outbox worker and provider
// receipts. A message keeps its deliveries when its groups change later.
type Delivery struct {
	ent.Schema
}

// Mixin of the Delivery.
func (Delivery) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.DeliveryPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Delivery.
func (Delivery) Fields() []ent.Field {
	serverOwned := entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("message_id").GoType(pulid.ID("")).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("membership_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// How the message reaches the person; the first of GROUP, DIRECT, CC, BCC
		// counts when several do.
		field.Enum("via").Values("GROUP", "DIRECT", "CC", "BCC").Immutable().Annotations(serverOwned),
		field.Enum("channel").Values("EMAIL", "SMS").Immutable().Annotations(serverOwned),
		field.Enum("status").Values("QUEUED", "SENT", "FAILED", "SKIPPED").Annotations(serverOwned),
		// Why a delivery was SKIPPED or FAILED: the provider's reason, without the address.
		field.String("reason").Default("").MaxLen(1000).Annotations(serverOwned),
		// The outbox row that carries it; empty for SKIPPED.
		field.String("outbox_email_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("sent_at").Optional().Nillable().Annotations(serverOwned),
		// When the provider's receipt confirmed the handset or mailbox got it.
		field.Time("delivered_at").Optional().Nillable().Annotations(serverOwned),
	}
}

// Edges of the Delivery. No where filters on them: they would answer questions
// about members outside the viewer's row scope.
func (Delivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("message", Message.Type).Ref("deliveries").Field("message_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("recipient", Membership.Type).Field("membership_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Delivery.
func (Delivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("message_id", "status"),
		index.Fields("outbox_email_id"),
	}
}

// Annotations of the Delivery.
func (Delivery) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy of the Delivery.
func (Delivery) Policy() ent.Policy { return access.DeliveryPolicy() }
