// Package organization provides the creation of organizations with their preset
// roles and first owner, and the settings that owners and administrators change.
package organization

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// CreateInput describes a new organization.
type CreateInput struct {
	Name     string
	Slug     string
	Timezone string
	Preset   string
}

// errEmailUnverified: an organization's creator is its owner, answerable for
// it, and only someone who proved their address may be.
var errEmailUnverified = errcode.New(errcode.EmailUnverified,
	"confirm your email address first: until then your login works only in the organizations that invited you, and cannot create one; follow the link we emailed you, or ask for a new one")

// Create makes an organization, seeds the roles of its preset and makes the user
// its owner, in one transaction. The organization does not exist for the viewer
// yet, so the seeding runs in the system context. The user's address must be
// verified (EMAIL_UNVERIFIED).
func Create(ctx context.Context, client *ent.Client, userID pulid.ID, in CreateInput) (*ent.Organization, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return nil, errcode.Input("name", "the name must have 1 to 200 characters")
	}
	preset, ok := access.Presets[in.Preset]
	if in.Preset == "" {
		preset, ok = access.Presets[access.DefaultPreset], true
	}
	if !ok {
		return nil, errcode.Input("preset", "unknown preset %q", in.Preset)
	}
	tz := in.Timezone
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, errcode.Input("timezone", "unknown time zone %q", tz)
	}
	slug, err := slugFor(in.Slug, name)
	if err != nil {
		return nil, err
	}
	sys := access.SystemContext(ctx, "create organization")
	var org *ent.Organization
	err = store.InTx(sys, client, func(ctx context.Context, tx *ent.Client) error {
		u, err := tx.User.Get(ctx, userID)
		if err != nil {
			return err
		}
		if u.EmailVerifiedAt == nil {
			return errEmailUnverified
		}
		if in.Slug == "" {
			slug, err = freeSlug(ctx, tx, slug)
			if err != nil {
				return err
			}
		}
		// No seat limit until billing sets one (updateBilling's seats).
		org, err = tx.Organization.Create().SetName(name).SetSlug(slug).SetTimezone(tz).SetBillingSeats(0).Save(ctx)
		if ent.IsConstraintError(err) {
			return errcode.Taken("slug", "the slug %q is taken", slug)
		}
		if err != nil {
			return err
		}
		var ownerRole *ent.Role
		for _, r := range preset.Roles {
			created, err := tx.Role.Create().
				SetOrganizationID(org.ID).SetKey(r.Key).SetName(r.Name).SetBuiltin(true).
				SetPermissions(r.Permissions).SetManages(r.Manages).
				SetDefaultGroupScope(roleScope(access.DefaultGroupScope(r))).SetGroupScopes(groupScopes(r)).
				Save(ctx)
			if err != nil {
				return err
			}
			if r.Key == access.OwnerRole {
				ownerRole = created
			}
		}
		username := Username(u.FirstName, u.LastName)
		owner, err := tx.Membership.Create().
			SetOrganizationID(org.ID).SetUserID(u.ID).SetRoleID(ownerRole.ID).
			SetUsername(username).SetUsernameKey(strings.ToLower(username)).
			SetGroupScope(membership.GroupScopeALL).
			SetLastUsedAt(time.Now()).
			Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, org.ID, audit.Event{Action: "organization.created", TargetType: "Organization",
			TargetID: org.ID, Actor: owner.ID, Data: map[string]any{"name": name, "slug": org.Slug, "preset": preset.Key}})
	})
	if err != nil {
		if _, ok := errcode.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("organization: create: %w", err)
	}
	return org, nil
}

func roleScope(s string) role.DefaultGroupScope { return role.DefaultGroupScope(s) }

// groupScopes returns a preset role's group scopes by kind, never nil.
func groupScopes(r access.RolePreset) map[string]string {
	if r.GroupScopes == nil {
		return map[string]string{}
	}
	return r.GroupScopes
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	nonSlug     = regexp.MustCompile(`[^a-z0-9]+`)
)

func slugFor(asked, name string) (string, error) {
	if asked != "" {
		if !slugPattern.MatchString(asked) {
			return "", errcode.Input("slug", "a slug has 1 to 64 lower-case letters, digits and dashes")
		}
		return asked, nil
	}
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(fold(name)), "-"), "-")
	if len(s) > 56 {
		s = strings.Trim(s[:56], "-")
	}
	if s == "" {
		s = "organization"
	}
	return s, nil
}

// freeSlug returns base, or base-2, base-3… when it is taken.
func freeSlug(ctx context.Context, tx *ent.Client, base string) (string, error) {
	taken, err := tx.Organization.Query().
		Where(organization.Or(organization.Slug(base), organization.SlugHasPrefix(base+"-"))).
		Select(organization.FieldSlug).Strings(ctx)
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, s := range taken {
		used[s] = true
	}
	candidate := base
	for n := 2; used[candidate]; n++ {
		candidate = fmt.Sprintf("%s-%d", base, n)
	}
	return candidate, nil
}

// Username returns the base username of a person, First.Last, folded to ASCII.
func Username(first, last string) string {
	clean := func(s string) string {
		return nonUsername.ReplaceAllString(fold(strings.TrimSpace(s)), "")
	}
	parts := []string{}
	for _, p := range []string{clean(first), clean(last)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "member"
	}
	return strings.Join(parts, ".")
}

var nonUsername = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// fold removes accents: "Zoë Ångström" becomes "Zoe Angstrom".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if r < 0x300 || r > 0x36f {
			b.WriteRune(r)
		}
	}
	return b.String()
}
