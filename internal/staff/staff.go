// Package staff provides the changes administrators make to members — role,
// grants, revokes, group scope, username, status, removal, group links — under
// the rules of who may manage whom, no escalation, no self-service privilege and
// the last owner, each with its audit event in the same transaction.
package staff

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/grouplink"
	"staffroom/ent/invitation"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// Lock serializes changes that must see each other — the last-owner rule,
// username allocation — on the organization row: updating it locks the row on
// PostgreSQL, where the statements after it see what earlier holders committed,
// and SQLite's transactions take the write lock when they begin. Call it before
// the reads it guards, first in the transaction where possible.
func Lock(ctx context.Context, tx *ent.Client, org pulid.ID) error {
	sys := access.SystemContext(ctx, "serialize on the organization")
	if err := tx.Organization.UpdateOneID(org).AddLockVersion(1).Exec(sys); err != nil {
		return fmt.Errorf("staff: lock organization: %w", err)
	}
	return nil
}

// EnsureOwner fails with LAST_OWNER when the organization would have no active
// owner once leaving (an owner about to be demoted, disabled or removed; "" for
// none) stops being one. It is checked after who-may-manage-whom, so that an
// actor who may not manage the member learns nothing about the owners, and
// counted in the system context: the rule holds whatever the actor may see.
func EnsureOwner(ctx context.Context, tx *ent.Client, org, leaving pulid.ID) error {
	sys := access.SystemContext(ctx, "last owner rule")
	n, err := tx.Membership.Query().Where(
		membership.OrganizationID(org),
		membership.IDNEQ(leaving),
		access.ActiveAt(time.Now()),
		membership.RemovedAtIsNil(),
		membership.HasRoleWith(role.Key(access.OwnerRole)),
	).Count(sys)
	if err != nil {
		return fmt.Errorf("staff: count owners: %w", err)
	}
	if n == 0 {
		return errcode.New(errcode.LastOwner, "an organization keeps at least one active owner: make someone else owner first")
	}
	return nil
}

// CheckSeats fails with SEATS_EXHAUSTED when the organization's plan has seats
// (more than 0) and its seats in use, plus adding, would exceed them. Call it
// under Lock, so that parallel requests count each other. Seats lowered below
// use are allowed: they block new members only.
func CheckSeats(ctx context.Context, tx *ent.Client, org pulid.ID, adding int, now time.Time) error {
	sys := access.SystemContext(ctx, "seat count")
	seats, err := tx.Organization.Query().Where(organization.ID(org)).Select(organization.FieldBillingSeats).Int(sys)
	if err != nil {
		return fmt.Errorf("staff: seats: %w", err)
	}
	if seats <= 0 {
		return nil
	}
	used, err := SeatsUsed(ctx, tx, org, now)
	if err != nil {
		return err
	}
	if used+adding > seats {
		return errcode.New(errcode.SeatsExhausted, "every seat of the plan is taken (%d of %d, pending invitations included): an owner adds seats, or revoke an invitation or remove a member first", used, seats)
	}
	return nil
}

// SeatsUsed counts the seats an organization's people hold: active members,
// members disabled for a period (they come back without asking for a seat),
// and pending invitations that have not expired. It counts whatever the caller
// may see: seats are billing, read with billing.view.
func SeatsUsed(ctx context.Context, tx *ent.Client, org pulid.ID, now time.Time) (int, error) {
	sys := access.SystemContext(ctx, "seat count")
	members, err := tx.Membership.Query().Where(membership.OrganizationID(org),
		membership.Or(membership.StatusEQ(membership.StatusACTIVE), membership.DisabledUntilNotNil()),
		membership.RemovedAtIsNil()).Count(sys)
	if err != nil {
		return 0, fmt.Errorf("staff: count members: %w", err)
	}
	pending, err := tx.Invitation.Query().Where(invitation.OrganizationID(org),
		invitation.StatusEQ(invitation.StatusPENDING), invitation.ExpiresAtGT(now)).Count(sys)
	if err != nil {
		return 0, fmt.Errorf("staff: count invitations: %w", err)
	}
	return members + pending, nil
}

