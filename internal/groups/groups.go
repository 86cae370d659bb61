// Package groups provides the changes to an organization's groups — classes,
// attendance lists, forms and teams — each recorded in the audit log in the
// transaction of the change.
package groups

import (
	"context"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// Create adds a group to the active organization.
func Create(ctx context.Context, client *ent.Client, in ent.CreateGroupInput) (*ent.Group, error) {
	v := access.FromContext(ctx)
	var out *ent.Group
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if out, err = tx.Group.Create().SetInput(in).Save(ctx); err != nil {
			return named(err, in.Name)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "group.created", TargetType: "Group", TargetID: out.ID,
			Data: map[string]any{"name": out.Name, "kind": out.Kind}})
	})
	return out, err
}

// Update changes a group the viewer can see.
func Update(ctx context.Context, client *ent.Client, id pulid.ID, in ent.UpdateGroupInput) (*ent.Group, error) {
	v := access.FromContext(ctx)
	var out *ent.Group
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		before, err := tx.Group.Get(ctx, id)
		if err != nil {
			return err
		}
		if out, err = tx.Group.UpdateOne(before).SetInput(in).Save(ctx); err != nil {
			name := before.Name
			if in.Name != nil {
				name = *in.Name
			}
			return named(err, name)
		}
		data := map[string]any{}
		if before.Name != out.Name {
			data["name"] = audit.Change(before.Name, out.Name)
		}
		if before.Kind != out.Kind {
			data["kind"] = audit.Change(before.Kind, out.Kind)
		}
		if before.Description != out.Description {
			data["description"] = audit.Change(before.Description, out.Description)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "group.updated", TargetType: "Group", TargetID: id, Data: data})
	})
	return out, err
}

// Delete removes a group the viewer can see; its links go with it, the
// messages sent to it stay.
func Delete(ctx context.Context, client *ent.Client, id pulid.ID) error {
	v := access.FromContext(ctx)
	return store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		g, err := tx.Group.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.Group.DeleteOne(g).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "group.deleted", TargetType: "Group", TargetID: id,
			Data: map[string]any{"name": g.Name, "kind": g.Kind}})
	})
}

// named turns a taken name into CONFLICT.
func named(err error, name string) error {
	if ent.IsConstraintError(err) {
		return errcode.New(errcode.Conflict, "a group named %q exists", name)
	}
	return err
}
