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

// WebhookDelivery is one event for one endpoint: queued in the transaction of
// the change, then sent by the webhook worker with retries. Its id is the
// webhook-id header, the same on every attempt and replay.
type WebhookDelivery struct {
	ent.Schema
}

// Mixin of the WebhookDelivery.
func (WebhookDelivery) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.WebhookDeliveryPrefix}, TenantMixin{}}
}

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.String("endpoint_id").GoType(pulid.ID("")).Immutable().Annotations(hidden),
		field.String("event_type").NotEmpty().MaxLen(64).Immutable(),
		// What changed, read when the payload is built; never the audit data.
		field.String("target_type").MaxLen(64).Immutable().Annotations(hidden),
		field.String("target_id").MaxLen(64).Immutable().Annotations(hidden),
		// When the change happened: the payload's timestamp.
		field.Time("occurred_at").Immutable(),
		// The body, built on the first attempt and sent unchanged after: it is
		// not shown, since a reader of the log may hold less than the endpoint.
		field.Text("payload").Default("").Annotations(hidden),
		field.Enum("status").Values("QUEUED", "DELIVERED", "FAILED").Default("QUEUED"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").Annotations(hidden),
		// When the delivery was queued or last replayed: retries stop a
		// retry period after it.
		field.Time("queued_at").Annotations(hidden),
		field.Time("last_attempt_at").Optional().Nillable(),
		// The HTTP status of the last attempt; null when none answered.
		field.Int("last_status_code").Optional().Nillable(),
		field.String("last_error").Default("").MaxLen(1000),
		field.Time("delivered_at").Optional().Nillable(),
		field.Time("created_at").Immutable().Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the WebhookDelivery.
func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("endpoint", WebhookEndpoint.Type).Ref("deliveries").Field("endpoint_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("endpoint_id", "created_at"),
	}
}

// Annotations of the WebhookDelivery: a Relay connection for the delivery log.
func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)}
}

// Policy of the WebhookDelivery.
func (WebhookDelivery) Policy() ent.Policy { return access.WebhookPolicy() }