// leavesOwnership reports whether a change takes an active owner out of the owners.
func leavesOwnership(m *ent.Membership, newRole string) bool {
	return m.Edges.Role.Key == access.OwnerRole && access.StatusAt(m.Status, m.DisabledUntil, time.Now()) == membership.StatusACTIVE &&
		(newRole == "" || newRole != access.OwnerRole)
}

// lockedTarget locks the organization, then loads the member to change.
func lockedTarget(ctx context.Context, tx *ent.Client, org, id pulid.ID) (*ent.Membership, error) {
	if err := Lock(ctx, tx, org); err != nil {
		return nil, err
	}
	return target(ctx, tx, id)
}

// target loads a member of the active organization with its role. Ids of other
// organizations, like unknown ones, are NOT_FOUND; removed members cannot change.
func target(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Membership, error) {
	m, err := tx.Membership.Query().Where(membership.ID(id)).WithRole().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "member not found")
	}
	if err != nil {
		return nil, err
	}
	if m.RemovedAt != nil {
		return nil, errcode.New(errcode.Conflict, "the member was removed from the organization")
	}
	return m, nil
}

func findRole(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Role, error) {
	r, err := tx.Role.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "role not found")
	}
	return r, err
}

// UpdateInput changes a member; nil fields stay as they are.
type UpdateInput struct {
	RoleID     *pulid.ID
	Grants     []string
	Revokes    []string
	GroupScope *membership.GroupScope
	Username   *string
	Title      *string
	// GrantExpiries, when not nil, replaces when grants end; each names a grant
	// the member holds after the change. Without it, grants that stay keep theirs.
	GrantExpiries []*GrantExpiry
	// Contact changes the member's login: only a managed account's.
	Contact Contact
}

// Update changes a member under the rules of docs/authorization.md.
func Update(ctx context.Context, client *ent.Client, id pulid.ID, in UpdateInput) (*ent.Membership, error) {
	v := access.FromContext(ctx)
	var out *ent.Membership
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		m, err := lockedTarget(ctx, tx, v.OrgID, id)
		if err != nil {
			return err
		}
		current := m.Edges.Role
		next := current
		if in.RoleID != nil {
			if next, err = findRole(ctx, tx, *in.RoleID); err != nil {
				return err
			}
		}
		newKey := ""
		if next.ID != current.ID {
			newKey = next.Key
		}
		if err := v.CheckManage(access.MembersManage, m.ID, current.Key, newKey); err != nil {
			return err
		}
		if newKey != "" && leavesOwnership(m, newKey) {
			if err := EnsureOwner(ctx, tx, v.OrgID, m.ID); err != nil {
				return err
			}
		}
		upd := tx.Membership.UpdateOne(m)
		data := map[string]any{}
		if !in.Contact.empty() {
			if err := editContact(ctx, tx, v, m, in.Contact, data); err != nil {
				return err
			}
		}
		if in.Grants != nil {
			if err := v.CheckGiveIn(ctx, tx, "grants", in.Grants); err != nil {
				return err
			}
		}
		if in.Grants != nil || in.GrantExpiries != nil {
			if err := setGrants(ctx, tx, v, upd, m, in, time.Now(), data); err != nil {
				return err
			}
		}
		if in.Revokes != nil {
			if err := v.ValidateIn(ctx, tx, "revokes", in.Revokes); err != nil {
				return err
			}
			upd.SetRevokes(dedupe(in.Revokes))
			data["revokes"] = audit.Change(m.Revokes, dedupe(in.Revokes))
		}
		if in.GroupScope != nil {
			upd.SetGroupScope(*in.GroupScope)
			data["groupScope"] = audit.Change(m.GroupScope, *in.GroupScope)
		}
		if in.Username != nil {
			name, err := CheckUsername(*in.Username)
			if err != nil {
				return err
			}
			upd.SetUsername(name).SetUsernameKey(strings.ToLower(name))
			data["username"] = audit.Change(m.Username, name)
		}
		if in.Title != nil {
			upd.SetTitle(strings.TrimSpace(*in.Title))
			data["title"] = audit.Change(m.Title, strings.TrimSpace(*in.Title))
		}
		if newKey != "" {
			upd.SetRoleID(next.ID)
		}
		if out, err = upd.Save(ctx); err != nil {
			if ent.IsConstraintError(err) {
				return errcode.Taken("username", "the username is taken in this organization")
			}
			return err
		}
		if newKey != "" {
			if err := recordRoleChange(ctx, tx, v.OrgID, m.ID, current, next); err != nil {
				return err
			}
		}
		if len(data) > 0 {
			return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "member.updated", TargetType: "Membership", TargetID: m.ID, Data: data})
		}
		return nil
	})
	return out, err
}

