// Package webhook tells an organization's other apps about changes to its
// members, invitations, roles and groups: events are queued in the transaction
// of the change, and a worker delivers them to the registered endpoints, signed
// per the Standard Webhooks specification, with retries.
package webhook

import (
	"slices"
	"strings"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/errcode"
)

// EventTypes are the events an endpoint may receive, by family.
var EventTypes = []string{
	"member.invited", "member.joined", "member.role_changed", "member.updated",
	"member.disabled", "member.enabled", "member.removed",
	"invitation.accepted", "invitation.resent", "invitation.revoked",
	"role.created", "role.updated", "role.deleted",
	"group.created", "group.updated", "group.deleted",
}

// families are the prefixes that a wildcard (member.*) stands for.
var families = []string{"member", "invitation", "role", "group"}

// MaxEventTypes bounds the entries of one endpoint's event types.
const MaxEventTypes = 32

// ValidateEventTypes returns the event types of an endpoint, deduplicated and
// sorted, or BAD_USER_INPUT naming field when one is neither a known type nor
// a family wildcard.
func ValidateEventTypes(field string, types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, errcode.Input(field, "name at least one event type, such as member.* or group.created")
	}
	if len(types) > MaxEventTypes {
		return nil, errcode.Input(field, "at most %d event types", MaxEventTypes)
	}
	out := []string{}
	for _, t := range types {
		t = strings.TrimSpace(t)
		family, rest, _ := strings.Cut(t, ".")
		if !slices.Contains(EventTypes, t) && !(rest == "*" && slices.Contains(families, family)) {
			return nil, errcode.Input(field, "unknown event type %q: use one of %s, or a family wildcard (%s.*)",
				t, strings.Join(EventTypes, ", "), strings.Join(families, ".*, "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Subscribed reports whether an endpoint with the event types receives an
// event of type t.
func Subscribed(types []string, t string) bool {
	family, _, _ := strings.Cut(t, ".")
	return slices.Contains(types, t) || slices.Contains(types, family+".*")
}

// Event is one webhook event that a change causes: its type and the entity
// that the payload shows.
type Event struct {
	Type       string
	TargetType string
	TargetID   string
}

// eventsOf maps an audit action to the webhook events it causes. Actions not
// listed (logins' own changes, password and lock actions, previews, billing…)
// cause none. data is read for ids only, never copied into a payload.
func eventsOf(action, targetType, targetID string, data map[string]any) []Event {
	same := func(t string) []Event { return []Event{{Type: t, TargetType: targetType, TargetID: targetID}} }
	switch action {
	case "member.invited", "member.role_changed", "member.updated", "member.disabled", "member.enabled", "member.removed",
		"invitation.resent", "invitation.revoked",
		"role.created", "role.updated", "role.deleted",
		"group.created", "group.updated", "group.deleted":
		return same(action)
	case "member.groups_linked", "member.groups_unlinked", "member.email_changed",
		"member.group_link_ended", "member.grant_ended":
		return same("member.updated")
	case "member.disabled_period_ended":
		return same("member.enabled")
	case "member.left", "member.left_after_review":
		return same("member.removed")
	case "organization.ownership_transferred":
		// Two role changes in one step: the new owner's and the former owner's.
		out := same("member.role_changed")
		if from := idIn(data["from"]); from != "" {
			out = append(out, Event{Type: "member.role_changed", TargetType: "Membership", TargetID: from})
		}
		return out
	case "invitation.accepted":
		out := same("member.joined")
		if inv := idIn(data["invitation"]); inv != "" {
			out = append(out, Event{Type: "invitation.accepted", TargetType: "Invitation", TargetID: inv})
		}
		return out
	}
	return nil
}

// idIn returns an id kept in event data, whether written as an ID or read
// back as a string.
func idIn(v any) string {
	switch id := v.(type) {
	case pulid.ID:
		return string(id)
	case string:
		return id
	}
	return ""
}
