package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/passwordreset"
	"staffroom/ent/predicate"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/session"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	staffmail "staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store"
)

// Settings of the session lifecycle.
type Settings struct {
	RefreshIdleTTL     time.Duration
	RefreshAbsoluteTTL time.Duration
	// LockoutDuration is how long 3 failed logins lock an account; 0 locks until
	// an administrator unlocks it or the password is reset.
	LockoutDuration time.Duration
	ResetTTL        time.Duration
	// ReuseGrace is how long a rotated refresh token may still be presented (by a
	// client racing itself) before reuse revokes the whole family.
	ReuseGrace time.Duration
	PublicURL  string
	// PasswordChecks limits the passwords one client address may have checked
	// a minute (shared by every replica on PostgreSQL); when nil, an
	// in-process limit of PasswordChecksPerMinute, where 0 turns it off.
	PasswordChecks          RateLimiter
	PasswordChecksPerMinute int
	// Dialect is the database's ("sqlite3" or "postgres"), for the one hand-built
	// query: loading the viewer.
	Dialect string
}

// MaxFailedLogins is the number of consecutive failed logins that lock an account.
const MaxFailedLogins = 3

// Service runs the identity operations: sign-up, log-in, refresh, switching
// organizations, password changes and resets.
type Service struct {
	client   *ent.Client
	tokens   *Tokens
	settings Settings
	log      *slog.Logger
	now      func() time.Time
	// passwordChecks limits password checks per client address, apart from
	// the limit on session mutations, so that a path without that limit still
	// has this one.
	passwordChecks RateLimiter
	// apiKeys checks the Bearer tokens that carry APIKeyPrefix (VerifyAPIKeysWith).
	apiKeys APIKeyVerifier
}

// NewService returns the identity service.
func NewService(client *ent.Client, tokens *Tokens, s Settings, log *slog.Logger) *Service {
	if s.ResetTTL == 0 {
		s.ResetTTL = 30 * time.Minute
	}
	if s.ReuseGrace == 0 {
		s.ReuseGrace = 10 * time.Second
	}
	if s.PasswordChecks == nil {
		s.PasswordChecks = NewRateLimiter(s.PasswordChecksPerMinute)
	}
	return &Service{client: client, tokens: tokens, settings: s, log: log, now: time.Now,
		passwordChecks: s.PasswordChecks}
}

// Tokens returns the access token issuer and verifier.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Session is what a successful sign-in returns: the tokens and whose they are.
type Session struct {
	AccessToken          string
	RefreshToken         string
	AccessTokenExpiresAt time.Time
	Viewer               *access.Viewer
	// PasswordChangeRequired: an administrator set the password, and the
	// session may only change it (see CheckPasswordChosen).
	PasswordChangeRequired bool
}

var errInvalidCredentials = errcode.New(errcode.InvalidCredentials, "the email or password is incorrect")

// NormalizeEmail trims and lower-cases an email address and checks its form.
func NormalizeEmail(raw string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", errcode.Input("email", "%q is not a valid email address", raw)
	}
	return email, nil
}

// SignUpInput is a new login.
type SignUpInput struct {
	Email, Password, FirstName, LastName string
	Phone                                *string
}

// LogIn checks a password and signs the user in to organizationID, or to the
// organization they used most recently.
func (s *Service) LogIn(ctx context.Context, rawEmail, password string, organizationID pulid.ID) (*Session, error) {
	email := strings.ToLower(strings.TrimSpace(rawEmail))
	u, err := s.CheckPassword(ctx, user.Email(email), password)
	if err != nil {
		return nil, err
	}
	sys := access.SystemContext(ctx, "log in")
	org, err := s.chooseOrganization(sys, u.ID, organizationID)
	if err != nil {
		return nil, err
	}
	return s.startSession(sys, u.ID, org, "", time.Time{})
}

// errPasswordInTx refuses a check inside a transaction: a failure counted there
// would roll back with the caller's work (and SQLite would wait on its own lock).
var errPasswordInTx = errors.New("auth: a password is checked outside any transaction, so that failures stay counted")

