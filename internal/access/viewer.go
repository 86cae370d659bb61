// Package access is Staffroom's authorization: who is calling (the Viewer), the
// permission catalog and role presets, the ent privacy rules that isolate tenants
// and scope rows, and the rules of who may manage whom.
package access

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"staffroom/ent/privacy"
	"staffroom/ent/schema/pulid"
)

// Viewer is who is calling: the user from the access token and, when it is
// active, their membership in the organization the token names. It is loaded
// fresh on every request and never changed afterwards.
type Viewer struct {
	UserID    pulid.ID
	SessionID pulid.ID
	// OrgID and the fields below are set only when the membership is active.
	OrgID        pulid.ID
	MembershipID pulid.ID
	RoleID       pulid.ID
	RoleKey      string
	GroupScope   string
	owner        bool
	permissions  map[string]struct{}
	manages      map[string]struct{}
	groupScopes  map[string]string

	// Preview is set when the viewer previews a role (see Preview).
	Preview *Preview

	// APIKeyID is set when the caller is an organization's API key
	// (NewKeyViewer): no person, no user, no membership.
	APIKeyID pulid.ID

	// PasswordChangeRequired is set while the login's password is one an
	// administrator chose: the session may only change it (or log out).
	PasswordChangeRequired bool
}

// Preview marks a viewer that previews a role: it has exactly the role's
// permissions, a group scope and links to the groups listed, and a
// membership id of its own that owns nothing (no messages, no links), so that
// it answers as a new member with that role would. It changes nothing: every
// mutation is refused with PREVIEW_READ_ONLY.
type Preview struct {
	// By is the membership of the member who previews; it stands for the
	// viewer's own membership where a member sees only their own.
	By        pulid.ID
	GroupIDs  []pulid.ID
	ExpiresAt time.Time
}

// NewPreviewViewer returns the viewer of a role preview: m names the role, the
// group scope and a membership id that owns nothing; grants and revokes are
// ignored.
func NewPreviewViewer(userID, sessionID pulid.ID, m Membership, p Preview) *Viewer {
	m.Grants, m.Revokes = nil, nil
	v := NewViewer(userID, sessionID, &m)
	v.Preview = &p
	return v
}

// Previewing reports whether the viewer is a role preview.
func (v *Viewer) Previewing() bool { return v != nil && v.Preview != nil }

// NewKeyViewer returns the viewer of an API key of org: exactly the key's
// permissions, no role to manage others with, no membership and so no group
// links — its group scope is ALL when it holds groups.view, and LINKED, which
// links nothing, otherwise.
func NewKeyViewer(keyID, org pulid.ID, permissions []string) *Viewer {
	scope := "LINKED"
	if slices.Contains(permissions, GroupsView) {
		scope = "ALL"
	}
	v := NewViewer("", "", &Membership{OrgID: org, GroupScope: scope, RolePermissions: permissions})
	v.APIKeyID = keyID
	return v
}

// IsAPIKey reports whether the viewer is an API key rather than a person.
func (v *Viewer) IsAPIKey() bool { return v != nil && v.APIKeyID != "" }

// Membership describes an active membership for NewViewer.
type Membership struct {
	OrgID, MembershipID, RoleID pulid.ID
	RoleKey, GroupScope         string
	RolePermissions             []string
	Grants, Revokes             []string
	Manages                     []string
	// GroupScopes is the role's group scope by group kind.
	GroupScopes map[string]string
}

// NewViewer returns the viewer of a user, with their active membership if m is not nil.
func NewViewer(userID, sessionID pulid.ID, m *Membership) *Viewer {
	v := &Viewer{UserID: userID, SessionID: sessionID}
	if m == nil {
		return v
	}
	v.OrgID, v.MembershipID, v.RoleID = m.OrgID, m.MembershipID, m.RoleID
	v.RoleKey, v.GroupScope = m.RoleKey, m.GroupScope
	v.owner = m.RoleKey == OwnerRole
	v.permissions = make(map[string]struct{}, len(Catalog))
	for _, p := range Effective(m.RoleKey, m.RolePermissions, m.Grants, m.Revokes) {
		v.permissions[p] = struct{}{}
	}
	v.groupScopes = m.GroupScopes
	v.manages = make(map[string]struct{}, len(m.Manages))
	for _, k := range m.Manages {
		v.manages[k] = struct{}{}
	}
	return v
}

