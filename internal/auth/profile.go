package auth

import (
	"context"
	"fmt"
	"strings"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/predicate"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/organization"
	"staffroom/internal/store"

	entsql "entgo.io/ent/dialect/sql"
)

// ProfileInput is what a user may change about themselves; nil leaves a field as it is.
type ProfileInput struct {
	FirstName, LastName, Phone *string
}

// UpdateProfile changes the viewer's own name and phone. Email and password have
// their own flows. A field that an organization of the viewer requires cannot
// be emptied (BAD_USER_INPUT naming it).
func (s *Service) UpdateProfile(ctx context.Context, v *access.Viewer, in ProfileInput) (*ent.User, error) {
	if err := s.keepRequired(ctx, v.UserID, in); err != nil {
		return nil, err
	}
	u := store.Client(ctx, s.client).User.UpdateOneID(v.UserID)
	if in.FirstName != nil {
		name := strings.TrimSpace(*in.FirstName)
		if name == "" {
			return nil, errcode.Input("firstName", "first name cannot be empty")
		}
		u.SetFirstName(name)
	}
	if in.LastName != nil {
		u.SetLastName(strings.TrimSpace(*in.LastName))
	}
	if in.Phone != nil {
		if p := strings.TrimSpace(*in.Phone); p == "" {
			u.ClearPhone()
		} else {
			u.SetPhone(p)
		}
	}
	updated, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: update profile: %w", err)
	}
	return updated, nil
}

// Memberships returns a user's active memberships in every organization (but
// those waiting for review), most
// recently used first, with their organization and role: the switcher. They
// cross organizations, which only the user's own viewer may ask for. cols
// narrows what is loaded to what the caller reads.
func (s *Service) Memberships(ctx context.Context, userID pulid.ID, cols Columns) ([]*ent.Membership, error) {
	sys := access.SystemContext(ctx, "organization switcher")
	return s.listMemberships(sys, cols, []predicate.Membership{membership.UserID(userID), grantsAccess()},
		membership.ByLastUsedAt(entsql.OrderDesc(), entsql.OrderNullsLast()), membership.OrderOption(ent.Desc(membership.FieldJoinedAt)))
}

// keepRequired refuses a profile change that empties a field one of the
// user's organizations requires.
func (s *Service) keepRequired(ctx context.Context, userID pulid.ID, in ProfileInput) error {
	if (in.Phone == nil || strings.TrimSpace(*in.Phone) != "") && (in.LastName == nil || strings.TrimSpace(*in.LastName) != "") {
		return nil
	}
	sys := access.SystemContext(ctx, "required member fields")
	c := store.Client(ctx, s.client)
	required, err := organization.RequiredForLogin(sys, c, userID)
	if err != nil || len(required) == 0 {
		return err
	}
	u, err := c.User.Get(sys, userID)
	if err != nil {
		return fmt.Errorf("auth: update profile: %w", err)
	}
	p := organization.Person{LastName: u.LastName, Phone: u.Phone}
	if in.Phone != nil {
		p.Phone = *in.Phone
	}
	if in.LastName != nil {
		p.LastName = *in.LastName
	}
	return organization.CheckRequired(required, p)
}
