package organization

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"staffroom/ent"
	"staffroom/ent/invitation"
	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// RoleInput describes a custom role; nil fields of an update stay as they are.
type RoleInput struct {
	Key           string
	Name          *string
	Description   *string
	Permissions   []string
	ManageRoleIDs []pulid.ID
	GroupScope    *role.DefaultGroupScope
}

var roleKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// CreateRole adds a custom role. Its permissions and the roles it manages cannot
// exceed its creator's (no escalation).
func CreateRole(ctx context.Context, client *ent.Client, in RoleInput) (*ent.Role, error) {
	v := access.FromContext(ctx)
	if !roleKeyPattern.MatchString(in.Key) {
		return nil, errcode.Input("key", "a role key has 1 to 64 lower-case letters, digits or underscores, starting with a letter")
	}
	name := strings.TrimSpace(deref(in.Name))
	if name == "" {
		return nil, errcode.Input("name", "a role needs a name")
	}
	var out *ent.Role
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		manages, err := roleKeys(ctx, tx, in.ManageRoleIDs)
		if err != nil {
			return err
		}
		if err := checkRole(ctx, tx, v, in.Permissions, manages); err != nil {
			return err
		}
		scope := role.DefaultGroupScopeLINKED
		if slices.Contains(in.Permissions, access.GroupsView) {
			scope = role.DefaultGroupScopeALL
		}
		if in.GroupScope != nil {
			scope = *in.GroupScope
		}
		out, err = tx.Role.Create().
			SetKey(in.Key).SetName(name).SetDescription(deref(in.Description)).
			SetPermissions(in.Permissions).SetManages(manages).SetDefaultGroupScope(scope).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return errcode.New(errcode.Conflict, "a role with the key %q exists", in.Key)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "role.created", TargetType: "Role", TargetID: out.ID,
			Data: map[string]any{"key": in.Key, "permissions": in.Permissions, "manages": manages}})
	})
	return out, err
}

func checkRole(ctx context.Context, tx *ent.Client, v *access.Viewer, permissions, manages []string) error {
	if err := v.CheckGiveIn(ctx, tx, "permissions", permissions); err != nil {
		return err
	}
	return v.CheckRoleWithin(manages)
}

// UpdateRole changes a role. The owner role is fixed: it always has everything.
func UpdateRole(ctx context.Context, client *ent.Client, id pulid.ID, in RoleInput) (*ent.Role, error) {
	v := access.FromContext(ctx)
	var out *ent.Role
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		r, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		upd := tx.Role.UpdateOne(r)
		data := map[string]any{}
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" {
				return errcode.Input("name", "a role needs a name")
			}
			upd.SetName(name)
			data["name"] = audit.Change(r.Name, name)
		}
		if in.Description != nil {
			upd.SetDescription(*in.Description)
		}
		if in.Permissions != nil {
			if err := v.ValidateIn(ctx, tx, "permissions", in.Permissions); err != nil {
				return err
			}
			// Only what is added must be the editor's own: removing a
			// permission the editor lacks is no escalation.
			if err := v.CheckGiveIn(ctx, tx, "permissions", added(r.Permissions, in.Permissions)); err != nil {
				return err
			}
			upd.SetPermissions(in.Permissions)
			data["permissions"] = audit.Change(r.Permissions, in.Permissions)
		}
		if in.ManageRoleIDs != nil {
			manages, err := roleKeys(ctx, tx, in.ManageRoleIDs)
			if err != nil {
				return err
			}
			if err := v.CheckRoleWithin(manages); err != nil {
				return err
			}
			upd.SetManages(manages)
			data["manages"] = audit.Change(r.Manages, manages)
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "role.updated", TargetType: "Role", TargetID: r.ID, Data: data})
	})
	return out, err
}

// DeleteRole deletes a role that no member and no pending invitation holds.
func DeleteRole(ctx context.Context, client *ent.Client, id pulid.ID) error {
	v := access.FromContext(ctx)
	return store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		r, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		sys := access.SystemContext(ctx, "role in use")
		held, err := tx.Membership.Query().Where(membership.RoleID(r.ID), membership.RemovedAtIsNil()).Exist(sys)
		if err != nil {
			return err
		}
		pending, err := tx.Invitation.Query().Where(invitation.RoleID(r.ID), invitation.StatusEQ(invitation.StatusPENDING)).Exist(sys)
		if err != nil {
			return err
		}
		if held || pending {
			return errcode.New(errcode.Conflict, "members or pending invitations hold the role %s: give them another role first", r.Key)
		}
		if err := tx.Role.DeleteOne(r).Exec(ctx); err != nil {
			if ent.IsConstraintError(err) {
				return errcode.New(errcode.Conflict, "the role %s is still referenced", r.Key)
			}
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "role.deleted", TargetType: "Role", TargetID: r.ID, Data: map[string]any{"key": r.Key}})
	})
}

func getRole(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Role, error) {
	r, err := tx.Role.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "role not found")
	}
	if err != nil {
		return nil, err
	}
	if r.Key == access.OwnerRole {
		return nil, errcode.New(errcode.Forbidden, "the owner role cannot be changed or deleted")
	}
	if err := access.FromContext(ctx).CheckEditRole(r.Key, r.Builtin); err != nil {
		return nil, err
	}
	return r, nil
}

// roleKeys resolves role ids of the active organization to their keys.
func roleKeys(ctx context.Context, tx *ent.Client, ids []pulid.ID) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	roles, err := tx.Role.Query().Where(role.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(roles) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return nil, errcode.Input("manageRoleIds", "role not found")
	}
	keys := make([]string, len(roles))
	for i, r := range roles {
		keys[i] = r.Key
	}
	return keys, nil
}

// added returns what next has that before lacks.
func added(before, next []string) []string {
	var out []string
	for _, p := range next {
		if !slices.Contains(before, p) {
			out = append(out, p)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
