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

// PhoneVerification is a 6-digit code texted to a login's mobile number. The
// number counts as verified while it equals the one a verified row names, so
// changing it needs a new proof. Only the system context reads and writes it.
type PhoneVerification struct {
	ent.Schema
}

// Mixin of the PhoneVerification.
func (PhoneVerification) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.PhoneVerificationPrefix}}
}

// Fields of the PhoneVerification.
func (PhoneVerification) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.String("phone").NotEmpty().MaxLen(32).Immutable(),
		// SHA-256 of the row's id and the code: never the code itself.
		field.String("code_hash").Sensitive().Immutable(),
		field.Int("attempts").Default(0),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("verified_at").Optional().Nillable(),
	}
}

// Indexes of the PhoneVerification.
func (PhoneVerification) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at"), index.Fields("ip", "created_at")}
}

// Annotations of the PhoneVerification.
func (PhoneVerification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the PhoneVerification.
func (PhoneVerification) Policy() ent.Policy { return access.SystemOnlyPolicy() }
