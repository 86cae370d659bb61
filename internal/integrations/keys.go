// Package integrations lets the organization's other apps ask Staffroom who may
// do what: API keys that act as non-human viewers, the access check, and the
// permissions an organization defines for its own apps (module permissions).
package integrations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/apikey"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// MaxKeyDays bounds a key's lifetime in days when it has one.
const MaxKeyDays = 3650

// displayedChars is how much of a key's secret part its prefix shows.
const displayedChars = 8

// PersonOnly are the permissions a key never holds: their operations act as a
// person — through a role that manages others, or as the author of a message
// or invoice — and a key has neither.
var PersonOnly = []string{
	access.MembersInvite, access.MembersManage, access.MembersImport, access.RolesManage,
	access.IntegrationsManage, access.MessagesCompose, access.MessagesSend, access.MessagesApprove,
	access.InvoicesCreate, access.InvoicesRefund,
}

// KeyInput is what createAPIKey takes.
type KeyInput struct {
	Name          string
	Permissions   []string
	ExpiresInDays *int
}

// CreateKey makes an API key of the viewer's organization with a subset of the
// viewer's own permissions and returns it with its secret, which is shown this
// once and stored only hashed.
func CreateKey(ctx context.Context, client *ent.Client, in KeyInput) (*ent.APIKey, string, error) {
	v := access.FromContext(ctx)
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, "", errcode.Input("name", "a key needs a name")
	}
	perms, err := keyPermissions(ctx, client, v, in.Permissions)
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	var expires *time.Time
	if d := in.ExpiresInDays; d != nil {
		if *d < 1 || *d > MaxKeyDays {
			return nil, "", errcode.Input("expiresInDays", "a key lasts from 1 to %d days", MaxKeyDays)
		}
		t := now.AddDate(0, 0, *d)
		expires = &t
	}
	secret := newSecret()
	var key *ent.APIKey
	err = store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		create := tx.APIKey.Create().SetName(name).SetPrefix(secret[:len(auth.APIKeyPrefix)+displayedChars]).
			SetSecretHash(auth.HashToken(secret)).SetPermissions(perms).SetCreatedAt(now).SetNillableExpiresAt(expires)
		if v.MembershipID != "" {
			create.SetCreatedByID(v.MembershipID)
		}
		if key, err = create.Save(ctx); err != nil {
			return fmt.Errorf("integrations: create key: %w", err)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "apikey.created", TargetType: "APIKey", TargetID: key.ID,
			Data: map[string]any{"name": name, "permissions": perms, "expiresAt": expires}})
	})
	if err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// keyPermissions checks what a new key may hold: permissions the organization
// knows, held by the creator (no escalation), none of PersonOnly.
func keyPermissions(ctx context.Context, client *ent.Client, v *access.Viewer, perms []string) ([]string, error) {
	if len(perms) == 0 {
		return nil, errcode.Input("permissions", "a key needs at least one permission")
	}
	if err := ValidatePermissions(ctx, client, "permissions", perms); err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range perms {
		if slices.Contains(PersonOnly, p) {
			return nil, errcode.Input("permissions", "an API key cannot hold %s: it acts as a person", p)
		}
		if !v.Has(p) {
			return nil, errcode.New(errcode.Forbidden, "you can only give a key permissions you hold; you lack %s", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

func newSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("integrations: random: %v", err))
	}
	return auth.APIKeyPrefix + hex.EncodeToString(b[:])
}

// RevokeKey ends a key of the viewer's organization at once; revoking a
// revoked key changes nothing.
func RevokeKey(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.APIKey, error) {
	v := access.FromContext(ctx)
	var key *ent.APIKey
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if key, err = tx.APIKey.Get(ctx, id); err != nil {
			return err
		}
		if key.RevokedAt != nil {
			return nil
		}
		if key, err = tx.APIKey.UpdateOne(key).SetRevokedAt(time.Now()).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "apikey.revoked", TargetType: "APIKey", TargetID: key.ID,
			Data: map[string]any{"name": key.Name}})
	})
	return key, err
}

// Keys lists the organization's keys, newest first, revoked ones included.
func Keys(ctx context.Context, client *ent.Client, limit int) ([]*ent.APIKey, error) {
	return client.APIKey.Query().Order(ent.Desc(apikey.FieldID)).Limit(limit).All(ctx)
}

var errInvalidKey = errcode.New(errcode.Unauthenticated, "the API key is invalid, expired or revoked")

// Verifier returns the check of presented keys for auth's middleware: the key
// must exist, be neither revoked nor expired, and each use is counted.
func Verifier(client *ent.Client) auth.APIKeyVerifier {
	return func(ctx context.Context, secret string) (*access.Viewer, error) {
		if len(secret) > 128 || !strings.HasPrefix(secret, auth.APIKeyPrefix) {
			return nil, errInvalidKey
		}
		sys := access.SystemContext(ctx, "verify API key")
		key, err := client.APIKey.Query().Where(apikey.SecretHash(auth.HashToken(secret))).
			Select(apikey.FieldOrganizationID, apikey.FieldPermissions, apikey.FieldExpiresAt, apikey.FieldRevokedAt).Only(sys)
		if ent.IsNotFound(err) {
			return nil, errInvalidKey
		}
		if err != nil {
			return nil, fmt.Errorf("integrations: verify key: %w", err)
		}
		now := time.Now()
		if key.RevokedAt != nil || (key.ExpiresAt != nil && !now.Before(*key.ExpiresAt)) {
			return nil, errInvalidKey
		}
		if err := client.APIKey.UpdateOneID(key.ID).AddUseCount(1).SetLastUsedAt(now).Exec(sys); err != nil {
			return nil, fmt.Errorf("integrations: count key use: %w", err)
		}
		return access.NewKeyViewer(key.ID, key.OrganizationID, key.Permissions), nil
	}
}

// ErrPersonOnly refuses an API key an operation on a person's own login,
// session or membership.
var ErrPersonOnly = errcode.New(errcode.PersonOnly, "an API key is not a person: this operation acts on the caller's own login, session or membership")

// ActiveKeys lists the keys that work — neither revoked nor expired — oldest
// first, for the access review.
func ActiveKeys(ctx context.Context, client *ent.Client, limit int) ([]*ent.APIKey, error) {
	return client.APIKey.Query().
		Where(apikey.RevokedAtIsNil(), apikey.Or(apikey.ExpiresAtIsNil(), apikey.ExpiresAtGT(time.Now()))).
		Order(ent.Asc(apikey.FieldID)).Limit(limit).All(ctx)
}
