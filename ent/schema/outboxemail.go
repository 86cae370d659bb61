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

// OutboxEmail is an email waiting to be sent. It is written in the transaction of
// the change that causes it, and a worker delivers it.
type OutboxEmail struct {
	ent.Schema
}

// Mixin of the OutboxEmail.
func (OutboxEmail) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.OutboxEmailPrefix}}
}

// Fields of the OutboxEmail.
func (OutboxEmail) Fields() []ent.Field {
	return []ent.Field{
		// The organization the email is sent for, if any; password resets have none.
		field.String("organization_id").GoType(pulid.ID("")).Optional().Immutable(),
		// SMS rows carry a text message to a phone number through the same queue.
		field.Enum("channel").Values("EMAIL", "SMS").Default("EMAIL").Immutable(),
		field.String("to_address").NotEmpty().Immutable(),
		field.String("subject").Immutable(),
		field.Text("text_body").Immutable(),
		field.Text("html_body").Default("").Immutable(),
		// What the email is about, so that delivery can update it (an invitation).
		field.String("subject_id").Default("").Immutable(),
		field.Enum("status").Values("QUEUED", "SENT", "FAILED").Default("QUEUED"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at"),
		field.String("last_error").Default("").MaxLen(1000),
		field.Time("created_at").Immutable(),
		field.Time("sent_at").Optional().Nillable(),
	}
}

// Indexes of the OutboxEmail.
func (OutboxEmail) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "next_attempt_at")}
}

// Annotations of the OutboxEmail.
func (OutboxEmail) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the OutboxEmail.
func (OutboxEmail) Policy() ent.Policy { return access.SystemOnlyPolicy() }