// CheckPassword is the one check of a password: logging in, accepting an
// invitation with an existing login and changing the password all go through
// it, so that none skips the per-address limit, the lock or the count of
// failures. It returns the user the predicate names when password is theirs,
// or RATE_LIMITED, ACCOUNT_LOCKED or INVALID_CREDENTIALS. Each answer costs one
// password hash, whether the account exists, is locked or not. Failed attempts
// are counted before the password is checked, in their own statements, so that
// parallel guesses cannot exceed the limit and a caller's rollback cannot undo
// them.
func (s *Service) CheckPassword(ctx context.Context, who predicate.User, password string) (*ent.User, error) {
	if ent.TxFromContext(ctx) != nil {
		return nil, errPasswordInTx
	}
	if err := s.passwordChecks.Allow(ctx, requestmeta.FromContext(ctx).IP); err != nil {
		return nil, err
	}
	sys := access.SystemContext(ctx, "check password")
	u, err := s.client.User.Query().Where(who).Only(sys)
	if ent.IsNotFound(err) {
		if err := verifyDummyPassword(ctx, password); err != nil {
			return nil, err
		}
		return nil, errInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("auth: check password: %w", err)
	}
	// Once an attempt is claimed, its outcome is recorded even if the client
	// goes away: a claim left counted would lock the login out for nothing.
	sys = context.WithoutCancel(sys)
	if err := s.claimAttempt(sys, u); err != nil {
		if errcode.Is(err, errcode.AccountLocked) {
			// Hash all the same, so that a locked account answers no sooner
			// than an open one.
			if err := verifyDummyPassword(ctx, password); err != nil {
				return nil, err
			}
		}
		return nil, err
	}
	ok, err := verifyPassword(ctx, u.PasswordHash, password)
	if err != nil && !errors.Is(err, ErrMalformedHash) {
		// The client went away (or the request timed out) while the check
		// waited for its turn to hash: no password was checked, so the claim
		// is given back rather than counted as a failure.
		if err := s.releaseAttempt(sys, u.ID); err != nil {
			return nil, err
		}
		return nil, err
	}
	if err != nil || !ok {
		if err := s.recordFailure(sys, u.ID); err != nil {
			return nil, err
		}
		return nil, errInvalidCredentials
	}
	if err := s.client.User.UpdateOneID(u.ID).SetFailedLogins(0).ClearLockedAt().Exec(sys); err != nil {
		return nil, fmt.Errorf("auth: check password: %w", err)
	}
	return u, nil
}

// claimAttempt counts a login attempt, refusing it when the account is locked.
// The condition and the increment are one statement, so the database serializes
// parallel attempts: at most MaxFailedLogins of them get to check a password.
func (s *Service) claimAttempt(ctx context.Context, u *ent.User) error {
	if u.LockedAt != nil && s.lockExpired(*u.LockedAt) {
		// The lock ran out: start counting afresh (only if nobody did already).
		if err := s.client.User.Update().
			Where(user.ID(u.ID), user.LockedAt(*u.LockedAt)).
			SetFailedLogins(0).ClearLockedAt().Exec(ctx); err != nil {
			return fmt.Errorf("auth: unlock expired: %w", err)
		}
	}
	n, err := s.client.User.Update().
		Where(user.ID(u.ID), user.FailedLoginsLT(MaxFailedLogins), user.LockedAtIsNil()).
		AddFailedLogins(1).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("auth: count attempt: %w", err)
	}
	if n == 0 {
		locked, err := s.client.User.Query().Where(user.ID(u.ID), user.LockedAtNotNil()).Exist(ctx)
		if err != nil {
			return fmt.Errorf("auth: count attempt: %w", err)
		}
		if !locked {
			// Not locked: other checks of this login's password are running.
			return errcode.New(errcode.RateLimited, "too many password checks for this login at the same moment; try again in a few seconds")
		}
		return errcode.New(errcode.AccountLocked, "this account is locked after too many failed logins; reset the password or ask an administrator to unlock it")
	}
	return nil
}

func (s *Service) lockExpired(lockedAt time.Time) bool {
	return s.settings.LockoutDuration > 0 && s.now().After(lockedAt.Add(s.settings.LockoutDuration))
}

// releaseAttempt gives back an attempt claimed by claimAttempt whose password
// was never checked. A claim left counted would, at the limit and without a
// lock, refuse every later attempt as busy.
func (s *Service) releaseAttempt(ctx context.Context, id pulid.ID) error {
	err := s.client.User.Update().
		Where(user.ID(id), user.FailedLoginsGT(0), user.LockedAtIsNil()).
		AddFailedLogins(-1).Exec(ctx)
	if err != nil {
		return fmt.Errorf("auth: release attempt: %w", err)
	}
	return nil
}

