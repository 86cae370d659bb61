// Package pulid provides prefixed ULID identifiers: a short type prefix such as
// "usr_" followed by a ULID, so that ids sort by creation time, cannot be
// enumerated, and name the type of the entity they identify.
package pulid

import (
	"crypto/rand"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID is a prefixed ULID.
type ID string

// The prefixes of every entity, and the tables they live in.
const (
	UserPrefix          = "usr_"
	OrganizationPrefix  = "org_"
	MembershipPrefix    = "mem_"
	RolePrefix          = "rol_"
	GroupPrefix         = "grp_"
	InvitationPrefix    = "inv_"
	MessagePrefix       = "msg_"
	InvoicePrefix       = "ivc_"
	AuditEventPrefix    = "aud_"
	SessionPrefix       = "ses_"
	PasswordResetPrefix = "pwr_"
	OutboxEmailPrefix   = "eml_"
	// EmailVerificationPrefix names the sign-up verification links.
	EmailVerificationPrefix = "evf_"
	// DeliveryPrefix names one person's copy of a message.
	DeliveryPrefix = "dlv_"
	// MessageTemplatePrefix names an organization's message templates.
	MessageTemplatePrefix = "tpl_"
	// PhoneVerificationPrefix names the codes texted to prove a mobile number.
	PhoneVerificationPrefix = "phv_"
	// MessagingSettingPrefix names an organization's messaging settings.
	MessagingSettingPrefix = "mst_"
	// APIKeyPrefix names an organization's API keys.
	APIKeyPrefix = "key_"
	// ModulePermissionPrefix names the permissions an organization defines for its apps.
	ModulePermissionPrefix = "mpm_"
	// EmailChangePrefix names the links that confirm a login's new address.
	EmailChangePrefix = "ecg_"
	// RateLimitWindowPrefix names the rate limit counters kept in PostgreSQL.
	RateLimitWindowPrefix = "rlw_"
	// WebhookEndpointPrefix names the receivers an organization registers for its events.
	WebhookEndpointPrefix = "whe_"
	// WebhookDeliveryPrefix names one event's delivery to one endpoint; it is
	// the webhook-id header of the request.
	WebhookDeliveryPrefix = "whd_"
)

// tables maps a prefix to the table of its entity; node(id:) resolves types from it.
var tables = map[string]string{
	UserPrefix:              "users",
	OrganizationPrefix:      "organizations",
	MembershipPrefix:        "memberships",
	RolePrefix:              "roles",
	GroupPrefix:             "groups",
	InvitationPrefix:        "invitations",
	MessagePrefix:           "messages",
	InvoicePrefix:           "invoices",
	AuditEventPrefix:        "audit_events",
	SessionPrefix:           "sessions",
	PasswordResetPrefix:     "password_resets",
	OutboxEmailPrefix:       "outbox_emails",
	EmailVerificationPrefix: "email_verifications",
	DeliveryPrefix:          "deliveries",
	MessageTemplatePrefix:   "message_templates",
	PhoneVerificationPrefix: "phone_verifications",
	MessagingSettingPrefix:  "messaging_settings",
	EmailChangePrefix:       "email_changes",
}

const prefixLen = 4

// ErrUnknownPrefix is returned for ids that name no entity type.
var ErrUnknownPrefix = errors.New("pulid: unknown id prefix")

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// New returns a new ID with the given prefix.
func New(prefix string) ID {
	entropyMu.Lock()
	defer entropyMu.Unlock()
	return ID(prefix + ulid.MustNew(ulid.Timestamp(time.Now()), entropy).String())
}

// Prefix returns the type prefix of the id, or "" when it has none.
func (id ID) Prefix() string {
	if len(id) <= prefixLen || !strings.HasSuffix(string(id[:prefixLen]), "_") {
		return ""
	}
	return string(id[:prefixLen])
}

// Table returns the table of the entity the id names. Unknown prefixes are an error,
// which node(id:) reports exactly like an id that does not exist.
func Table(id ID) (string, error) {
	t, ok := tables[id.Prefix()]
	if !ok {
		return "", fmt.Errorf("%w in %q", ErrUnknownPrefix, id)
	}
	return t, nil
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (id *ID) UnmarshalGQL(v any) error { return id.Scan(v) }

// MarshalGQL implements graphql.Marshaler.
func (id ID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(id))) }

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		// An optional reference that is not set.
		*id = ""
	case ID:
		*id = v
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(v)
	default:
		return fmt.Errorf("pulid: expected a string, got %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