func recordRoleChange(ctx context.Context, tx *ent.Client, org, member pulid.ID, from, to *ent.Role) error {
	return audit.Record(ctx, tx, org, audit.Event{
		Action: "member.role_changed", TargetType: "Membership", TargetID: member,
		Data: audit.Change(from.Key, to.Key),
	})
}

// SetRole gives several members one role: all of them or none.
func SetRole(ctx context.Context, client *ent.Client, ids []pulid.ID, roleID pulid.ID) ([]*ent.Membership, error) {
	if len(ids) == 0 || len(ids) > 500 {
		return nil, errcode.Input("ids", "give 1 to 500 member ids")
	}
	v := access.FromContext(ctx)
	var out []*ent.Membership
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		if err := Lock(ctx, tx, v.OrgID); err != nil {
			return err
		}
		next, err := findRole(ctx, tx, roleID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			m, err := target(ctx, tx, id)
			if err != nil {
				return err
			}
			if m.RoleID == next.ID {
				out = append(out, m)
				continue
			}
			if err := v.CheckManage(access.MembersManage, m.ID, m.Edges.Role.Key, next.Key); err != nil {
				return err
			}
			if leavesOwnership(m, next.Key) {
				if err := EnsureOwner(ctx, tx, v.OrgID, m.ID); err != nil {
					return err
				}
			}
			updated, err := tx.Membership.UpdateOne(m).SetRoleID(next.ID).Save(ctx)
			if err != nil {
				return err
			}
			if err := recordRoleChange(ctx, tx, v.OrgID, m.ID, m.Edges.Role, next); err != nil {
				return err
			}
			out = append(out, updated)
		}
		return nil
	})
	return out, err
}

// SetStatus disables or re-enables a member. A member is disabled until
// enabled, or with until for a period: at until they are active again.
func SetStatus(ctx context.Context, client *ent.Client, id pulid.ID, status membership.Status, until *time.Time) (*ent.Membership, error) {
	now := time.Now()
	e := audit.Event{Action: "member.enabled"}
	if status == membership.StatusDISABLED {
		e.Action = "member.disabled"
		if until != nil {
			t, err := checkUntil("until", *until, now)
			if err != nil {
				return nil, err
			}
			until, e.Data = &t, map[string]any{"until": t}
		}
	} else {
		until = nil
	}
	return change(ctx, client, id, e, status == membership.StatusDISABLED, func(ctx context.Context, tx *ent.Client, m *ent.Membership) (*ent.Membership, error) {
		// A member disabled until enabled holds no seat; one disabled for a
		// period keeps theirs. Taking a seat again needs a free one.
		if !holdsSeat(m) && (status == membership.StatusACTIVE || until != nil) {
			if err := CheckSeats(ctx, tx, m.OrganizationID, 1, now); err != nil {
				return nil, err
			}
		}
		upd := tx.Membership.UpdateOne(m).SetStatus(status)
		if until != nil {
			upd.SetDisabledUntil(*until)
		} else {
			upd.ClearDisabledUntil()
		}
		return upd.Save(ctx)
	})
}

