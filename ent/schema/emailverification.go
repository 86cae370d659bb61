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

// EmailVerification is a single-use link sent to a login's address by sign-up
// or by a resend. It carries the password hash and name chosen at sign-up, which
// replace the login's when the link is followed: whoever reads the address
// takes the login over. Only the SHA-256 of its token is stored.
type EmailVerification struct {
	ent.Schema
}

// Mixin of the EmailVerification.
func (EmailVerification) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.EmailVerificationPrefix}}
}

// Fields of the EmailVerification.
func (EmailVerification) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.Bytes("token_hash").Unique().Sensitive().Immutable(),
		// Empty for a resent link: following it then needs a new password.
		field.String("password_hash").Sensitive().Optional().Immutable(),
		field.String("first_name").Default("").MaxLen(100).Immutable(),
		field.String("last_name").Default("").MaxLen(100).Immutable(),
		field.String("phone").Optional().MaxLen(32).Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the EmailVerification.
func (EmailVerification) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}

// Annotations of the EmailVerification.
func (EmailVerification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the EmailVerification.
func (EmailVerification) Policy() ent.Policy { return access.SystemOnlyPolicy() }
