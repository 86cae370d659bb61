package auth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// MaxPreviewGroups bounds the groups a role preview is linked to.
const MaxPreviewGroups = 50

// RolePreview is a started role preview: its token and the viewer it stands for.
type RolePreview struct {
	AccessToken string
	ExpiresAt   time.Time
	Viewer      *access.Viewer
}

var errPreviewEnded = errcode.New(errcode.Unauthenticated, "the role preview has ended")

// PreviewRole lets the viewer see the API as a member with a role would: a
// member of the organization with members.manage who manages the role (owners:
// any role). The preview is linked to groupIDs, which the viewer must see, with
// scope, or the role's default scope when empty. It answers a read-only token
// of its own type, without a refresh token, valid for the access token's
// lifetime and at most MaxPreviewTTL, and records who previewed which role.
func (s *Service) PreviewRole(ctx context.Context, roleID pulid.ID, groupIDs []pulid.ID, scope string) (*RolePreview, error) {
	v := access.FromContext(ctx)
	if v.Previewing() {
		return nil, errcode.New(errcode.PreviewReadOnly, "a role preview is read-only")
	}
	if !v.Active() {
		return nil, errcode.New(errcode.Forbidden, "no active organization")
	}
	c := s.db(ctx)
	r, err := c.Role.Get(ctx, roleID)
	if err != nil {
		return nil, err
	}
	// The manage rule before anything else, so that nobody learns more.
	if err := v.CheckManage(access.MembersManage, "", r.Key, ""); err != nil {
		return nil, err
	}
	slices.Sort(groupIDs)
	groupIDs = slices.Compact(groupIDs)
	if len(groupIDs) > MaxPreviewGroups {
		return nil, errcode.Input("groupIds", "at most %d groups", MaxPreviewGroups)
	}
	if n, err := c.Group.Query().Where(group.IDIn(groupIDs...)).Count(ctx); err != nil {
		return nil, fmt.Errorf("auth: preview groups: %w", err)
	} else if n != len(groupIDs) {
		return nil, errcode.New(errcode.NotFound, "group not found")
	}
	if scope == "" {
		scope = string(r.DefaultGroupScope)
	}
	if err := membership.GroupScopeValidator(membership.GroupScope(scope)); err != nil {
		return nil, errcode.Input("groupScope", "unknown group scope %q", scope)
	}
	claims := PreviewClaims{Role: string(r.ID), GroupScope: scope, Membership: string(pulid.New(pulid.MembershipPrefix))}
	for _, id := range groupIDs {
		claims.Groups = append(claims.Groups, string(id))
	}
	token, expiresAt, err := s.tokens.IssuePreview(v.UserID, v.OrgID, v.SessionID, claims)
	if err != nil {
		return nil, err
	}
	err = store.InTx(ctx, s.client, func(ctx context.Context, tx *ent.Client) error {
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "role.previewed", TargetType: "Role", TargetID: r.ID,
			Data: map[string]any{"role": r.Key, "groupScope": scope, "groupIds": claims.Groups, "expiresAt": expiresAt.UTC()}})
	})
	if err != nil {
		return nil, err
	}
	return &RolePreview{AccessToken: token, ExpiresAt: expiresAt, Viewer: previewViewer(v, r, &claims, expiresAt)}, nil
}

// loadPreview returns the viewer of a preview token. The previewer is loaded as
// on every request, and must still be able to preview the role: a removed
// member, a lost permission or a deleted role ends the preview.
func (s *Service) loadPreview(ctx context.Context, c *Claims) (*access.Viewer, error) {
	by, err := s.LoadViewer(ctx, c.UserID(), c.OrgID(), c.SessionID())
	if err != nil {
		return nil, err
	}
	if !by.Active() {
		return nil, errPreviewEnded
	}
	r, err := s.client.Role.Get(access.NewContext(ctx, by), pulid.ID(c.Preview.Role))
	if ent.IsNotFound(err) {
		return nil, errPreviewEnded
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load preview: %w", err)
	}
	if by.CheckManage(access.MembersManage, "", r.Key, "") != nil {
		return nil, errPreviewEnded
	}
	return previewViewer(by, r, c.Preview, c.ExpiresAt.Time), nil
}

// previewViewer is the viewer a member with role r would be, with the preview's
// group scope and links, acting through a membership id that owns nothing.
func previewViewer(by *access.Viewer, r *ent.Role, p *PreviewClaims, expiresAt time.Time) *access.Viewer {
	groups := make([]pulid.ID, len(p.Groups))
	for i, id := range p.Groups {
		groups[i] = pulid.ID(id)
	}
	return access.NewPreviewViewer(by.UserID, by.SessionID, access.Membership{
		OrgID: by.OrgID, MembershipID: pulid.ID(p.Membership), RoleID: r.ID, RoleKey: r.Key,
		GroupScope: p.GroupScope, RolePermissions: r.Permissions, Manages: r.Manages, GroupScopes: r.GroupScopes,
	}, access.Preview{By: by.MembershipID, GroupIDs: groups, ExpiresAt: expiresAt})
}
