package auth

import (
	"context"
	"fmt"
	"strings"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/store"

	entsql "entgo.io/ent/dialect/sql"
)

// ProfileInput is what a user may change about themselves; nil leaves a field as it is.
type ProfileInput struct {
	FirstName, LastName, Phone *string
}

// UpdateProfile changes the viewer's own name and phone. Email and password have
// their own flows; nobody else can change them.
func (s *Service) UpdateProfile(ctx context.Context, v *access.Viewer, in ProfileInput) (*ent.User, error) {
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
// cross organizations, which only the user's own viewer may ask for.
func (s *Service) Memberships(ctx context.Context, userID pulid.ID) ([]*ent.Membership, error) {
	sys := access.SystemContext(ctx, "organization switcher")
	return s.client.Membership.Query().
		Where(membership.UserID(userID), grantsAccess()).
		WithOrganization().WithRole().
		Order(membership.ByLastUsedAt(entsql.OrderDesc(), entsql.OrderNullsLast()), ent.Desc(membership.FieldJoinedAt)).
		All(sys)
}
