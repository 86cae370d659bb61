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

// Invitation is an offer to join an organization with a role, sent to an email
// address. Only the SHA-256 of its token is stored.
type Invitation struct {
	ent.Schema
}

// Mixin of the Invitation.
func (Invitation) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.InvitationPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Invitation.
func (Invitation) Fields() []ent.Field {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.String("email").NotEmpty().MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("first_name").Default("").MaxLen(100),
		field.String("last_name").Default("").MaxLen(100),
		field.String("phone").Optional().MaxLen(32),
		field.String("role_id").GoType(pulid.ID("")).Annotations(hidden),
		field.String("invited_by_id").GoType(pulid.ID("")).Optional().Annotations(hidden),
		field.Strings("grants").Default([]string{}).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Strings("group_ids").Default([]string{}).Annotations(hidden),
		// The token of the email: accepting with it proves the address.
		field.Bytes("token_hash").Unique().Sensitive().Annotations(hidden),
		// The token of the shareable link that the inviter receives: accepting
		// with it joins this organization but proves nothing about the address.
		field.Bytes("link_token_hash").Optional().Unique().Sensitive().Annotations(hidden),
		field.Enum("status").Values("PENDING", "ACCEPTED", "REVOKED", "EXPIRED").Default("PENDING").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("expires_at").Annotations(entgql.OrderField("EXPIRES_AT")),
		field.Int("send_count").Default(0),
		field.Time("last_sent_at").Optional().Nillable(),
		field.Enum("delivery_status").Values("QUEUED", "SENT", "FAILED").Default("QUEUED"),
		field.Time("accepted_at").Optional().Nillable(),
	}
}

// Edges of the Invitation.
func (Invitation) Edges() []ent.Edge {
	noInput := entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.To("role", Role.Type).Field("role_id").Unique().Required().Annotations(noInput),
		edge.To("invited_by", Membership.Type).Field("invited_by_id").Unique().Annotations(noInput),
	}
}

// Indexes of the Invitation.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "email", "status")}
}

// Annotations of the Invitation.
func (Invitation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy of the Invitation.
func (Invitation) Policy() ent.Policy { return access.InvitationPolicy() }
