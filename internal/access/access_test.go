package access

import (
	"slices"
	"testing"
)

func TestEffectivePermissions(t *testing.T) {
	cases := []struct {
		name                  string
		role                  string
		perms, grants, revoke []string
		want                  []string
	}{
		{"role only", "instructor", []string{MessagesSend, AttendanceTrack}, nil, nil, []string{AttendanceTrack, MessagesSend}},
		{"grant adds", "attendant", []string{InvoicesView}, []string{InvoicesRefund}, nil, []string{InvoicesView, InvoicesRefund}},
		{"revoke removes a role permission", "attendant", []string{InvoicesView, InvoicesCreate}, nil, []string{InvoicesCreate}, []string{InvoicesView}},
		{"revoke beats grant", "guest", nil, []string{AuditView}, []string{AuditView}, []string{}},
		{"owner has all whatever the revokes", OwnerRole, nil, nil, []string{BillingView}, All()},
	}
	for _, c := range cases {
		if got := Effective(c.role, c.perms, c.grants, c.revoke); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPresetsUseOnlyCatalogPermissions(t *testing.T) {
	for key, p := range Presets {
		keys := map[string]bool{}
		for _, r := range p.Roles {
			keys[r.Key] = true
			if err := Validate(r.Permissions); err != nil {
				t.Errorf("%s/%s: %v", key, r.Key, err)
			}
		}
		if !keys[OwnerRole] {
			t.Errorf("%s has no owner role", key)
		}
		for _, r := range p.Roles {
			for _, m := range r.Manages {
				if !keys[m] {
					t.Errorf("%s/%s manages unknown role %s", key, r.Key, m)
				}
			}
		}
	}
}

func TestAdministratorOfActivity(t *testing.T) {
	var admin RolePreset
	for _, r := range Presets["ACTIVITY"].Roles {
		if r.Key == "administrator" {
			admin = r
		}
	}
	for _, p := range []string{BillingView, BillingManage, RolesManage, IntegrationsManage, InvoicesRefund} {
		if slices.Contains(admin.Permissions, p) {
			t.Errorf("administrator holds %s", p)
		}
	}
	if len(admin.Permissions) != len(Catalog)-5 {
		t.Errorf("administrator has %d permissions, want %d", len(admin.Permissions), len(Catalog)-5)
	}
}

func TestSystemContextRefusesResolvers(t *testing.T) {
	if calledFromGraphName("staffroom/graph.(*mutationResolver).LogIn") != true {
		t.Error("a resolver frame is not recognised")
	}
	if calledFromGraphName("staffroom/internal/auth.(*Service).LogIn") {
		t.Error("a domain frame is taken for a resolver")
	}
}
