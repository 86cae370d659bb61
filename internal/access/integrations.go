package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent"

	entgen "staffroom/ent"
	"staffroom/ent/modulepermission"
	"staffroom/ent/privacy"
	"staffroom/internal/errcode"
)

// APIKeyPolicy: API keys are listed, made and revoked by holders of
// integrations.manage. Checking a presented key and counting its use run in
// the system context, before any viewer exists.
func APIKeyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{denyWithout(IntegrationsManage)},
		Mutation: scopedMutationPolicy(without(IntegrationsManage), IntegrationsManage),
	}
}

// ModulePermissionPolicy: every member reads the organization's module
// permissions (they are its catalog); integrations.manage defines them.
func ModulePermissionPolicy() ent.Policy {
	return privacy.Policy{Mutation: mutationPolicy(IntegrationsManage)}
}

// ModulePrefix starts every module permission: app.<module>.<action>.
const ModulePrefix = "app."

// IsModulePermission reports whether a key is in the namespace of module
// permissions (whether the organization defined it is ValidateIn's question).
func IsModulePermission(key string) bool { return strings.HasPrefix(key, ModulePrefix) }

// ValidateIn is the one check of permission keys that knows the viewer's
// organization: each key must be in the catalog or one of the organization's
// module permissions; otherwise BAD_USER_INPUT names field. The organization
// is named explicitly, so the check holds in the system context too.
func (v *Viewer) ValidateIn(ctx context.Context, client *entgen.Client, field string, permissions []string) error {
	var modules []string
	for _, p := range permissions {
		switch {
		case Known(p):
		case IsModulePermission(p) && v.Active():
			modules = append(modules, p)
		default:
			return errcode.Input(field, "unknown permission %q", p)
		}
	}
	if len(modules) == 0 {
		return nil
	}
	found, err := client.ModulePermission.Query().
		Where(modulepermission.OrganizationID(v.OrgID), modulepermission.KeyIn(modules...)).
		Select(modulepermission.FieldKey).Strings(ctx)
	if err != nil {
		return fmt.Errorf("access: module permissions: %w", err)
	}
	for _, p := range modules {
		if !slices.Contains(found, p) {
			return errcode.Input(field, "unknown permission %q", p)
		}
	}
	return nil
}

// CheckGiveIn is CheckGive for keys of the catalog and of the organization's
// module permissions: they must be known to the organization and held by the
// viewer.
func (v *Viewer) CheckGiveIn(ctx context.Context, client *entgen.Client, field string, permissions []string) error {
	if err := v.ValidateIn(ctx, client, field, permissions); err != nil {
		return err
	}
	for _, p := range permissions {
		if !v.Has(p) {
			return errcode.New(errcode.Forbidden, "you cannot give %s: you do not hold it", p)
		}
	}
	return nil
}

// WebhookPolicy: webhook endpoints and their deliveries are read and changed
// by holders of integrations.manage. Events are queued in the transaction of
// the change that causes them, and delivered by the worker, in the system
// context.
func WebhookPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{denyWithout(IntegrationsManage)},
		Mutation: scopedMutationPolicy(without(IntegrationsManage), IntegrationsManage),
	}
}
