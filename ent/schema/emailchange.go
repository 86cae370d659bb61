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

// EmailChange is a single-use link sent to the new address of a login: the
// address changes only when the link is followed, which proves the new address
// is read by the person. Only the SHA-256 of its token is stored.
type EmailChange struct {
	ent.Schema
}

// Mixin of the EmailChange.
func (EmailChange) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.EmailChangePrefix}}
}

// Fields of the EmailChange.
func (EmailChange) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		// Normalized like users.email.
		field.String("new_email").NotEmpty().MaxLen(254).Immutable(),
		field.Bytes("token_hash").Unique().Sensitive().Immutable(),
		// The administrator's membership that asked for the change; empty when
		// the person asked themselves.
		field.String("requested_by").GoType(pulid.ID("")).Optional().Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the EmailChange.
func (EmailChange) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}

// Annotations of the EmailChange.
func (EmailChange) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the EmailChange.
func (EmailChange) Policy() ent.Policy { return access.SystemOnlyPolicy() }
