package access

import (
	"fmt"
	"slices"

	"staffroom/ent/group"
)

// The permissions of the catalog.
const (
	OrganizationUpdate = "organization.update"
	BillingView        = "billing.view"
	BillingManage      = "billing.manage"
	MembersView        = "members.view"
	MembersContact     = "members.contact"
	MembersInvite      = "members.invite"
	MembersManage      = "members.manage"
	MembersImport      = "members.import"
	RolesManage        = "roles.manage"
	GroupsView         = "groups.view"
	GroupsManage       = "groups.manage"
	AttendanceTrack    = "attendance.track"
	MessagesCompose    = "messages.compose"
	MessagesSend       = "messages.send"
	MessagesApprove    = "messages.approve"
	MessagesViewAll    = "messages.view_all"
	TemplatesManage    = "templates.manage"
	BookingsManage     = "bookings.manage"
	InvoicesView       = "invoices.view"
	InvoicesCreate     = "invoices.create"
	InvoicesRefund     = "invoices.refund"
	ReportsFinancial   = "reports.financial"
	AuditView          = "audit.view"
	IntegrationsManage = "integrations.manage"
)

// OwnerRole is the key of the role that has every permission and manages every role.
const OwnerRole = "owner"

// Group scopes: of a membership (ALL or LINKED), and of a role by group kind
// (LINKED or NONE narrow what the role's holders see of that kind).
const (
	groupScopeAll    = "ALL"
	groupScopeLinked = "LINKED"
	groupScopeNone   = "NONE"
)

// GroupKinds are the kinds of group that a role's group scopes name.
var GroupKinds = []string{string(group.KindCLASS), string(group.KindATTENDANCE_LIST), string(group.KindFORM), string(group.KindTEAM)}

// ValidateGroupScopes returns an error naming the first kind or scope of a
// role's group scopes that is not known.
func ValidateGroupScopes(scopes map[string]string) error {
	for kind, scope := range scopes {
		if !slices.Contains(GroupKinds, kind) {
			return fmt.Errorf("unknown group kind %q", kind)
		}
		if scope != groupScopeAll && scope != groupScopeLinked && scope != groupScopeNone {
			return fmt.Errorf("unknown group scope %q for %s", scope, kind)
		}
	}
	return nil
}

// Permission is an entry of the catalog.
type Permission struct {
	Key         string
	Description string
}

// Catalog lists every permission, in the order clients show them.
var Catalog = []Permission{
	{OrganizationUpdate, "Edit name, timezone, phone, instructor dashboard message and invitation email template; read those settings"},
	{BillingView, "Read billing: plan, seats, billing email, payment method summary, next invoice date"},
	{BillingManage, "Change billing"},
	{MembersView, "List the organization's staff (names, roles, status, groups)"},
	{MembersContact, "Read other staff's email and phone"},
	{MembersInvite, "Invite, resend and revoke invitations for roles they may manage"},
	{MembersManage, "Change role, grants, revokes, group scope, username; disable, enable, remove, unlock members whose role they may manage"},
	{MembersImport, "Import staff in bulk"},
	{RolesManage, "Create, edit and delete custom roles"},
	{GroupsView, "See every group (without it: only linked groups)"},
	{GroupsManage, "Create, edit, delete groups; link and unlink members"},
	{AttendanceTrack, "Track attendance on the groups they can see"},
	{MessagesCompose, "Write messages; without messages.send they wait for approval"},
	{MessagesSend, "Send messages to staff and to groups they can see"},
	{MessagesApprove, "Approve and send messages that others composed"},
	{MessagesViewAll, "Read every message of the organization"},
	{TemplatesManage, "Create and edit message templates"},
	{BookingsManage, "Bookings module"},
	{InvoicesView, "List invoices"},
	{InvoicesCreate, "Create invoices (point of sale)"},
	{InvoicesRefund, "Cancel invoices and issue refunds"},
	{ReportsFinancial, "Financial reports"},
	{AuditView, "Read the audit log"},
	{IntegrationsManage, "API keys and webhooks"},
}

var known = func() map[string]bool {
	m := make(map[string]bool, len(Catalog))
	for _, p := range Catalog {
		m[p.Key] = true
	}
	return m
}()

// Known reports whether a permission is in the catalog.
func Known(permission string) bool { return known[permission] }

// Validate returns an error naming the first permission that is not in the catalog.
func Validate(permissions []string) error {
	for _, p := range permissions {
		if !known[p] {
			return fmt.Errorf("unknown permission %q", p)
		}
	}
	return nil
}

// All returns every permission key.
func All() []string {
	out := make([]string, len(Catalog))
	for i, p := range Catalog {
		out[i] = p.Key
	}
	return out
}

// Effective returns role ∪ grants − revokes in catalog order; the owner role has
// every permission whatever its grants and revokes.
func Effective(roleKey string, role, grants, revokes []string) []string {
	if roleKey == OwnerRole {
		return All()
	}
	out := []string{}
	for _, p := range Catalog {
		held := slices.Contains(role, p.Key) || slices.Contains(grants, p.Key)
		if held && !slices.Contains(revokes, p.Key) {
			out = append(out, p.Key)
		}
	}
	// The organization's module permissions follow, in key order.
	var modules []string
	for _, p := range slices.Concat(role, grants) {
		if IsModulePermission(p) && !slices.Contains(revokes, p) && !slices.Contains(modules, p) {
			modules = append(modules, p)
		}
	}
	slices.Sort(modules)
	return append(out, modules...)
}

// RolePreset is a role that a preset seeds.
type RolePreset struct {
	Key         string
	Name        string
	Permissions []string
	Manages     []string
	// GroupScope is the scope new members with this role get: LINKED when the role
	// cannot see every group, unless the preset says otherwise.
	GroupScope string
	// GroupScopes narrows what the role sees of some kinds of group: LINKED (only
	// the groups its holders are linked to) or NONE (none, linked or not).
	GroupScopes map[string]string
}