// recordFailure locks the account once the claimed attempts reach the limit.
func (s *Service) recordFailure(ctx context.Context, id pulid.ID) error {
	err := s.client.User.Update().
		Where(user.ID(id), user.FailedLoginsGTE(MaxFailedLogins), user.LockedAtIsNil()).
		SetLockedAt(s.now()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("auth: lock: %w", err)
	}
	return nil
}

// Unlock clears a user's login lock. It touches only the lock: never the password
// or the email (docs/authorization.md rule 10).
func (s *Service) Unlock(ctx context.Context, userID pulid.ID) error {
	sys := access.SystemContext(ctx, "unlock")
	return s.db(sys).User.UpdateOneID(userID).SetFailedLogins(0).ClearLockedAt().Exec(sys)
}

// db returns the client of the transaction in ctx: administrators' mutations
// (unlock, password reset emails) run inside one.
func (s *Service) db(ctx context.Context) *ent.Client { return store.Client(ctx, s.client) }

// Locked reports whether a user is locked out now.
func (s *Service) Locked(u *ent.User) bool {
	if u.LockedAt != nil {
		return !s.lockExpired(*u.LockedAt)
	}
	return u.FailedLogins >= MaxFailedLogins
}

// chooseOrganization returns the organization a new session opens: the one asked
// for, which needs an active membership, or else the most recently used one.
func (s *Service) chooseOrganization(ctx context.Context, userID, wanted pulid.ID) (pulid.ID, error) {
	q := s.client.Membership.Query().Where(membership.UserID(userID), grantsAccess())
	if wanted != "" {
		m, err := q.Where(membership.OrganizationID(wanted)).Only(ctx)
		if ent.IsNotFound(err) {
			return "", errcode.New(errcode.Forbidden, "you are not an active member of that organization")
		}
		if err != nil {
			return "", fmt.Errorf("auth: choose organization: %w", err)
		}
		return m.OrganizationID, s.touchMembership(ctx, m.ID)
	}
	m, err := q.Order(membership.ByLastUsedAt(sql.OrderDesc(), sql.OrderNullsLast()), ent.Desc(membership.FieldJoinedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("auth: choose organization: %w", err)
	}
	return m.OrganizationID, s.touchMembership(ctx, m.ID)
}

func (s *Service) touchMembership(ctx context.Context, id pulid.ID) error {
	return s.client.Membership.UpdateOneID(id).SetLastUsedAt(s.now()).Exec(ctx)
}

// SignIn starts a new login for a user who proved themselves another way
// (accepting an invitation), in an organization where they are active.
func (s *Service) SignIn(ctx context.Context, userID, org pulid.ID) (*Session, error) {
	sys := access.SystemContext(ctx, "sign in")
	chosen, err := s.chooseOrganization(sys, userID, org)
	if err != nil {
		return nil, err
	}
	return s.startSession(sys, userID, chosen, "", time.Time{})
}

// startSession creates a refresh token (a new family unless one is given) and an
// access token scoped to org.
func (s *Service) startSession(ctx context.Context, userID, org, family pulid.ID, familyStart time.Time) (*Session, error) {
	sessionID, refresh, err := s.createSession(ctx, s.client, userID, org, family, familyStart)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, userID, org, sessionID, refresh)
}

// createSession writes a refresh session through c and returns its id and token.
func (s *Service) createSession(ctx context.Context, c *ent.Client, userID, org, family pulid.ID, familyStart time.Time) (pulid.ID, string, error) {
	now := s.now()
	if family == "" {
		family, familyStart = pulid.New(pulid.SessionPrefix), now
	}
	refresh, hash := NewOpaqueToken()
	expires := now.Add(s.settings.RefreshIdleTTL)
	if absolute := familyStart.Add(s.settings.RefreshAbsoluteTTL); absolute.Before(expires) {
		expires = absolute
	}
	meta := requestmeta.FromContext(ctx)
	create := c.Session.Create().
		SetUserID(userID).SetFamilyID(family).SetTokenHash(hash).
		SetCreatedAt(now).SetFamilyStartedAt(familyStart).SetExpiresAt(expires).
		SetIP(meta.IP).SetUserAgent(truncate(meta.UserAgent, 512))
	if org != "" {
		create.SetOrganizationID(org)
	}
	sess, err := create.Save(ctx)
	if err != nil {
		return "", "", fmt.Errorf("auth: start session: %w", err)
	}
	return sess.ID, refresh, nil
}

