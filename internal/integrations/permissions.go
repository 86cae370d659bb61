package integrations

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"staffroom/ent"
	"staffroom/ent/apikey"
	"staffroom/ent/membership"
	"staffroom/ent/modulepermission"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// MaxModulePermissions bounds the permissions one organization defines.
const MaxModulePermissions = 200

var moduleKeyPattern = regexp.MustCompile(`^app\.[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$`)

// ValidatePermissions returns BAD_USER_INPUT naming field when a permission is
// neither in the catalog nor one of the viewer's organization's module
// permissions (access.Viewer.ValidateIn, the one check of permission keys).
func ValidatePermissions(ctx context.Context, client *ent.Client, field string, permissions []string) error {
	return access.FromContext(ctx).ValidateIn(ctx, client, field, permissions)
}

// ModulePermissionInput is what createModulePermission and
// updateModulePermission take; nil fields are left as they are.
type ModulePermissionInput struct {
	Key, Name, Description, App *string
}

// CreateModulePermission defines a permission of the viewer's organization
// for one of its apps: app.<module>.<action>, unique in the organization.
func CreateModulePermission(ctx context.Context, client *ent.Client, in ModulePermissionInput) (*ent.ModulePermission, error) {
	v := access.FromContext(ctx)
	key := strings.TrimSpace(deref(in.Key))
	if !moduleKeyPattern.MatchString(key) {
		return nil, errcode.Input("key", "a module permission is app.<module>.<action>: lower-case letters, digits and underscores, each part starting with a letter")
	}
	name, app := strings.TrimSpace(deref(in.Name)), strings.TrimSpace(deref(in.App))
	if name == "" {
		return nil, errcode.Input("name", "a module permission needs a name")
	}
	if app == "" {
		return nil, errcode.Input("app", "name the app the permission belongs to")
	}
	var out *ent.ModulePermission
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.ModulePermission.Query().Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxModulePermissions {
			return errcode.New(errcode.Conflict, "an organization defines at most %d module permissions", MaxModulePermissions)
		}
		out, err = tx.ModulePermission.Create().SetKey(key).SetName(name).SetDescription(strings.TrimSpace(deref(in.Description))).
			SetApp(app).Save(ctx)
		if ent.IsConstraintError(err) {
			return errcode.Input("key", "the organization already has the permission %s", key)
		}
		if err != nil {
			return fmt.Errorf("integrations: create module permission: %w", err)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "modulepermission.created", TargetType: "ModulePermission",
			TargetID: out.ID, Data: map[string]any{"key": key, "name": name, "app": app}})
	})
	return out, err
}

// UpdateModulePermission renames or redescribes a module permission; its key
// never changes, since roles, grants and keys name it.
func UpdateModulePermission(ctx context.Context, client *ent.Client, id pulid.ID, in ModulePermissionInput) (*ent.ModulePermission, error) {
	v := access.FromContext(ctx)
	var out *ent.ModulePermission
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		mp, err := tx.ModulePermission.Get(ctx, id)
		if err != nil {
			return err
		}
		upd, data := tx.ModulePermission.UpdateOne(mp), map[string]any{}
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" {
				return errcode.Input("name", "a module permission needs a name")
			}
			upd.SetName(name)
			data["name"] = audit.Change(mp.Name, name)
		}
		if in.App != nil {
			app := strings.TrimSpace(*in.App)
			if app == "" {
				return errcode.Input("app", "name the app the permission belongs to")
			}
			upd.SetApp(app)
			data["app"] = audit.Change(mp.App, app)
		}
		if in.Description != nil {
			upd.SetDescription(strings.TrimSpace(*in.Description))
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "modulepermission.updated", TargetType: "ModulePermission",
			TargetID: mp.ID, Data: data})
	})
	return out, err
}

// ModulePermissions lists the organization's module permissions by key.
func ModulePermissions(ctx context.Context, client *ent.Client, limit int) ([]*ent.ModulePermission, error) {
	return client.ModulePermission.Query().Order(ent.Asc(modulepermission.FieldKey)).Limit(limit).All(ctx)
}

// WithOwnerModules returns a member's effective permissions with, for an
// owner (who holds every permission), the organization's module permissions.
func WithOwnerModules(ctx context.Context, client *ent.Client, roleKey string, permissions []string) ([]string, error) {
	if roleKey != access.OwnerRole {
		return permissions, nil
	}
	keys, err := client.ModulePermission.Query().Order(ent.Asc(modulepermission.FieldKey)).
		Select(modulepermission.FieldKey).Strings(ctx)
	if err != nil {
		return nil, err
	}
	return append(permissions, keys...), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DeleteModulePermission removes a module permission that nothing uses. One
// still held by a role, granted or revoked on a member, or carried by a key
// that works is refused with CONFLICT naming them: taking it away silently
// would change what people and apps may do, and a key's permissions never
// change. Edit those first, then delete.
func DeleteModulePermission(ctx context.Context, client *ent.Client, id pulid.ID) (pulid.ID, error) {
	v := access.FromContext(ctx)
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		mp, err := tx.ModulePermission.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := unused(ctx, tx, mp.Key); err != nil {
			return err
		}
		if err := tx.ModulePermission.DeleteOne(mp).Exec(ctx); err != nil {
			return fmt.Errorf("integrations: delete module permission: %w", err)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "modulepermission.deleted", TargetType: "ModulePermission",
			TargetID: mp.ID, Data: map[string]any{"key": mp.Key}})
	})
	return id, err
}

// unused fails with CONFLICT when a role, a current member's grants or
// revokes, or an unrevoked key names the permission. It reads in the system
// context: the rule holds whatever the caller may see, and says only how many.
func unused(ctx context.Context, tx *ent.Client, key string) error {
	sys := access.SystemContext(ctx, "module permission in use")
	org := access.FromContext(ctx).OrgID
	roles, err := tx.Role.Query().Where(role.OrganizationID(org)).All(sys)
	if err != nil {
		return err
	}
	var holders []string
	for _, r := range roles {
		if slices.Contains(r.Permissions, key) {
			holders = append(holders, r.Key)
		}
	}
	if len(holders) > 0 {
		return errcode.New(errcode.Conflict, "the roles %s hold %s: take it out of them first", strings.Join(holders, ", "), key)
	}
	members, err := tx.Membership.Query().Where(membership.OrganizationID(org), membership.RemovedAtIsNil(),
		func(s *sql.Selector) {
			s.Where(sql.Or(sqljson.ValueContains(membership.FieldGrants, key), sqljson.ValueContains(membership.FieldRevokes, key)))
		}).Count(sys)
	if err != nil {
		return err
	}
	if members > 0 {
		return errcode.New(errcode.Conflict, "%s is granted or revoked on %s: update them first", key, count(members, "member"))
	}
	keys, err := tx.APIKey.Query().Where(apikey.OrganizationID(org), apikey.RevokedAtIsNil()).All(sys)
	if err != nil {
		return err
	}
	n := 0
	for _, k := range keys {
		if slices.Contains(k.Permissions, key) && (k.ExpiresAt == nil || k.ExpiresAt.After(time.Now())) {
			n++
		}
	}
	if n > 0 {
		return errcode.New(errcode.Conflict, "%s carries %s: revoke it, and make a new key without it", count(n, "working API key"), key)
	}
	return nil
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
