package schema

import (
	"time"

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

// Membership is a user's place in one organization: role, grants and revokes,
// status, group scope and an organization-local username. A removed membership is
// kept, with removed_at set, so that history stays attributed to it.
type Membership struct {
	ent.Schema
}

// Mixin of the Membership.
func (Membership) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.MembershipPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Membership.
func (Membership) Fields() []ent.Field {
	hidden := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(hidden),
		field.String("role_id").GoType(pulid.ID("")).Annotations(hidden),
		// Exposed as status by schema.graphqls: a disabled period that has
		// ended reads ACTIVE before the expiry job stores it.
		field.Enum("status").Values("ACTIVE", "DISABLED").Default("ACTIVE").
			Annotations(entgql.OrderField("STATUS"), entgql.Skip(entgql.SkipType)),
		// When a disabled period ends; nil while disabled until enabled.
		field.Time("disabled_until").Optional().Nillable().Annotations(hidden),
		field.String("username").NotEmpty().MaxLen(100).
			Annotations(entgql.OrderField("USERNAME")),
		// username lower-cased: the unique key, so usernames differ in more than case.
		field.String("username_key").NotEmpty().MaxLen(100).Annotations(hidden),
		field.String("title").Default("").MaxLen(100),
		// Exposed as grants by schema.graphqls, without the grants that ended.
		field.Strings("grants").Default([]string{}).Annotations(hidden),
		// When grants end, by permission; a grant not listed lasts until revoked.
		field.JSON("grant_expiries", map[string]time.Time{}).Optional().Annotations(hidden),
		// The earliest of grant_expiries: what the expiry job looks for.
		field.Time("next_grant_expiry").Optional().Nillable().Annotations(hidden),
		field.Strings("revokes").Default([]string{}).
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		field.Enum("group_scope").Values("ALL", "LINKED").Default("ALL").
			Annotations(entgql.Type("GroupScope")),
		field.Time("joined_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("JOINED_AT")),
		field.Time("removed_at").Optional().Nillable(),
		// When the user last opened this organization: the switcher's order.
		field.Time("last_used_at").Optional().Nillable().Annotations(hidden),
		// Joined while the login's address was unverified, without a secret sent
		// to it: through an invitation's shareable link, or by creating the
		// organization. Once the address is proved, the membership grants
		// nothing until its owner keeps it (or leaves).
		field.Bool("unverified_join").Default(false).Annotations(hidden),
	}
}

// Edges of the Membership.
func (Membership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("memberships").Field("user_id").
			Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		edge.To("role", Role.Type).Field("role_id").Unique().Required().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		// No where filter on groups: groups are row-scoped, and a has-groups
		// filter would answer questions about groups the viewer cannot see.
		edge.To("groups", Group.Type).Through("group_links", GroupLink.Type).
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		// The inverse sides of a message's recipient lists, which make them many-to-many.
		edge.From("received_messages", Message.Type).Ref("recipients").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("cc_messages", Message.Type).Ref("cc").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("bcc_messages", Message.Type).Ref("bcc").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Membership.
func (Membership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "user_id").Unique(),
		index.Fields("organization_id", "username_key").Unique(),
		index.Fields("user_id"),
		index.Fields("disabled_until"),
		index.Fields("next_grant_expiry"),
	}
}

// Annotations of the Membership.
func (Membership) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Policy of the Membership.
func (Membership) Policy() ent.Policy { return access.MembershipPolicy() }
