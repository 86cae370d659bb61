// Package mixin provides the fields every Staffroom entity shares: a prefixed id,
// creation and update times, and the organization that owns a tenant entity.
package mixin

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"staffroom/ent/schema/pulid"
)

// ID gives an entity a prefixed ULID primary key.
type ID struct {
	mixin.Schema
	Prefix string
}

// Fields of the ID mixin.
func (m ID) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(pulid.ID("")).
			DefaultFunc(func() pulid.ID { return pulid.New(m.Prefix) }).
			Immutable(),
	}
}

// serverOwned keeps a field out of the generated mutation inputs: the server
// sets it, a client never does.
var serverOwned = entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)

// Time records when a row was created and last updated.
type Time struct{ mixin.Schema }

// Fields of the Time mixin.
func (Time) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable().Annotations(serverOwned),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).Annotations(serverOwned),
	}
}
