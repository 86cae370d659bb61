package integrations

import (
	"context"
	"fmt"
	"strings"

	"staffroom/ent"
	"staffroom/ent/modulepermission"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
)

// ModulePrefix starts every module permission: app.<module>.<action>.
const ModulePrefix = "app."

// ValidatePermissions returns BAD_USER_INPUT naming field when a permission is
// neither in the catalog nor one of the viewer's organization's module
// permissions: the one check of permission keys that knows the organization.
func ValidatePermissions(ctx context.Context, client *ent.Client, field string, permissions []string) error {
	var modules []string
	for _, p := range permissions {
		switch {
		case access.Known(p):
		case strings.HasPrefix(p, ModulePrefix):
			modules = append(modules, p)
		default:
			return errcode.Input(field, "unknown permission %q", p)
		}
	}
	if len(modules) == 0 {
		return nil
	}
	found, err := client.ModulePermission.Query().Where(modulepermission.KeyIn(modules...)).
		Select(modulepermission.FieldKey).Strings(ctx)
	if err != nil {
		return fmt.Errorf("integrations: module permissions: %w", err)
	}
	known := map[string]bool{}
	for _, k := range found {
		known[k] = true
	}
	for _, p := range modules {
		if !known[p] {
			return errcode.Input(field, "unknown permission %q", p)
		}
	}
	return nil
}
