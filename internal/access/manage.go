package access

import (
	"slices"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/errcode"
)

// Who may manage whom (docs/authorization.md rules 5–7). Every mutation that changes a
// member, invites one or gives permissions away calls these, bulk ones included.

// CheckManage allows the viewer to act, with permission, on a member whose role
// is currentRole and who will hold newRole afterwards ("" when unchanged or for
// an invitation's single role): both must be roles the viewer manages, and the
// member may not be the viewer.
func (v *Viewer) CheckManage(permission string, member pulid.ID, currentRole, newRole string) error {
	if !v.Has(permission) {
		return errcode.New(errcode.Forbidden, "this needs the %s permission", permission)
	}
	if member != "" && member == v.MembershipID {
		return errcode.New(errcode.Forbidden, "nobody changes their own role, grants, revokes, group links or status")
	}
	for _, role := range []string{currentRole, newRole} {
		if role != "" && !v.Manages(role) {
			return errcode.New(errcode.Forbidden, "your role may not manage members with the %s role", role)
		}
	}
	return nil
}

// CheckRoleWithin allows a custom role that manages roles only when the viewer
// manages each of them too.
func (v *Viewer) CheckRoleWithin(manages []string) error {
	for _, k := range manages {
		if !v.Manages(k) {
			return errcode.New(errcode.Forbidden, "a role you create cannot manage %s: you do not", k)
		}
	}
	return nil
}

// CheckEditRole allows roles.manage to change or delete a role only when it is a
// custom role within the viewer's manages set; preset roles change only by an
// owner. Without this, a role that manages instructors could rewrite the
// administrator role.
func (v *Viewer) CheckEditRole(key string, builtin bool) error {
	if !v.Has(RolesManage) {
		return errcode.New(errcode.Forbidden, "this needs the %s permission", RolesManage)
	}
	if v.Owner() {
		return nil
	}
	if builtin {
		return errcode.New(errcode.Forbidden, "only an owner changes the built-in role %s", key)
	}
	if !v.Manages(key) {
		return errcode.New(errcode.Forbidden, "your role may not manage the role %s", key)
	}
	return nil
}

// Explanation says why a member has or lacks a permission.
type Explanation struct {
	Granted bool
	// Source is OWNER, ROLE, GRANT, REVOKED or NONE.
	Source string
	Text   string
}

// Explain tells where a member's permission comes from.
func Explain(permission, roleKey, roleName string, role, grants, revokes []string) Explanation {
	switch {
	case roleKey == OwnerRole:
		return Explanation{true, "OWNER", "owners have every permission"}
	case slices.Contains(revokes, permission):
		return Explanation{false, "REVOKED", "revoked for this member, although the role or a grant gives it"}
	case slices.Contains(role, permission):
		return Explanation{true, "ROLE", "given by the role " + roleName}
	case slices.Contains(grants, permission):
		return Explanation{true, "GRANT", "granted to this member in addition to the role " + roleName}
	}
	return Explanation{false, "NONE", "neither the role " + roleName + " nor a grant gives it"}
}