// rotate ends sess in favour of a successor in its family, scoped to org, in
// one transaction that holds sess's row from its check to the successor's
// commit: a revocation of the family on any replica either comes first (and
// the rotation is refused) or waits on that row and then finds the successor
// (revokeSessions). keepRotatedAt is the time sess was rotated already, for a
// client racing itself within the grace period; zero rotates it now, only
// once. It reports false when sess is revoked, or (without keepRotatedAt)
// rotated already.
func (s *Service) rotate(ctx context.Context, sess *ent.Session, org pulid.ID, keepRotatedAt time.Time) (*Session, bool, error) {
	var id pulid.ID
	var refresh string
	err := store.InTx(ctx, s.client, func(ctx context.Context, tx *ent.Client) error {
		upd := tx.Session.Update().Where(session.ID(sess.ID), session.RevokedAtIsNil())
		if keepRotatedAt.IsZero() {
			upd.Where(session.RotatedAtIsNil()).SetRotatedAt(s.now())
		} else {
			upd.SetRotatedAt(keepRotatedAt)
		}
		n, err := upd.Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		id, refresh, err = s.createSession(ctx, tx, sess.UserID, org, sess.FamilyID, sess.FamilyStartedAt)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("auth: rotate session: %w", err)
	}
	if id == "" {
		return nil, false, nil
	}
	next, err := s.issue(ctx, sess.UserID, org, id, refresh)
	return next, err == nil, err
}

func (s *Service) issue(ctx context.Context, userID, org, sessionID pulid.ID, refresh string) (*Session, error) {
	token, exp, err := s.tokens.Issue(userID, org, sessionID)
	if err != nil {
		return nil, fmt.Errorf("auth: issue token: %w", err)
	}
	v, err := s.LoadViewer(ctx, userID, org, sessionID)
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: token, RefreshToken: refresh, AccessTokenExpiresAt: exp, Viewer: v,
		PasswordChangeRequired: v.PasswordChangeRequired}, nil
}

// Refresh exchanges a refresh token for a new pair. Each token is used once: a
// token presented again after the grace period means it was stolen or leaked, so
// the whole family is revoked. Every step is decided by the database, so that
// replicas agree: one presentation wins the rotation, and a revocation is
// never outrun by a successor (rotate).
func (s *Service) Refresh(ctx context.Context, token string) (*Session, error) {
	sys := access.SystemContext(ctx, "refresh")
	invalid := errcode.New(errcode.Unauthenticated, "the refresh token is invalid or expired; log in again")
	sess, err := s.client.Session.Query().Where(session.TokenHash(HashToken(token))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: refresh: %w", err)
	}
	now := s.now()
	if sess.RevokedAt != nil || now.After(sess.ExpiresAt) {
		return nil, invalid
	}
	next, ok, err := s.rotate(sys, sess, sess.OrganizationID, time.Time{})
	if err != nil || ok {
		return next, err
	}
	rotated, err := s.client.Session.Get(sys, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: refresh: %w", err)
	}
	if rotated.RevokedAt != nil {
		return nil, invalid
	}
	if rotated.RotatedAt == nil || now.Sub(*rotated.RotatedAt) > s.settings.ReuseGrace {
		s.log.WarnContext(ctx, "refresh token reused; revoking its family", "family", sess.FamilyID, "user", sess.UserID)
		if err := s.revokeSessions(sys, s.client, session.FamilyID(sess.FamilyID)); err != nil {
			return nil, err
		}
		return nil, invalid
	}
	// A client racing itself within the grace period gets a successor too.
	next, ok, err = s.rotate(sys, sess, sess.OrganizationID, *rotated.RotatedAt)
	if err == nil && !ok {
		return nil, invalid
	}
	return next, err
}

// maxRevocationPasses bounds revokeSessions; each pass after the first finds
// only the successors of rotations that were in flight during the one before.
const maxRevocationPasses = 10

