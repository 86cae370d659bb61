package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// User is one person's login: it exists once, whatever number of organizations
// the person works for.
type User struct {
	ent.Schema
}

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.UserPrefix}, mixin.Time{}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Stored trimmed and lower-cased, so the unique index is case-insensitive.
		field.String("email").Unique().NotEmpty().MaxLen(254).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("password_hash").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("first_name").MaxLen(100).
			Annotations(entgql.OrderField("FIRST_NAME")),
		field.String("last_name").MaxLen(100).
			Annotations(entgql.OrderField("LAST_NAME")),
		field.String("phone").Optional().MaxLen(32).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("failed_logins").Default(0).NonNegative().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Set when the account locks; a zero duration setting locks until unlocked.
		field.Time("locked_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("password_changed_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Set when an administrator chose the password: the person must choose
		// their own at the next log-in before doing anything else.
		field.Bool("password_temporary").Default(false).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Set when someone proved they read the address: a sign-up verification
		// link, a password reset link or an emailed invitation. Until then the
		// login works only in organizations that invited it.
		field.Time("email_verified_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Marks a login that existed, unverified, before addresses were
		// verified: STAFFROOM_TRUST_EXISTING_EMAILS verifies these, and only these.
		field.Bool("email_unverified_legacy").Default(false).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("sessions", Session.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Policy of the User.
func (User) Policy() ent.Policy { return access.UserPolicy() }
