package schema

import (
	"context"
	"errors"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"staffroom/ent/hook"
	"staffroom/ent/schema/mixin"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// AuditEvent records one change of access or settings. Events are written in the
// transaction of the change and are never updated or deleted.
type AuditEvent struct {
	ent.Schema
}

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{Prefix: pulid.AuditEventPrefix}, TenantMixin{}}
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("action").NotEmpty().MaxLen(64).Immutable(),
		// Filterable by id (actorID in where), without a has-actor filter that
		// would query members beyond the viewer's row scope.
		field.String("actor_id").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipType | entgql.SkipOrderField | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		field.String("target_type").Default("").MaxLen(64).Immutable(),
		// Exposed as targetId by schema.graphqls.
		field.String("target_id").Default("").MaxLen(64).Immutable().
			Annotations(entgql.Skip(entgql.SkipType)),
		// Exposed as data by schema.graphqls, redacted key by key with the
		// reader's permissions.
		field.JSON("data", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipType)),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.String("user_agent").Default("").MaxLen(512).Immutable(),
		field.String("request_id").Default("").MaxLen(64).Immutable().
			Annotations(entgql.Skip(entgql.SkipType)),
		field.Time("created_at").Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the AuditEvent.
func (AuditEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("actor", Membership.Type).Field("actor_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput | entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "created_at")}
}

// Hooks of the AuditEvent: the log is append-only on every path, the system
// context included (privacy can be bypassed, hooks cannot).
func (AuditEvent) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(context.Context, ent.Mutation) (ent.Value, error) {
				return nil, errors.New("audit events cannot be changed")
			})
		}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
	}
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy of the AuditEvent.
func (AuditEvent) Policy() ent.Policy { return access.AuditEventPolicy() }