// revokeSessions revokes the live sessions that match where, through c (a
// transaction's client or the base one). A rotation in flight holds its old
// session's row until its successor is written (rotate): an update waits for
// that row, but on PostgreSQL does not see rows committed after it began, so
// passes repeat until one finds nothing left to revoke.
func (s *Service) revokeSessions(ctx context.Context, c *ent.Client, where ...predicate.Session) error {
	where = append(where, session.RevokedAtIsNil())
	for range maxRevocationPasses {
		n, err := c.Session.Update().Where(where...).SetRevokedAt(s.now()).Save(ctx)
		if err != nil {
			return fmt.Errorf("auth: revoke sessions: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// LogOut revokes the family of the viewer's session.
func (s *Service) LogOut(ctx context.Context, v *access.Viewer) error {
	sys := access.SystemContext(ctx, "log out")
	sess, err := s.client.Session.Get(sys, v.SessionID)
	if err != nil {
		return fmt.Errorf("auth: log out: %w", err)
	}
	return s.revokeSessions(sys, s.client, session.FamilyID(sess.FamilyID))
}

// SwitchOrganization rotates the viewer's session to another organization in
// which they hold an active membership.
func (s *Service) SwitchOrganization(ctx context.Context, v *access.Viewer, org pulid.ID) (*Session, error) {
	sys := access.SystemContext(ctx, "switch organization")
	chosen, err := s.chooseOrganization(sys, v.UserID, org)
	if err != nil {
		return nil, err
	}
	sess, err := s.client.Session.Get(sys, v.SessionID)
	if err != nil {
		return nil, fmt.Errorf("auth: switch: %w", err)
	}
	// The session may have been rotated by a refresh already; it stays
	// rotated since then.
	keep := s.now()
	if sess.RotatedAt != nil {
		keep = *sess.RotatedAt
	}
	next, ok, err := s.rotate(sys, sess, chosen, keep)
	if err == nil && !ok {
		return nil, errSessionEnded
	}
	return next, err
}

// ChangePassword checks the current password (a wrong one counts towards the
// lock), sets a new one and revokes every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, v *access.Viewer, current, next string) error {
	_, err := s.CheckPassword(ctx, user.ID(v.UserID), current)
	if errcode.Is(err, errcode.InvalidCredentials) {
		return errcode.Input("currentPassword", "the current password is incorrect")
	}
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy("newPassword", next); err != nil {
		return err
	}
	sys := access.SystemContext(ctx, "change password")
	sess, err := s.client.Session.Get(sys, v.SessionID)
	if err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	return s.setPassword(sys, v.UserID, next, sess.FamilyID)
}

// setPassword stores a new password, clears the lock, and revokes every session
// of the user but the family kept (none when keep is empty).
func (s *Service) setPassword(ctx context.Context, userID pulid.ID, password string, keep pulid.ID) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.storePassword(ctx, s.client, userID, hash, keep)
}

func (s *Service) storePassword(ctx context.Context, c *ent.Client, userID pulid.ID, hash string, keep pulid.ID) error {
	err := c.User.UpdateOneID(userID).
		SetPasswordHash(hash).SetPasswordChangedAt(s.now()).SetPasswordTemporary(false).
		SetFailedLogins(0).ClearLockedAt().Exec(ctx)
	if err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	if keep != "" {
		return s.revokeSessions(ctx, c, session.UserID(userID), session.FamilyIDNEQ(keep))
	}
	return s.revokeSessions(ctx, c, session.UserID(userID))
}

// RequestPasswordReset emails a single-use reset link when the address belongs
// to a user. It answers the same whether or not it does.
func (s *Service) RequestPasswordReset(ctx context.Context, rawEmail string) error {
	sys := access.SystemContext(ctx, "request password reset")
	email := strings.ToLower(strings.TrimSpace(rawEmail))
	// The login's row is held while the recent requests are counted and the
	// new one written, so that parallel requests, on any replica, are counted
	// one after the other.
	err := store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		u, err := s.lockUser(tx.User.Query().Where(user.Email(email))).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		// Anyone may ask for anyone's reset: a few an hour, one a minute, reach
		// the address; beyond that the answer is the same and nothing is sent,
		// so that nobody fills another person's mailbox.
		now := s.now()
		recent, err := tx.PasswordReset.Query().
			Where(passwordreset.UserID(u.ID), passwordreset.CreatedAtGT(now.Add(-time.Hour))).
			Order(ent.Desc(passwordreset.FieldCreatedAt)).All(ctx)
		if err != nil {
			return err
		}
		if len(recent) >= resetsPerHour || (len(recent) > 0 && now.Sub(recent[0].CreatedAt) < time.Minute) {
			return nil
		}
		return s.SendPasswordReset(ctx, u.ID)
	})
	if err != nil {
		return fmt.Errorf("auth: password reset: %w", err)
	}
	return nil
}

