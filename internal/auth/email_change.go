package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/emailchange"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	staffmail "staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/store"
)

// EmailChangeTTL is how long a link to confirm a new address stays valid.
const EmailChangeTTL = 24 * time.Hour

// emailChangesPerDay caps the links sent for one login a day: each one is an
// email to an address of the requester's choosing.
const emailChangesPerDay = 5

const emailTakenSubject = "Someone asked to move a Staffroom login to this address"

// RequestEmailChange asks to change a login's address to rawEmail, in the
// transaction of ctx: a single-use link goes to the new address, and the
// address changes only when it is followed (ConfirmEmailChange); the old
// address is told. by is the administrator's membership asking, "" when the
// person asks. When another login has the new address, nothing changes and
// that address's owner gets a notice instead of a link, so that the answer
// reveals nothing about it. Who may ask is the caller's decision.
func (s *Service) RequestEmailChange(ctx context.Context, userID pulid.ID, rawEmail string, by pulid.ID) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "request email change")
	c := s.db(sys)
	u, err := c.User.Get(sys, userID)
	if err != nil {
		return fmt.Errorf("auth: email change: %w", err)
	}
	if u.Email == email {
		return errcode.Input("email", "this is the login's address already")
	}
	now := s.now()
	recent, err := c.EmailChange.Query().
		Where(emailchange.UserID(userID), emailchange.CreatedAtGT(now.Add(-24*time.Hour))).Count(sys)
	if err != nil {
		return fmt.Errorf("auth: email change: %w", err)
	}
	if recent >= emailChangesPerDay {
		return errcode.New(errcode.RateLimited, "this login's address was asked to change %d times today; try tomorrow", emailChangesPerDay)
	}
	taken, err := c.User.Query().Where(user.Email(email)).Exist(sys)
	if err != nil {
		return fmt.Errorf("auth: email change: %w", err)
	}
	token, hash := NewOpaqueToken()
	// The row is stored even for a taken address: it counts towards the limit,
	// and its token is never sent, so it confirms nothing.
	if err := c.EmailChange.Create().
		SetUserID(userID).SetNewEmail(email).SetTokenHash(hash).SetRequestedBy(by).
		SetCreatedAt(now).SetExpiresAt(now.Add(EmailChangeTTL)).Exec(sys); err != nil {
		return fmt.Errorf("auth: email change: %w", err)
	}
	if taken {
		_, err = outbox.Enqueue(sys, c, staffmail.Message{
			To:      email,
			Subject: emailTakenSubject,
			Text: "Hello,\n\nSomeone asked to move another Staffroom login to this address, which has a login already. " +
				"Nothing changed.\n",
		}, "", string(userID))
		return err
	}
	link := strings.TrimRight(s.settings.PublicURL, "/") + "/confirm-email?token=" + token
	if _, err := outbox.Enqueue(sys, c, staffmail.Message{
		To:      email,
		Subject: "Confirm your new address for Staffroom",
		Text: fmt.Sprintf("Hello %s,\n\nYour Staffroom login is to use this address from now on. Open this link "+
			"within 24 hours to confirm it:\n\n%s\n\nUntil then your old address stays. If you did not expect this, "+
			"ignore this email and nothing changes.\n", u.FirstName, link),
	}, "", string(userID)); err != nil {
		return err
	}
	_, err = outbox.Enqueue(sys, c, staffmail.Message{
		To:      u.Email,
		Subject: "Your Staffroom address is about to change",
		Text: fmt.Sprintf("Hello %s,\n\nSomeone asked to change the address of your Staffroom login to %s. It changes "+
			"when that address confirms it. If you did not ask for this, reset your password and tell your organization.\n",
			u.FirstName, email),
	}, "", string(userID))
	return err
}

var errEmailChangeInvalid = errcode.Input("token", "the link is invalid, used or expired; ask for the change again")

