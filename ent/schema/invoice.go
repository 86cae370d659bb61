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

// Invoice is a sale recorded at the point of sale.
type Invoice struct {
	ent.Schema
}

// Mixin of the Invoice.
func (Invoice) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.InvoicePrefix}, mixin.Time{}, TenantMixin{}}
}

// Fields of the Invoice.
func (Invoice) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").NotEmpty().MaxLen(64).
			Annotations(entgql.OrderField("NUMBER")),
		field.String("customer_name").NotEmpty().MaxLen(200),
		field.Int64("amount_cents").NonNegative().
			Annotations(entgql.OrderField("AMOUNT")),
		field.String("currency").MinLen(3).MaxLen(3),
		// The status changes only through cancelInvoice and refundInvoice, with
		// their own permission.
		field.Enum("status").Values("OPEN", "CANCELLED", "REFUNDED").Default("OPEN").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		field.String("created_by_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Invoice.
func (Invoice) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "number").Unique()}
}

// Annotations of the Invoice.
func (Invoice) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate()),
	}
}

// Policy of the Invoice.
func (Invoice) Policy() ent.Policy { return access.InvoicePolicy() }
