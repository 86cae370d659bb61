package staff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/organization"
)

var errAccountNotManaged = errcode.New(errcode.AccountNotManaged,
	"this person's login belongs to organizations you do not manage them in, so you cannot change its contact details "+
		"or password: send them a password reset email (sendPasswordReset) instead")

// CheckAccountManaged allows the viewer to change a login's contact details or
// password only when the login is a managed account: every membership of it
// (removed ones aside) is in an organization where the viewer's own login holds
// an active membership with members.manage over that member's role. A login
// is one person's in every organization, so an administrator of one must not
// change what the others rely on (docs/authorization.md rule 10).
func CheckAccountManaged(ctx context.Context, tx *ent.Client, v *access.Viewer, userID pulid.ID) error {
	sys := access.SystemContext(ctx, "managed account")
	theirs, err := tx.Membership.Query().
		Where(membership.UserID(userID), membership.RemovedAtIsNil()).WithRole().All(sys)
	if err != nil {
		return fmt.Errorf("staff: managed account: %w", err)
	}
	orgs := make([]pulid.ID, len(theirs))
	for i, m := range theirs {
		orgs[i] = m.OrganizationID
	}
	now := time.Now()
	mine, err := tx.Membership.Query().Where(membership.UserID(v.UserID), membership.OrganizationIDIn(orgs...),
		access.ActiveAt(now), membership.RemovedAtIsNil(), membership.UnverifiedJoin(false)).
		WithRole().All(sys)
	if err != nil {
		return fmt.Errorf("staff: managed account: %w", err)
	}
	actors := make(map[pulid.ID]*access.Viewer, len(mine))
	for _, a := range mine {
		r := a.Edges.Role
		actors[a.OrganizationID] = access.NewViewer(v.UserID, "", &access.Membership{
			OrgID: a.OrganizationID, MembershipID: a.ID, RoleID: r.ID, RoleKey: r.Key,
			RolePermissions: r.Permissions, Grants: access.LiveGrants(a.Grants, a.GrantExpiries, now), Revokes: a.Revokes, Manages: r.Manages,
		})
	}
	for _, m := range theirs {
		actor, ok := actors[m.OrganizationID]
		if !ok || actor.CheckManage(access.MembersManage, m.ID, m.Edges.Role.Key, "") != nil {
			return errAccountNotManaged
		}
	}
	return nil
}

// ManageAccount runs an action on a member's login — its password, its
// address — that needs members.manage over the member (FORBIDDEN first) and a
// managed account (ACCOUNT_NOT_MANAGED), and records it with data.
func ManageAccount(ctx context.Context, client *ent.Client, id pulid.ID, action string, data map[string]any,
	do func(ctx context.Context, m *ent.Membership) error) (*ent.Membership, error) {
	v := access.FromContext(ctx)
	return change(ctx, client, id, audit.Event{Action: action, Data: data}, false,
		func(ctx context.Context, tx *ent.Client, m *ent.Membership) (*ent.Membership, error) {
			if err := CheckAccountManaged(ctx, tx, v, m.UserID); err != nil {
				return nil, err
			}
			return m, do(ctx, m)
		})
}

// Contact is a login's name and phone as an administrator edits them; nil
// fields stay as they are.
type Contact struct {
	FirstName, LastName, Phone *string
}

func (c Contact) empty() bool { return c.FirstName == nil && c.LastName == nil && c.Phone == nil }

// editContact changes the name and phone of a managed account's login,
// keeping every requirement of its organizations, and adds the changes to data.
func editContact(ctx context.Context, tx *ent.Client, v *access.Viewer, m *ent.Membership, c Contact, data map[string]any) error {
	if err := CheckAccountManaged(ctx, tx, v, m.UserID); err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "edit contact details")
	u, err := tx.User.Get(sys, m.UserID)
	if err != nil {
		return fmt.Errorf("staff: edit contact: %w", err)
	}
	upd := tx.User.UpdateOne(u)
	after := organization.Person{LastName: u.LastName, Phone: u.Phone}
	if c.FirstName != nil {
		name := strings.TrimSpace(*c.FirstName)
		if name == "" {
			return errcode.Input("firstName", "first name cannot be empty")
		}
		upd.SetFirstName(name)
		data["firstName"] = audit.Change(u.FirstName, name)
	}
	if c.LastName != nil {
		after.LastName = strings.TrimSpace(*c.LastName)
		upd.SetLastName(after.LastName)
		data["lastName"] = audit.Change(u.LastName, after.LastName)
	}
	if c.Phone != nil {
		after.Phone = strings.TrimSpace(*c.Phone)
		if after.Phone == "" {
			upd.ClearPhone()
		} else {
			upd.SetPhone(after.Phone)
		}
		data["phone"] = audit.Change(u.Phone, after.Phone)
	}
	required, err := organization.RequiredForLogin(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	if err := organization.CheckRequired(required, after); err != nil {
		return err
	}
	if err := upd.Exec(sys); err != nil {
		return fmt.Errorf("staff: edit contact: %w", err)
	}
	return nil
}

// lacksRequired returns whether a login lacks a field that the viewer's
// organization requires.
func lacksRequired(ctx context.Context, client *ent.Client) (func(*ent.User) bool, error) {
	required, err := organization.RequiredFields(ctx, client, access.FromContext(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	return func(u *ent.User) bool {
		return organization.Person{LastName: u.LastName, Phone: u.Phone}.Missing(required) != ""
	}, nil
}
