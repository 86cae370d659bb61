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

// Session is one refresh token of a login. Tokens rotate on every use; the
// tokens of one login share a family, so that reuse of a spent token revokes
// them all. Only the SHA-256 of a token is stored.
type Session struct {
	ent.Schema
}

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.SessionPrefix}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.String("family_id").GoType(pulid.ID("")).Immutable(),
		field.Bytes("token_hash").Unique().Sensitive().Immutable(),
		// The organization the tokens of this session are scoped to.
		field.String("organization_id").GoType(pulid.ID("")).Optional(),
		field.Time("created_at").Immutable(),
		// The family's first login: the absolute lifetime counts from here.
		field.Time("family_started_at").Immutable(),
		field.Time("expires_at"),
		// Set when the token was exchanged for its successor.
		field.Time("rotated_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("ip").Default("").MaxLen(64),
		field.String("user_agent").Default("").MaxLen(512),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("family_id"), index.Fields("user_id")}
}

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Session.
func (Session) Policy() ent.Policy { return access.SystemOnlyPolicy() }
