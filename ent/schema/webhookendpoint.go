package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// WebhookEndpoint is a receiver an organization registers for its membership
// events. Staffroom signs each request with the endpoint's secret (Standard
// Webhooks); the secret must be kept readable to sign, so it is Sensitive and
// never leaves the server after the answer that creates or rotates it.
type WebhookEndpoint struct {
	ent.Schema
}

// Mixin of the WebhookEndpoint.
func (WebhookEndpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.WebhookEndpointPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("url").NotEmpty().MaxLen(2000),
		field.String("description").Default("").MaxLen(500),
		// Event types and family wildcards (member.*) the endpoint receives.
		field.JSON("event_types", []string{}),
		// What payloads may show: permissions its creator held, fixed like an
		// API key's.
		field.JSON("permissions", []string{}).Immutable(),
		field.String("secret").Sensitive(),
		// The secret before the last rotation, which still signs until
		// previous_secret_expires_at.
		field.String("previous_secret").Default("").Sensitive(),
		field.Time("previous_secret_expires_at").Optional().Nillable(),
		// SUSPENDED: turned off by Staffroom after persistent failure.
		field.Enum("status").Values("ENABLED", "DISABLED", "SUSPENDED").Default("ENABLED"),
		// The first failed attempt since the last delivered one.
		field.Time("failing_since").Optional().Nillable(),
		field.String("created_by_id").GoType(pulid.ID("")).Optional().Immutable(),
	}
}

// Edges of the WebhookEndpoint.
func (WebhookEndpoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("deliveries", WebhookDelivery.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the WebhookEndpoint: graph/integrations.graphqls writes its type.
func (WebhookEndpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the WebhookEndpoint.
func (WebhookEndpoint) Policy() ent.Policy { return access.WebhookPolicy() }
