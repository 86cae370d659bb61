package messaging

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/messagingsetting"
	"staffroom/ent/outboxemail"
	"staffroom/ent/phoneverification"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store"
)

// The rules of phone codes.
const (
	PhoneCodeTTL         = 10 * time.Minute
	PhoneCodeAttempts    = 5
	PhoneCodesPerHour    = 3  // for one person
	PhoneCodesPerHourIP  = 10 // from one address, whoever asks
	phoneCodeDigits      = 6
	phoneRateLimitWindow = time.Hour
)

// RequestPhoneVerification texts a new code to the viewer's mobile number
// through the outbox. Earlier codes stop working.
func RequestPhoneVerification(ctx context.Context, client *ent.Client) error {
	v := access.FromContext(ctx)
	if v == nil {
		return errcode.ErrUnauthenticated
	}
	sys := access.SystemContext(ctx, "phone verification")
	c := store.Client(ctx, client)
	u, err := c.User.Get(sys, v.UserID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(u.Phone) == "" {
		return errcode.Input("phone", "add a mobile number to your profile first")
	}
	ip := requestmeta.FromContext(ctx).IP
	since := time.Now().UTC().Add(-phoneRateLimitWindow)
	mine, err := c.PhoneVerification.Query().Where(phoneverification.UserID(u.ID), phoneverification.CreatedAtGT(since)).Count(sys)
	if err != nil {
		return err
	}
	fromIP := 0
	if ip != "" {
		if fromIP, err = c.PhoneVerification.Query().Where(phoneverification.IP(ip), phoneverification.CreatedAtGT(since)).Count(sys); err != nil {
			return err
		}
	}
	if mine >= PhoneCodesPerHour || fromIP >= PhoneCodesPerHourIP {
		return errcode.New(errcode.RateLimited, "too many codes requested; wait an hour and try again")
	}
	code, err := newPhoneCode()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	id := pulid.New(pulid.PhoneVerificationPrefix)
	if err := c.PhoneVerification.Create().SetID(id).SetUserID(u.ID).SetPhone(u.Phone).
		SetCodeHash(hashPhoneCode(id, code)).SetIP(ip).SetCreatedAt(now).SetExpiresAt(now.Add(PhoneCodeTTL)).
		Exec(sys); err != nil {
		return err
	}
	_, err = outbox.EnqueueAll(ctx, client, "", []outbox.Item{{Channel: outboxemail.ChannelSMS, SubjectID: string(id),
		Message: mail.Message{To: u.Phone, Text: fmt.Sprintf("Your Staffroom code is %s. It expires in 10 minutes.", code)}}})
	return err
}

// ConfirmPhoneVerification proves the viewer's current mobile number with the
// newest code sent to it. Each wrong guess counts in its own statement, so the
// caller's failure cannot undo it; it must run outside any transaction.
func ConfirmPhoneVerification(ctx context.Context, client *ent.Client, code string) error {
	v := access.FromContext(ctx)
	if v == nil {
		return errcode.ErrUnauthenticated
	}
	if ent.TxFromContext(ctx) != nil {
		return fmt.Errorf("messaging: a phone code is checked outside any transaction, so that failures stay counted")
	}
	sys := access.SystemContext(ctx, "phone verification")
	u, err := client.User.Get(sys, v.UserID)
	if err != nil {
		return err
	}
	row, err := client.PhoneVerification.Query().
		Where(phoneverification.UserID(u.ID), phoneverification.Phone(u.Phone), phoneverification.VerifiedAtIsNil()).
		Order(ent.Desc(phoneverification.FieldCreatedAt)).First(sys)
	invalid := errcode.Input("code", "the code is wrong, expired or used up; request a new one")
	if ent.IsNotFound(err) {
		return invalid
	}
	if err != nil {
		return err
	}
	if row.ExpiresAt.Before(time.Now()) || row.Attempts >= PhoneCodeAttempts {
		return invalid
	}
	// Count the attempt first: parallel guesses cannot exceed the limit.
	n, err := client.PhoneVerification.Update().
		Where(phoneverification.ID(row.ID), phoneverification.AttemptsLT(PhoneCodeAttempts), phoneverification.VerifiedAtIsNil()).
		AddAttempts(1).Save(sys)
	if err != nil {
		return err
	}
	if n == 0 || subtle.ConstantTimeCompare([]byte(hashPhoneCode(row.ID, strings.TrimSpace(code))), []byte(row.CodeHash)) != 1 {
		return invalid
	}
	return client.PhoneVerification.UpdateOneID(row.ID).SetVerifiedAt(time.Now().UTC()).Exec(sys)
}

// VerifiedPhones reports which of the users proved their current mobile
// number. Phones are read here: a user loaded for a query may lack the column.
func VerifiedPhones(ctx context.Context, client *ent.Client, ids []pulid.ID) (map[pulid.ID]bool, error) {
	out := map[pulid.ID]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	sys := access.SystemContext(ctx, "verified phones")
	c := store.Client(ctx, client)
	users, err := c.User.Query().Where(user.IDIn(ids...), user.PhoneNEQ("")).Select(user.FieldID, user.FieldPhone).All(sys)
	if err != nil || len(users) == 0 {
		return out, err
	}
	phone := map[pulid.ID]string{}
	withPhone := make([]pulid.ID, 0, len(users))
	for _, u := range users {
		phone[u.ID] = u.Phone
		withPhone = append(withPhone, u.ID)
	}
	rows, err := c.PhoneVerification.Query().
		Where(phoneverification.UserIDIn(withPhone...), phoneverification.VerifiedAtNotNil()).
		Select(phoneverification.FieldUserID, phoneverification.FieldPhone).All(sys)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if phone[r.UserID] == r.Phone {
			out[r.UserID] = true
		}
	}
	return out, nil
}

// Settings returns an organization's messaging settings, the defaults when it
// has none.
func Settings(ctx context.Context, client *ent.Client, org pulid.ID) (*ent.MessagingSetting, error) {
	s, err := store.Client(ctx, client).MessagingSetting.Query().Where(messagingsetting.OrganizationID(org)).Only(ctx)
	if ent.IsNotFound(err) {
		return &ent.MessagingSetting{OrganizationID: org}, nil
	}
	return s, err
}

// UpdateSettings changes the active organization's messaging settings, with
// the audit event.
func UpdateSettings(ctx context.Context, client *ent.Client, requireVerifiedPhone *bool) (*ent.MessagingSetting, error) {
	v := access.FromContext(ctx)
	var out *ent.MessagingSetting
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		cur, err := Settings(ctx, tx, v.OrgID)
		if err != nil {
			return err
		}
		next := cur.RequireVerifiedPhone
		if requireVerifiedPhone != nil {
			next = *requireVerifiedPhone
		}
		if cur.ID == "" {
			out, err = tx.MessagingSetting.Create().SetRequireVerifiedPhone(next).Save(ctx)
		} else {
			out, err = tx.MessagingSetting.UpdateOne(cur).SetRequireVerifiedPhone(next).Save(ctx)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{
			Action: "messaging.settings_changed", TargetType: "Organization", TargetID: v.OrgID,
			Data: map[string]any{"requireVerifiedPhone": audit.Change(cur.RequireVerifiedPhone, next)},
		})
	})
	return out, err
}

func newPhoneCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("messaging: code: %w", err)
	}
	return fmt.Sprintf("%0*d", phoneCodeDigits, n.Int64()), nil
}

func hashPhoneCode(id pulid.ID, code string) string {
	sum := sha256.Sum256([]byte(string(id) + ":" + code))
	return hex.EncodeToString(sum[:])
}
