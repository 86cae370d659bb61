package integrations

import (
	"context"
	"time"

	"staffroom/ent"
	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
)

// The sources of an access check besides those of access.Explain.
const (
	SourceInactive          = "INACTIVE"
	SourceOutsideGroupScope = "OUTSIDE_GROUP_SCOPE"
)

// Check is the answer of CheckAccess.
type Check struct {
	Member      *ent.Membership
	Group       *ent.Group
	Granted     bool
	Source      string
	Explanation string
}

// CheckAccess answers whether a member may use a permission — of the catalog
// or a module permission — and, with a group, whether that group lies in the
// member's group scope. The member and the group are read with the asker's
// privacy: one the asker cannot see is NOT_FOUND.
func CheckAccess(ctx context.Context, client *ent.Client, memberID pulid.ID, permission string, groupID *pulid.ID) (*Check, error) {
	if err := ValidatePermissions(ctx, client, "permission", []string{permission}); err != nil {
		return nil, err
	}
	m, err := client.Membership.Query().Where(membership.ID(memberID)).WithRole().Only(ctx)
	if err != nil {
		return nil, err
	}
	out := &Check{Member: m}
	if groupID != nil {
		if out.Group, err = client.Group.Get(ctx, *groupID); err != nil {
			return nil, err
		}
	}
	rl := m.Edges.Role
	// Grants and disabled periods count until they end, whether or not the
	// expiry job has ended them yet.
	now := time.Now()
	e := access.Explain(permission, rl.Key, rl.Name, rl.Permissions, access.LiveGrants(m.Grants, m.GrantExpiries, now), m.Revokes)
	out.Granted, out.Source, out.Explanation = e.Granted, e.Source, e.Text
	switch {
	case access.StatusAt(m.Status, m.DisabledUntil, now) != membership.StatusACTIVE || m.RemovedAt != nil || m.UnverifiedJoin:
		out.Granted, out.Source = false, SourceInactive
		out.Explanation = "the membership is disabled, removed or waiting for its owner's review: it grants nothing"
	case out.Granted && out.Group != nil:
		in, err := inGroupScope(ctx, client, m, out.Group, now)
		if err != nil {
			return nil, err
		}
		if !in {
			out.Granted, out.Source = false, SourceOutsideGroupScope
			out.Explanation = e.Text + ", but the group " + out.Group.Name + " lies outside the member's group scope"
		}
	}
	return out, nil
}

// inGroupScope reports whether the member sees the group: the member's scope
// for the group's kind, and for LINKED a link to it.
func inGroupScope(ctx context.Context, client *ent.Client, m *ent.Membership, g *ent.Group, now time.Time) (bool, error) {
	rl := m.Edges.Role
	mv := access.NewViewer(m.UserID, "", &access.Membership{
		OrgID: m.OrganizationID, MembershipID: m.ID, RoleID: rl.ID, RoleKey: rl.Key, GroupScope: string(m.GroupScope),
		RolePermissions: rl.Permissions, Grants: access.LiveGrants(m.Grants, m.GrantExpiries, now), Revokes: m.Revokes,
		GroupScopes: rl.GroupScopes,
	})
	switch mv.GroupScopeOf(string(g.Kind)) {
	case "ALL":
		return true, nil
	case "LINKED":
		return client.Membership.Query().Where(membership.ID(m.ID),
			membership.HasGroupLinksWith(grouplink.GroupID(g.ID), access.LiveLink(now))).Exist(ctx)
	}
	return false, nil
}
