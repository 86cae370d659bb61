package auth

import (
	"context"
	"fmt"

	"staffroom/ent/schema/pulid"
	"staffroom/ent/session"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	staffmail "staffroom/internal/mail"
	"staffroom/internal/outbox"
)

// SetTemporaryPassword stores a password an administrator chose for a login,
// in the transaction of ctx. It is temporary: until the person chooses their
// own with ChangePassword, their sessions can do nothing else
// (PASSWORD_CHANGE_REQUIRED). Every session of the login ends, the lock is
// cleared, and the person is told by email — without the password, which the
// administrator hands over another way. Who may do this is the caller's
// decision (staff.SetPassword).
func (s *Service) SetTemporaryPassword(ctx context.Context, userID pulid.ID, password string) error {
	if err := CheckPasswordPolicy("password", password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "set temporary password")
	c := s.db(sys)
	u, err := c.User.Get(sys, userID)
	if err != nil {
		return fmt.Errorf("auth: temporary password: %w", err)
	}
	now := s.now()
	if err := c.User.UpdateOneID(userID).
		SetPasswordHash(hash).SetPasswordChangedAt(now).SetPasswordTemporary(true).
		SetFailedLogins(0).ClearLockedAt().Exec(sys); err != nil {
		return fmt.Errorf("auth: temporary password: %w", err)
	}
	if err := s.revokeSessions(sys, c, session.UserID(userID)); err != nil {
		return fmt.Errorf("auth: temporary password: %w", err)
	}
	_, err = outbox.Enqueue(sys, c, staffmail.Message{
		To:      u.Email,
		Subject: "An administrator set a new Staffroom password for you",
		Text: fmt.Sprintf("Hello %s,\n\nAn administrator of your organization set a temporary password for your "+
			"Staffroom login and signed you out everywhere. They will give it to you; at your next log-in you "+
			"choose a password of your own.\n\nIf you did not expect this, reset your password from the log-in page "+
			"and tell your organization.\n", u.FirstName),
	}, "", string(u.ID))
	return err
}

// errPasswordChangeRequired answers every field but changePassword and logOut
// for a session whose password an administrator set.
var errPasswordChangeRequired = errcode.New(errcode.PasswordChangeRequired,
	"an administrator set your password: choose your own with changePassword first")

// CheckPasswordChosen refuses, with PASSWORD_CHANGE_REQUIRED, a viewer whose
// password an administrator set and who has not chosen their own yet.
func CheckPasswordChosen(v *access.Viewer) error {
	if v != nil && v.PasswordChangeRequired {
		return errPasswordChangeRequired
	}
	return nil
}
