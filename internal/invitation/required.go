package invitation

import (
	"context"
	"fmt"
	"strings"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/organization"
)

// checkInvitee holds an invitation to the fields the organization requires
// of its members: the invitation carries the person's details.
func checkInvitee(ctx context.Context, tx *ent.Client, org pulid.ID, in Input) error {
	p := organization.Person{LastName: in.LastName}
	if in.Phone != nil {
		p.Phone = *in.Phone
	}
	return organization.CheckRequiredIn(ctx, tx, org, p)
}

// completeAccepter holds the person accepting to the fields the organization
// requires. A login that lacks one may give it when accepting: it is their
// own login (they signed in, proved its password or created it), so it is
// stored on it; otherwise the acceptance fails with BAD_USER_INPUT naming it.
func completeAccepter(ctx context.Context, tx *ent.Client, inv *ent.Invitation, u *ent.User, in AcceptInput) error {
	required, err := organization.RequiredFields(ctx, tx, inv.OrganizationID)
	if err != nil || len(required) == 0 {
		return err
	}
	p := organization.Person{LastName: u.LastName, Phone: u.Phone}
	upd := tx.User.UpdateOneID(u.ID)
	changed := false
	if strings.TrimSpace(p.Phone) == "" && in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
		p.Phone = strings.TrimSpace(*in.Phone)
		upd.SetPhone(p.Phone)
		changed = true
	}
	if strings.TrimSpace(p.LastName) == "" && in.LastName != nil && strings.TrimSpace(*in.LastName) != "" {
		p.LastName = strings.TrimSpace(*in.LastName)
		upd.SetLastName(p.LastName)
		changed = true
	}
	if err := organization.CheckRequired(required, p); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	if err := upd.Exec(access.SystemContext(ctx, "complete accepter")); err != nil {
		return fmt.Errorf("invitation: complete accepter: %w", err)
	}
	return nil
}