// lockUser makes q hold the rows it reads until the transaction ends, on
// PostgreSQL. SQLite has no row locks; its transactions hold the database's
// write lock from their start (see store), which serializes them as well.
func (s *Service) lockUser(q *ent.UserQuery) *ent.UserQuery {
	if s.settings.Dialect == dialect.Postgres {
		q.ForUpdate()
	}
	return q
}

// resetsPerHour bounds the reset emails that requests send to one address.
const resetsPerHour = 5

// SendPasswordReset emails a user a reset link: for the user themselves, or
// triggered by an administrator, who never learns the token.
func (s *Service) SendPasswordReset(ctx context.Context, userID pulid.ID) error {
	sys := access.SystemContext(ctx, "send password reset")
	u, err := s.db(sys).User.Get(sys, userID)
	if err != nil {
		return fmt.Errorf("auth: password reset: %w", err)
	}
	token, hash := NewOpaqueToken()
	now := s.now()
	if err := s.db(sys).PasswordReset.Create().
		SetUserID(u.ID).SetTokenHash(hash).SetCreatedAt(now).SetExpiresAt(now.Add(s.settings.ResetTTL)).
		Exec(sys); err != nil {
		return fmt.Errorf("auth: password reset: %w", err)
	}
	link := strings.TrimRight(s.settings.PublicURL, "/") + "/reset-password?token=" + token
	// Queued, not sent: the answer takes the same time whether or not the address
	// has an account, and a slow mail server delays nobody.
	_, err = outbox.Enqueue(sys, s.db(sys), staffmail.Message{
		To:      u.Email,
		Subject: "Reset your Staffroom password",
		Text: fmt.Sprintf("Hello %s,\n\nOpen this link within %d minutes to choose a new password:\n\n%s\n\n"+
			"If you did not ask for this, ignore this email; your password stays as it is.\n",
			u.FirstName, int(s.settings.ResetTTL.Minutes()), link),
	}, "", string(u.ID))
	return err
}

// ResetPassword sets a new password with a reset token, unlocks the account,
// revokes every session and signs the user in. The link went to the address, so
// it proves it: an unverified login passes to whoever resets it (ProveAddress).
func (s *Service) ResetPassword(ctx context.Context, token, password string) (*Session, error) {
	sys := access.SystemContext(ctx, "reset password")
	invalid := errcode.Input("token", "the reset link is invalid or has expired; ask for a new one")
	if err := CheckPasswordPolicy("newPassword", password); err != nil {
		return nil, err
	}
	reset, err := s.client.PasswordReset.Query().Where(passwordreset.TokenHash(HashToken(token))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: reset: %w", err)
	}
	if s.now().After(reset.ExpiresAt) {
		return nil, invalid
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	err = store.InTx(sys, s.client, func(ctx context.Context, tx *ent.Client) error {
		used, err := tx.PasswordReset.Update().
			Where(passwordreset.ID(reset.ID), passwordreset.UsedAtIsNil()).
			SetUsedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		if used == 0 {
			return invalid
		}
		proved, err := s.ProveAddress(ctx, tx, reset.UserID, Proof{How: "password reset", hash: hash})
		if err != nil || proved {
			return err
		}
		return s.storePassword(ctx, tx, reset.UserID, hash, "")
	})
	if err != nil {
		return nil, err
	}
	org, err := s.chooseOrganization(sys, reset.UserID, "")
	if err != nil {
		return nil, err
	}
	return s.startSession(sys, reset.UserID, org, "", time.Time{})
}

// NewOpaqueToken returns a 256-bit random token and the SHA-256 that is stored;
// refresh sessions, password resets and invitations use it.
func NewOpaqueToken() (string, []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("auth: random: %v", err))
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the stored form of an opaque token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