// holdsSeat reports whether a member counts in SeatsUsed.
func holdsSeat(m *ent.Membership) bool {
	return m.Status == membership.StatusACTIVE || m.DisabledUntil != nil
}

// Remove ends a member's access and keeps the membership for history: their
// messages and audit events stay attributed to it. Their login and their other
// memberships are untouched.
func Remove(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.Membership, error) {
	return change(ctx, client, id, audit.Event{Action: "member.removed"}, true, func(ctx context.Context, tx *ent.Client, m *ent.Membership) (*ent.Membership, error) {
		// A disabled period ends with the membership: nothing comes back when it would have.
		return tx.Membership.UpdateOne(m).SetRemovedAt(time.Now()).ClearDisabledUntil().Save(ctx)
	})
}

// Managed runs an action that needs members.manage over a member without
// changing the membership itself (unlock, password reset), and records it.
func Managed(ctx context.Context, client *ent.Client, id pulid.ID, action string, do func(ctx context.Context, m *ent.Membership) error) (*ent.Membership, error) {
	return change(ctx, client, id, audit.Event{Action: action}, false, func(ctx context.Context, _ *ent.Client, m *ent.Membership) (*ent.Membership, error) {
		return m, do(ctx, m)
	})
}

// change applies a change to a member the viewer manages and records it as e
// (its target is the member); ending a membership's access (ends) keeps an owner.
func change(ctx context.Context, client *ent.Client, id pulid.ID, e audit.Event, ends bool,
	apply func(context.Context, *ent.Client, *ent.Membership) (*ent.Membership, error)) (*ent.Membership, error) {
	v := access.FromContext(ctx)
	var out *ent.Membership
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		m, err := lockedTarget(ctx, tx, v.OrgID, id)
		if err != nil {
			return err
		}
		if err := v.CheckManage(access.MembersManage, m.ID, m.Edges.Role.Key, ""); err != nil {
			return err
		}
		if ends && leavesOwnership(m, "") {
			if err := EnsureOwner(ctx, tx, v.OrgID, m.ID); err != nil {
				return err
			}
		}
		if out, err = apply(ctx, tx, m); err != nil {
			return err
		}
		e.TargetType, e.TargetID = "Membership", m.ID
		return audit.Record(ctx, tx, v.OrgID, e)
	})
	return out, err
}

// Link links a member to groups, until a time or (until nil) until unlinked.
// Linking again sets when the link ends. Both the member and the groups must
// be visible to the viewer.
func Link(ctx context.Context, client *ent.Client, id pulid.ID, groupIDs []pulid.ID, until *time.Time) (*ent.Membership, error) {
	if until != nil {
		t, err := checkUntil("until", *until, time.Now())
		if err != nil {
			return nil, err
		}
		until = &t
	}
	return link(ctx, client, id, groupIDs, true, until)
}

// Unlink removes a member's links to groups.
func Unlink(ctx context.Context, client *ent.Client, id pulid.ID, groupIDs []pulid.ID) (*ent.Membership, error) {
	return link(ctx, client, id, groupIDs, false, nil)
}

