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

// MessagingSetting holds an organization's messaging rules; an organization
// without a row has the defaults.
type MessagingSetting struct {
	ent.Schema
}

// Mixin of the MessagingSetting.
func (MessagingSetting) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.MessagingSettingPrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the MessagingSetting.
func (MessagingSetting) Fields() []ent.Field {
	return []ent.Field{
		// SMS goes only to mobile numbers their owner has verified.
		field.Bool("require_verified_phone").Default(false),
	}
}

// Indexes of the MessagingSetting: one row per organization.
func (MessagingSetting) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id").Unique()}
}

// Annotations of the MessagingSetting.
func (MessagingSetting) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the MessagingSetting.
func (MessagingSetting) Policy() ent.Policy { return access.MessagingSettingPolicy() }