// Preset is a set of roles seeded into a new organization.
type Preset struct {
	Key   string
	Roles []RolePreset
}

func except(excluded ...string) []string {
	out := []string{}
	for _, p := range Catalog {
		if !slices.Contains(excluded, p.Key) {
			out = append(out, p.Key)
		}
	}
	return out
}

func owner(manages ...string) RolePreset {
	return RolePreset{Key: OwnerRole, Name: "Account owner", Permissions: All(), Manages: append([]string{OwnerRole}, manages...)}
}

// Presets are the role sets of docs/authorization.md, by key.
var Presets = map[string]Preset{
	"ACTIVITY": {Key: "ACTIVITY", Roles: []RolePreset{
		owner("administrator", "attendant", "communication_agent", "instructor", "instructor_no_messaging", "guest"),
		// Administrators see the staff forms assigned to them only, attendants
		// no form at all: the product's "no access to forms".
		{Key: "administrator", Name: "Administrator",
			Permissions: except(BillingView, BillingManage, RolesManage, IntegrationsManage, InvoicesRefund),
			Manages:     []string{"instructor", "instructor_no_messaging", "guest"},
			GroupScopes: map[string]string{string(group.KindFORM): groupScopeLinked}},
		{Key: "attendant", Name: "Attendant",
			Permissions: []string{GroupsView, AttendanceTrack, MessagesCompose, MessagesSend, BookingsManage, InvoicesView, InvoicesCreate, ReportsFinancial},
			GroupScopes: map[string]string{string(group.KindFORM): groupScopeNone}},
		{Key: "communication_agent", Name: "Communication agent",
			Permissions: []string{MembersView, GroupsView, MessagesCompose, MessagesSend, TemplatesManage}},
		{Key: "instructor", Name: "Instructor",
			Permissions: []string{AttendanceTrack, MessagesCompose, MessagesSend}},
		{Key: "instructor_no_messaging", Name: "Instructor (without messaging)",
			Permissions: []string{AttendanceTrack}},
		{Key: "guest", Name: "Guest", Permissions: []string{}},
	}},
	"SCHOOL": {Key: "SCHOOL", Roles: []RolePreset{
		owner("administrator", "power_user", "user", "minimum_user"),
		{Key: "administrator", Name: "Administrator",
			Permissions: except(BillingView, BillingManage),
			Manages:     []string{"power_user", "user", "minimum_user"}},
		{Key: "power_user", Name: "Power user",
			Permissions: []string{MembersView, MembersContact, GroupsView, GroupsManage, MessagesCompose, MessagesSend, MessagesApprove, MessagesViewAll, TemplatesManage}},
		{Key: "user", Name: "User",
			Permissions: []string{MembersView, GroupsView, GroupsManage, MessagesCompose}},
		{Key: "minimum_user", Name: "Minimum user",
			Permissions: []string{MessagesCompose}, GroupScope: groupScopeLinked},
	}},
	"SMALL_BUSINESS": {Key: "SMALL_BUSINESS", Roles: []RolePreset{
		owner("admin", "manager", "user"),
		// billing.manage lets a non-owner change the billing email only (see
		// organization.UpdateBilling): the product's admin keeps it up to date.
		{Key: "admin", Name: "Admin",
			Permissions: All(),
			Manages:     []string{"admin", "manager", "user"}},
		{Key: "manager", Name: "Manager",
			Permissions: except(BillingView, BillingManage, OrganizationUpdate, IntegrationsManage, RolesManage, AuditView),
			Manages:     []string{"user"}},
		{Key: "user", Name: "User",
			Permissions: []string{MembersView, GroupsView, MessagesCompose, MessagesSend}},
	}},
	"ACTIVITY_PROVIDER": {Key: "ACTIVITY_PROVIDER", Roles: []RolePreset{
		owner("staff", "agent", "instructor"),
		{Key: "staff", Name: "Staff",
			Permissions: []string{MembersView, GroupsView, BookingsManage, InvoicesView, InvoicesCreate, MessagesCompose, MessagesSend}},
		{Key: "agent", Name: "Agent", Permissions: []string{BookingsManage}},
		{Key: "instructor", Name: "Instructor",
			Permissions: []string{AttendanceTrack}, GroupScope: groupScopeLinked},
	}},
}

// DefaultPreset is the preset of an organization created without one.
const DefaultPreset = "ACTIVITY"

// DefaultGroupScope is the group scope a new member with a role gets.
func DefaultGroupScope(r RolePreset) string {
	if r.GroupScope != "" {
		return r.GroupScope
	}
	if r.Key == OwnerRole || slices.Contains(r.Permissions, GroupsView) {
		return groupScopeAll
	}
	return groupScopeLinked
}

// PresetOf returns the preset whose roles include every one of an
// organization's built-in role keys, when exactly one does: organizations do
// not record their preset, and owners may have deleted built-in roles.
func PresetOf(builtinKeys []string) (Preset, bool) {
	var found []Preset
	for _, key := range []string{"ACTIVITY", "SCHOOL", "SMALL_BUSINESS", "ACTIVITY_PROVIDER"} {
		p := Presets[key]
		if !slices.ContainsFunc(builtinKeys, func(k string) bool { return p.Role(k) == nil }) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return Preset{}, false
	}
	return found[0], true
}

// Role returns the preset's role of a key, or nil.
func (p Preset) Role(key string) *RolePreset {
	for i := range p.Roles {
		if p.Roles[i].Key == key {
			return &p.Roles[i]
		}
	}
	return nil
}
