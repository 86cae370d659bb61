package organization

import (
	"context"
	"maps"
	"slices"

	"staffroom/ent"
	"staffroom/ent/role"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// ReapplyPreset gives the active organization's built-in roles the
// permissions, managed roles and group scopes of its preset as it is today.
// A preset that changes applies to new organizations only, so that nobody's
// access changes under them; an owner brings an existing organization up to
// date with this, in one transaction with its audit event. Names,
// descriptions, custom roles and members' own group scopes stay. Built-in
// roles change only by an owner.
func ReapplyPreset(ctx context.Context, client *ent.Client) (*ent.Organization, error) {
	v := access.FromContext(ctx)
	if !v.Owner() {
		return nil, errcode.New(errcode.Forbidden, "only an owner re-applies the preset to the built-in roles")
	}
	var out *ent.Organization
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		roles, err := tx.Role.Query().Where(role.Builtin(true)).Order(ent.Asc(role.FieldID)).All(ctx)
		if err != nil {
			return err
		}
		keys := make([]string, len(roles))
		for i, r := range roles {
			keys[i] = r.Key
		}
		preset, ok := access.PresetOf(keys)
		if !ok {
			return errcode.New(errcode.Conflict, "the built-in roles match no single preset")
		}
		changed := map[string]any{}
		for _, r := range roles {
			p := preset.Role(r.Key)
			if r.Key == access.OwnerRole || p == nil {
				continue // the owner has every permission whatever its row says
			}
			upd, data := tx.Role.UpdateOne(r), map[string]any{}
			if !sameSet(r.Permissions, p.Permissions) {
				upd.SetPermissions(p.Permissions)
				data["permissions"] = audit.Change(r.Permissions, p.Permissions)
			}
			if !sameSet(r.Manages, p.Manages) {
				upd.SetManages(nonNil(p.Manages))
				data["manages"] = audit.Change(r.Manages, nonNil(p.Manages))
			}
			if scope := roleScope(access.DefaultGroupScope(*p)); r.DefaultGroupScope != scope {
				upd.SetDefaultGroupScope(scope)
				data["defaultGroupScope"] = audit.Change(r.DefaultGroupScope, scope)
			}
			if scopes := groupScopes(*p); !maps.Equal(r.GroupScopes, scopes) {
				upd.SetGroupScopes(scopes)
				data["groupScopes"] = audit.Change(r.GroupScopes, scopes)
			}
			if len(data) == 0 {
				continue
			}
			if err := upd.Exec(ctx); err != nil {
				return err
			}
			changed[r.Key] = data
		}
		if out, err = tx.Organization.Get(ctx, v.OrgID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "organization.preset_reapplied", TargetType: "Organization",
			TargetID: v.OrgID, Data: map[string]any{"preset": preset.Key, "roles": changed}})
	})
	return out, err
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b))))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