// ConfirmEmailChange follows the link sent to a new address: the login's
// address becomes it (proved, since the link went there), every other link
// of the login to change its address goes void, the old address is told, and
// each organization of the login records the change. When another login took
// the address meanwhile, nothing changes.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	sys := access.SystemContext(ctx, "confirm email change")
	return store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		ec, err := tx.EmailChange.Query().Where(emailchange.TokenHash(HashToken(token))).Only(ctx)
		if ent.IsNotFound(err) {
			return errEmailChangeInvalid
		}
		if err != nil {
			return fmt.Errorf("auth: confirm email change: %w", err)
		}
		now := s.now()
		if ec.UsedAt != nil || !now.Before(ec.ExpiresAt) {
			return errEmailChangeInvalid
		}
		u, err := tx.User.Get(ctx, ec.UserID)
		if err != nil {
			return fmt.Errorf("auth: confirm email change: %w", err)
		}
		// One statement spends every link of the login: of parallel
		// confirmations, one wins.
		spent, err := tx.EmailChange.Update().Where(emailchange.UserID(ec.UserID), emailchange.UsedAtIsNil()).
			SetUsedAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("auth: confirm email change: %w", err)
		}
		if spent == 0 {
			return errEmailChangeInvalid
		}
		taken, err := tx.User.Query().Where(user.Email(ec.NewEmail)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("auth: confirm email change: %w", err)
		}
		if taken {
			return errEmailChangeInvalid
		}
		up := tx.User.UpdateOneID(u.ID).SetEmail(ec.NewEmail)
		if u.EmailVerifiedAt == nil {
			// Whoever read the old address may yet prove it and take the
			// login over; a login moved to an address it proves is proved.
			up.SetEmailVerifiedAt(now).SetEmailUnverifiedLegacy(false)
		}
		if err := up.Exec(ctx); err != nil {
			if ent.IsConstraintError(err) {
				return errEmailChangeInvalid
			}
			return fmt.Errorf("auth: confirm email change: %w", err)
		}
		if _, err := outbox.Enqueue(ctx, tx, staffmail.Message{
			To:      u.Email,
			Subject: "Your Staffroom address changed",
			Text: fmt.Sprintf("Hello %s,\n\nThe address of your Staffroom login is now %s; this address no longer "+
				"signs you in. If you did not ask for this, tell your organization at once.\n", u.FirstName, ec.NewEmail),
		}, "", string(u.ID)); err != nil {
			return err
		}
		return RecordForLogin(ctx, tx, u.ID, audit.Event{Action: "member.email_changed",
			Data: map[string]any{"email": audit.Change(u.Email, ec.NewEmail), "requestedBy": string(ec.RequestedBy)}})
	})
}

// RecordForLogin records an event about a login in every organization it
// belongs to (removed memberships aside), targeting and attributed to the
// login's membership there: a change to a login shows in each audit log.
func RecordForLogin(ctx context.Context, tx *ent.Client, userID pulid.ID, e audit.Event) error {
	sys := access.SystemContext(ctx, "audit login change")
	ms, err := tx.Membership.Query().Where(membership.UserID(userID), membership.RemovedAtIsNil()).All(sys)
	if err != nil {
		return err
	}
	for _, m := range ms {
		ev := e
		ev.TargetType, ev.TargetID = "Membership", m.ID
		if ev.Actor == "" {
			ev.Actor = m.ID
		}
		if err := audit.Record(access.NewContext(ctx, nil), tx, m.OrganizationID, ev); err != nil {
			return err
		}
	}
	return nil
}

// ChangeEmail asks to change the viewer's own address, once their password
// is checked (it counts towards the lock like any check). See RequestEmailChange.
func (s *Service) ChangeEmail(ctx context.Context, v *access.Viewer, current, newEmail string) error {
	_, err := s.CheckPassword(ctx, user.ID(v.UserID), current)
	if errcode.Is(err, errcode.InvalidCredentials) {
		return errcode.Input("currentPassword", "the current password is incorrect")
	}
	if err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "change email")
	return store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		err := s.RequestEmailChange(ctx, v.UserID, newEmail, "")
		if e, ok := errcode.As(err); ok && e.Code == errcode.BadUserInput {
			return errcode.Input("newEmail", "%s", e.Message)
		}
		if err != nil {
			return err
		}
		return RecordForLogin(ctx, tx, v.UserID, audit.Event{Action: "member.email_change_requested",
			Data: map[string]any{"email": newEmail}})
	})
}
