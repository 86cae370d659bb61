package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// Organization is a workspace: a club, a school, a company. It is the tenant that
// every other organization-scoped entity belongs to.
type Organization struct {
	ent.Schema
}

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.OrganizationPrefix}, mixin.Time{}}
}

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("slug").Unique().NotEmpty().MaxLen(64),
		field.String("timezone").Default("UTC").MaxLen(64),
		field.String("instructor_message").Default("").MaxLen(4000),
		// Guarded fields are resolved by hand-written resolvers behind @hasPermission.
		field.String("phone").Optional().MaxLen(32).Annotations(hidden),
		field.String("billing_email").Optional().MaxLen(254).Annotations(hidden),
		field.String("billing_plan").Default("free").Annotations(hidden),
		field.Int("billing_seats").Default(5).NonNegative().Annotations(hidden),
		field.String("payment_method_summary").Optional().MaxLen(100).Annotations(hidden),
		field.Time("next_invoice_at").Optional().Nillable().Annotations(hidden),
		// The invitation email template; empty parts fall back to the built-in one.
		field.String("invitation_subject").Default("").MaxLen(200).Annotations(hidden),
		field.Text("invitation_text").Default("").Annotations(hidden),
		field.Text("invitation_html").Default("").Annotations(hidden),
		// Incremented by every write that must serialize on the organization (the
		// last-owner rule): updating the row is a portable lock on both databases.
		field.Int("lock_version").Default(0).Annotations(hidden),
		// Member fields every member must have (PHONE, LAST_NAME), checked at
		// invitation, acceptance, import and edit.
		field.Strings("required_member_fields").Optional().Annotations(hidden),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput)}
}

// Policy of the Organization.
func (Organization) Policy() ent.Policy { return access.OrganizationPolicy() }
