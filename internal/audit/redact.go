package audit

import (
	"slices"
	"strings"

	"staffroom/internal/access"
)

// Redacted replaces a value of event data that the reader may not read.
const Redacted = "[redacted]"

// guard says that a key of event data (Key "*": every key) of the actions
// starting with Prefix ("" for all) is read only with one of Any.
type guard struct {
	Prefix, Key string
	Any         []string
}

// guards are the readers' permissions that event data needs: the audit log is
// no side door to what a field guards elsewhere. The first guard that matches a
// key decides; a key that none matches is readable with audit.view.
var guards = []guard{
	{"billing.", "*", []string{access.BillingView}},
	{"invoice.", "*", []string{access.InvoicesView}},
	{"apikey.", "*", []string{access.IntegrationsManage}},
	{"webhook.", "*", []string{access.IntegrationsManage}},
	{"organization.", "phone", []string{access.OrganizationUpdate}},
	{"organization.", "invitationTemplate", []string{access.OrganizationUpdate}},
	{"member.invited", "email", []string{access.MembersInvite, access.MembersContact}},
	{"member.invited", "phone", []string{access.MembersInvite, access.MembersContact}},
	{"invitation.", "email", []string{access.MembersInvite, access.MembersContact}},
	{"invitation.", "phone", []string{access.MembersInvite, access.MembersContact}},
	{"", "email", []string{access.MembersContact}},
	{"", "phone", []string{access.MembersContact}},
	{"", "billingEmail", []string{access.BillingView}},
	{"", "paymentMethodSummary", []string{access.BillingView}},
}

// Redact returns the data of an event as v may read it: the value of each key
// whose guard v does not satisfy becomes Redacted. The key stays, so that the
// reader still learns that it changed.
func Redact(v *access.Viewer, action string, data map[string]any) map[string]any {
	if data == nil {
		return nil
	}
	out := make(map[string]any, len(data))
	for k, val := range data {
		if readable(v, action, k) {
			out[k] = val
			continue
		}
		out[k] = Redacted
	}
	return out
}

func readable(v *access.Viewer, action, key string) bool {
	for _, g := range guards {
		// An unknown action (a column left unloaded) fails closed: every
		// guard of the key applies.
		if (action != "" && !strings.HasPrefix(action, g.Prefix)) || (g.Key != "*" && g.Key != key) {
			continue
		}
		if !slices.ContainsFunc(g.Any, v.Has) {
			return false
		}
		if action != "" {
			return true
		}
	}
	return true
}