func link(ctx context.Context, client *ent.Client, id pulid.ID, groupIDs []pulid.ID, link bool, until *time.Time) (*ent.Membership, error) {
	v := access.FromContext(ctx)
	var out *ent.Membership
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		// Under the organization's lock, as the expiry job ends links.
		m, err := lockedTarget(ctx, tx, v.OrgID, id)
		if err != nil {
			return err
		}
		// Links widen what a member sees: the same who-may-manage-whom as a
		// role change, and nobody links themselves.
		if err := v.CheckManage(access.GroupsManage, m.ID, m.Edges.Role.Key, ""); err != nil {
			return err
		}
		ids := dedupe(groupIDs)
		found, err := tx.Group.Query().Where(group.IDIn(ids...)).IDs(ctx)
		if err != nil {
			return err
		}
		if len(found) != len(ids) {
			return errcode.New(errcode.NotFound, "group not found")
		}
		upd := tx.Membership.UpdateOne(m)
		action := "member.groups_linked"
		data := map[string]any{"groups": ids}
		if link {
			existing, err := m.QueryGroups().IDs(ctx)
			if err != nil {
				return err
			}
			upd.AddGroupIDs(without(ids, existing)...)
			if until != nil {
				data["until"] = *until
			}
		} else {
			upd.RemoveGroupIDs(ids...)
			action = "member.groups_unlinked"
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		if link {
			// New links and links made again end at until, or never.
			ends := tx.GroupLink.Update().Where(grouplink.MembershipID(m.ID), grouplink.GroupIDIn(ids...))
			if until != nil {
				ends.SetUntil(*until)
			} else {
				ends.ClearUntil()
			}
			if err := ends.Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: action, TargetType: "Membership", TargetID: m.ID, Data: data})
	})
	return out, err
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// CheckUsername validates a username: letters, digits, dots, dashes and underscores.
func CheckUsername(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	if !usernamePattern.MatchString(name) {
		return "", errcode.Input("username", "a username has 1 to 100 letters, digits, dots, dashes or underscores")
	}
	return name, nil
}

// UniqueUsername returns base, or base.2, base.3… when it is taken in the organization.
func UniqueUsername(ctx context.Context, tx *ent.Client, org pulid.ID, base string) (string, error) {
	sys := access.SystemContext(ctx, "unique username")
	lower := strings.ToLower(base)
	taken, err := tx.Membership.Query().
		Where(membership.OrganizationID(org), membership.Or(membership.UsernameKey(lower), membership.UsernameKeyHasPrefix(lower+"."))).
		Select(membership.FieldUsernameKey).Strings(sys)
	if err != nil {
		return "", err
	}
	candidate := base
	for n := 2; slices.Contains(taken, strings.ToLower(candidate)); n++ {
		candidate = fmt.Sprintf("%s.%d", base, n)
	}
	return candidate, nil
}

func dedupe[T comparable](in []T) []T {
	out := make([]T, 0, len(in))
	for _, x := range in {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func without(ids, existing []pulid.ID) []pulid.ID {
	var out []pulid.ID
	for _, id := range ids {
		if !slices.Contains(existing, id) {
			out = append(out, id)
		}
	}
	return out
}

// Leave ends the viewer's own membership. The last owner cannot leave.
func Leave(ctx context.Context, client *ent.Client) error {
	v := access.FromContext(ctx)
	return store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		if err := Lock(ctx, tx, v.OrgID); err != nil {
			return err
		}
		if v.Owner() {
			if err := EnsureOwner(ctx, tx, v.OrgID, v.MembershipID); err != nil {
				return err
			}
		}
		if err := tx.Membership.UpdateOneID(v.MembershipID).SetRemovedAt(time.Now()).Exec(access.SystemContext(ctx, "leave")); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "member.left", TargetType: "Membership", TargetID: v.MembershipID})
	})
}