// For returns a copy of v for one user and session. The copy shares v's
// permission sets, which nothing changes after NewViewer, so that one
// membership's viewer can be derived once and used by many requests.
func (v *Viewer) For(userID, sessionID pulid.ID) *Viewer {
	c := *v
	c.UserID, c.SessionID = userID, sessionID
	return &c
}

// Active reports whether the viewer acts in an organization.
func (v *Viewer) Active() bool { return v != nil && v.OrgID != "" }

// Owner reports whether the viewer is an owner of the active organization.
func (v *Viewer) Owner() bool { return v.Active() && v.owner }

// Has reports whether the viewer holds a permission in the active organization.
func (v *Viewer) Has(permission string) bool {
	if !v.Active() {
		return false
	}
	_, ok := v.permissions[permission]
	// Owners hold every permission, the organization's module permissions too.
	return ok || (v.owner && IsModulePermission(permission))
}

// Manages reports whether the viewer's role may manage holders of a role.
func (v *Viewer) Manages(roleKey string) bool {
	if !v.Active() {
		return false
	}
	if v.owner {
		return true
	}
	_, ok := v.manages[roleKey]
	return ok
}

// Permissions returns the viewer's effective permissions in catalog order,
// then the module permissions its role and grants give, in key order.
func (v *Viewer) Permissions() []string {
	out := []string{}
	for _, p := range Catalog {
		if v.Has(p.Key) {
			out = append(out, p.Key)
		}
	}
	var modules []string
	for p := range v.permissions {
		if IsModulePermission(p) {
			modules = append(modules, p)
		}
	}
	slices.Sort(modules)
	return append(out, modules...)
}

// SeesAllGroups reports whether the viewer's group row scope is the whole organization.
func (v *Viewer) SeesAllGroups() bool {
	for _, k := range GroupKinds {
		if v.GroupScopeOf(k) != groupScopeAll {
			return false
		}
	}
	return true
}

// GroupScopeOf returns which groups of a kind the viewer sees: ALL with
// groups.view and the membership's scope ALL, LINKED (those they are linked
// to) otherwise; the role's scope for the kind can only narrow that, to LINKED
// or to NONE — not even linked ones.
func (v *Viewer) GroupScopeOf(kind string) string {
	if !v.Active() || v.groupScopes[kind] == groupScopeNone {
		return groupScopeNone
	}
	if v.Has(GroupsView) && v.GroupScope == groupScopeAll && v.groupScopes[kind] != groupScopeLinked {
		return groupScopeAll
	}
	return groupScopeLinked
}

type viewerKey struct{}

// holder keeps a request's viewer. It changes only when the request itself signs
// in (logIn, signUp, switchOrganization…): the rest of that request then acts as
// the viewer its new tokens name, so that the payload shows what they grant.
type holder struct{ v atomic.Pointer[Viewer] }

// NewContext returns a context that carries the viewer (nil: anonymous).
func NewContext(ctx context.Context, v *Viewer) context.Context {
	h := &holder{}
	h.v.Store(v)
	return context.WithValue(ctx, viewerKey{}, h)
}

// FromContext returns the viewer in ctx, or nil for an anonymous caller.
func FromContext(ctx context.Context) *Viewer {
	if h, ok := ctx.Value(viewerKey{}).(*holder); ok {
		return h.v.Load()
	}
	return nil
}

// Become makes v the viewer of the rest of the request, after it signed in.
func Become(ctx context.Context, v *Viewer) {
	if h, ok := ctx.Value(viewerKey{}).(*holder); ok {
		h.v.Store(v)
	}
}

type systemKey struct{}

// SystemContext returns a context that bypasses every privacy rule. It is the one
// bypass, for work done on nobody's behalf or before a viewer exists: logging in,
// loading the viewer, accepting an invitation, background workers. The reason is
// kept for logs. Resolvers never call it (a test checks), and it panics when
// called from the GraphQL package so that a slip cannot reach production.
func SystemContext(ctx context.Context, reason string) context.Context {
	if calledFromGraph() {
		panic("access: SystemContext used from a resolver")
	}
	ctx = context.WithValue(ctx, systemKey{}, reason)
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// IsSystem reports whether ctx is a system context.
func IsSystem(ctx context.Context) bool {
	_, ok := ctx.Value(systemKey{}).(string)
	return ok
}

func calledFromGraph() bool {
	pc, _, _, ok := runtime.Caller(2)
	if !ok {
		return false
	}
	fn := runtime.FuncForPC(pc)
	return fn != nil && calledFromGraphName(fn.Name())
}

func calledFromGraphName(name string) bool { return strings.HasPrefix(name, "staffroom/graph.") }
