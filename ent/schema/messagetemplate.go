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

// MessageTemplate is an organization's reusable message: a subject and a body
// with {{firstName}}-style fields that sendMessage fills in per recipient.
type MessageTemplate struct {
	ent.Schema
}

// Mixin of the MessageTemplate.
func (MessageTemplate) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.MessageTemplatePrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the MessageTemplate.
func (MessageTemplate) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Enum("channel").Values("EMAIL", "SMS").Default("EMAIL"),
		field.String("subject").Default("").MaxLen(300),
		field.Text("body").NotEmpty().MaxLen(100_000),
	}
}

// Indexes of the MessageTemplate.
func (MessageTemplate) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "name").Unique()}
}

// Annotations of the MessageTemplate.
func (MessageTemplate) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Mutations()}
}

// Policy of the MessageTemplate.
func (MessageTemplate) Policy() ent.Policy { return access.MessageTemplatePolicy() }