// TransferOwnership makes another active member owner and the caller, an owner,
// an administrator — in one step, so that the organization is never without one.
func TransferOwnership(ctx context.Context, client *ent.Client, to pulid.ID) (*ent.Membership, error) {
	v := access.FromContext(ctx)
	if !v.Owner() {
		return nil, errcode.New(errcode.Forbidden, "only an owner can transfer ownership")
	}
	var out *ent.Membership
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		if err := Lock(ctx, tx, v.OrgID); err != nil {
			return err
		}
		m, err := target(ctx, tx, to)
		if err != nil {
			return err
		}
		if m.ID == v.MembershipID {
			return errcode.Input("memberId", "you are the owner already")
		}
		if access.StatusAt(m.Status, m.DisabledUntil, time.Now()) != membership.StatusACTIVE {
			return errcode.New(errcode.Conflict, "ownership goes to an active member")
		}
		owner, err := tx.Role.Query().Where(role.Key(access.OwnerRole)).Only(ctx)
		if err != nil {
			return err
		}
		admin, err := tx.Role.Query().Where(role.Key("administrator")).Only(ctx)
		if ent.IsNotFound(err) {
			// Presets without an administrator role keep the caller an owner.
			admin = owner
		} else if err != nil {
			return err
		}
		if out, err = tx.Membership.UpdateOne(m).SetRoleID(owner.ID).Save(ctx); err != nil {
			return err
		}
		sys := access.SystemContext(ctx, "transfer ownership")
		if err := tx.Membership.UpdateOneID(v.MembershipID).SetRoleID(admin.ID).Exec(sys); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "organization.ownership_transferred", TargetType: "Membership", TargetID: m.ID,
			Data: map[string]any{"from": v.MembershipID, "to": m.ID, "previousRole": m.Edges.Role.Key}})
	})
	return out, err
}

// Review is what an access review lists.
type Review struct {
	Elevated, Inactive, ExtraGrants []*ent.Membership
	StaleInvitations                []*ent.Invitation
	// Unverified are members whose login's address nobody proved: whoever
	// proves it later takes the login over.
	Unverified []*ent.Membership
	// MissingRequired are members without a field the organization requires.
	MissingRequired []*ent.Membership
}

// elevatedPermissions are the ones an access review looks for.
var elevatedPermissions = []string{access.BillingView, access.BillingManage, access.RolesManage,
	access.MembersManage, access.AuditView, access.InvoicesRefund, access.IntegrationsManage}

// AccessReview lists members holding elevated permissions, members not seen for
// 90 days, pending invitations older than 7 days, grants beyond the role, and
// members whose address is unverified.
func AccessReview(ctx context.Context, client *ent.Client, now time.Time) (*Review, error) {
	members, err := client.Membership.Query().
		Where(membership.RemovedAtIsNil()).WithRole().WithUser().
		Order(ent.Asc(membership.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	lacks, err := lacksRequired(ctx, client)
	if err != nil {
		return nil, err
	}
	r := &Review{}
	for _, m := range members {
		// Grants that have ended count no more, whether or not the expiry job
		// has removed them yet.
		grants := access.LiveGrants(m.Grants, m.GrantExpiries, now)
		perms := access.Effective(m.Edges.Role.Key, m.Edges.Role.Permissions, grants, m.Revokes)
		if slices.ContainsFunc(elevatedPermissions, func(p string) bool { return slices.Contains(perms, p) }) {
			r.Elevated = append(r.Elevated, m)
		}
		if seen := m.LastUsedAt; (seen == nil && now.Sub(m.JoinedAt) > 90*24*time.Hour) || (seen != nil && now.Sub(*seen) > 90*24*time.Hour) {
			r.Inactive = append(r.Inactive, m)
		}
		if slices.ContainsFunc(grants, func(g string) bool { return !slices.Contains(m.Edges.Role.Permissions, g) }) {
			r.ExtraGrants = append(r.ExtraGrants, m)
		}
		if m.Edges.User.EmailVerifiedAt == nil {
			r.Unverified = append(r.Unverified, m)
		}
		if lacks(m.Edges.User) {
			r.MissingRequired = append(r.MissingRequired, m)
		}
	}
	r.StaleInvitations, err = client.Invitation.Query().Where(
		invitation.StatusEQ(invitation.StatusPENDING), invitation.CreatedAtLT(now.Add(-7*24*time.Hour)),
	).All(ctx)
	return r, err
}
