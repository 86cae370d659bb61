package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"staffroom/ent/auditevent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/errcode"
	"staffroom/internal/store/storetest"
)

const previewRole = `mutation($role: ID!, $groups: [ID!]) {
  previewRole(roleId: $role, groupIds: $groups) { accessToken accessTokenExpiresAt preview { role { key } groupScope groups { id } expiresAt } }
}`

type previewPayload struct {
	PreviewRole struct {
		AccessToken          string
		AccessTokenExpiresAt time.Time
		Preview              struct {
			Role       struct{ Key string }
			GroupScope string
			Groups     []struct{ ID pulid.ID }
			ExpiresAt  time.Time
		}
	}
}

// previewAs starts a preview of a role, by key, linked to groups.
func previewAs(t *testing.T, s *apptest.Server, token string, org pulid.ID, roleKey string, groups []pulid.ID) previewPayload {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test fixture")
	var roleID pulid.ID
	for _, r := range s.DB.Client.Role.Query().AllX(ctx) {
		if r.OrganizationID == org && r.Key == roleKey {
			roleID = r.ID
		}
	}
	var out previewPayload
	s.MustDo(t, token, previewRole, map[string]any{"role": roleID, "groups": groups}).Decode(t, &out)
	return out
}

// previewed are the matrix's viewers that hold a role: each ACTIVITY role and
// the linked-scope custom role.
var previewed = []string{"owner", "administrator", "attendant", "communication_agent", "instructor",
	"instructor_no_messaging", "guest", "linked"}

// TestPreviewAnswersAsTheRole runs every query row of the authorization matrix
// as a new member of each role and as the owner's preview of that role, linked
// to the same groups: the answers are the same, up to the ids of the person
// asking (the member's own, or the previewer's). Every mutation row answers
// PREVIEW_READ_ONLY to each preview.
func TestPreviewAnswersAsTheRole(t *testing.T) {
	rows := loadMatrix(t)
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		f := newMatrixFixture(t, d)
		ctx := access.SystemContext(context.Background(), "test fixture")
		c := f.s.DB.Client
		owner := c.Membership.Query().Where(membership.OrganizationID(f.org.ID), membership.UserID(f.org.Owner.ID)).OnlyX(ctx)
		roles := map[string]string{"linked": "linked_manager"}
		previews := map[string]string{}
		for _, v := range previewed {
			key := roles[v]
			if key == "" {
				key = v
			}
			// A new member with the role, linked like the matrix's member of it,
			// who owns nothing: what a preview stands for.
			groups := c.Group.Query().Where(group.HasMembersWith(membership.ID(f.members[v]))).IDsX(ctx)
			if v == "owner" {
				groups = nil
			}
			// The same first name as the previewer, whom the preview's user is.
			real := f.org.AddMember(t, key, "Olivia", "Fresh"+strings.ReplaceAll(v, "_", ""))
			c.Membership.UpdateOneID(real.MembershipID).AddGroupIDs(groups...).ExecX(ctx)
			p := previewAs(t, f.s, f.org.Owner.Token, f.org.ID, key, groups)
			previews[v] = p.PreviewRole.AccessToken
			// The asker is the member, or the previewer: both appear in lists
			// such as the access review, each as "the asker" on one side.
			self := []string{string(real.MembershipID), string(real.ID), string(owner.ID), string(f.org.Owner.ID)}
			same := func(r *apptest.Response) string {
				out, _ := json.Marshal(map[string]any{"data": r.Data, "codes": r.Codes()})
				for _, id := range self {
					out = bytes.ReplaceAll(out, []byte(id), []byte("SELF"))
				}
				return string(out)
			}
			for _, row := range rows {
				// Viewer.preview is what tells a preview apart.
				if strings.HasPrefix(strings.TrimSpace(row.Query), "mutation") || row.Field == "Viewer.preview" {
					continue
				}
				vars := used(row.Query, f.setup(t, row.Setup))
				asMember := same(f.s.Do(t, real.Token, row.Query, vars))
				asPreview := same(f.s.Do(t, previews[v], row.Query, vars))
				if asMember != asPreview {
					t.Errorf("%s %s: a %s answers %s; its preview %s", row.Field, row.Query, key, asMember, asPreview)
				}
			}
		}
		for _, row := range rows {
			if !strings.HasPrefix(strings.TrimSpace(row.Query), "mutation") {
				continue
			}
			vars := used(row.Query, f.setup(t, row.Setup))
			for _, v := range previewed {
				r := f.s.Do(t, previews[v], row.Query, vars)
				if codes := r.Codes(); len(codes) != 1 || codes[0] != string(errcode.PreviewReadOnly) || string(r.Data) != "null" && r.Data != nil {
					t.Errorf("%s as a preview of %s: codes %v, data %s; want PREVIEW_READ_ONLY alone", row.Field, v, codes, r.Data)
				}
			}
		}
	})
}

// TestPreviewRole: what the preview shows, how long it lasts, that it is
// audited, and that it ends when the previewer may no longer preview the role.
func TestPreviewRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Preview Club", "ACTIVITY")
		admin := org.AddMember(t, "administrator", "Ada", "Admin")
		ctx := access.SystemContext(context.Background(), "test fixture")
		c := s.DB.Client
		class := c.Group.Create().SetOrganizationID(org.ID).SetName("Kayak").SetKind(group.KindCLASS).SaveX(ctx)
		c.Group.Create().SetOrganizationID(org.ID).SetName("Canoe").SetKind(group.KindCLASS).ExecX(ctx)

		start := time.Now()
		p := previewAs(t, s, admin.Token, org.ID, "instructor", []pulid.ID{class.ID})
		pr := p.PreviewRole
		if pr.Preview.Role.Key != "instructor" || pr.Preview.GroupScope != "LINKED" || len(pr.Preview.Groups) != 1 {
			t.Errorf("preview = %+v; want the instructor role, LINKED, one group", pr.Preview)
		}
		if lasts := pr.AccessTokenExpiresAt.Sub(start); lasts > 15*time.Minute+time.Second || lasts < time.Minute {
			t.Errorf("the preview lasts %v; want at most 15 minutes", lasts)
		}

		const viewerQuery = `{ viewer { permissions user { id } membership { id } memberships { id }
		  preview { role { key } expiresAt } organization { groups { totalCount } billingEmail } } }`
		r := s.Do(t, pr.AccessToken, viewerQuery, nil)
		var got struct {
			Viewer struct {
				Permissions  []string
				User         struct{ ID pulid.ID }
				Membership   *struct{ ID pulid.ID }
				Memberships  []struct{ ID pulid.ID }
				Preview      *struct{ Role struct{ Key string } }
				Organization struct {
					Groups       struct{ TotalCount int }
					BillingEmail *string
				}
			}
		}
		r.Decode(t, &got)
		v := got.Viewer
		if fmt.Sprint(v.Permissions) != "[attendance.track messages.compose messages.send]" {
			t.Errorf("permissions = %v; want the instructor's", v.Permissions)
		}
		if v.User.ID != admin.ID || v.Membership != nil || len(v.Memberships) != 0 {
			t.Errorf("viewer user %s, membership %v, switcher %v; want the previewer, no membership, an empty switcher", v.User.ID, v.Membership, v.Memberships)
		}
		if v.Preview == nil || v.Preview.Role.Key != "instructor" {
			t.Errorf("viewer.preview = %+v", v.Preview)
		}
		if v.Organization.Groups.TotalCount != 1 || v.Organization.BillingEmail != nil || len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("groups %d, billing %v, errors %v; want the linked group only and no billing", v.Organization.Groups.TotalCount, v.Organization.BillingEmail, r.Codes())
		}
		// A real token's viewer is no preview.
		var real struct {
			Viewer struct {
				Preview *struct{ ExpiresAt time.Time }
			}
		}
		s.MustDo(t, admin.Token, `{ viewer { preview { expiresAt } } }`, nil).Decode(t, &real)
		if real.Viewer.Preview != nil {
			t.Errorf("a real member's viewer.preview = %+v", real.Viewer.Preview)
		}

		// Audited: who previewed which role.
		e := c.AuditEvent.Query().Where(auditevent.OrganizationID(org.ID), auditevent.Action("role.previewed")).OnlyX(ctx)
		if e.ActorID != admin.MembershipID || e.Data["role"] != "instructor" {
			t.Errorf("audit event actor %v data %v; want the administrator previewing instructor", e.ActorID, e.Data)
		}

		// Administrators manage instructors, not attendants; nobody previews with
		// a group they cannot see.
		attendant := c.Role.Query().AllX(ctx)
		var attendantRole pulid.ID
		for _, rl := range attendant {
			if rl.OrganizationID == org.ID && rl.Key == "attendant" {
				attendantRole = rl.ID
			}
		}
		if r := s.Do(t, admin.Token, previewRole, map[string]any{"role": attendantRole}); fmt.Sprint(r.Codes()) != "[FORBIDDEN]" {
			t.Errorf("previewing an unmanaged role: %v; want FORBIDDEN", r.Codes())
		}

		// The previewer loses the right: the preview ends on the next request.
		guest := c.Role.Query().AllX(ctx)
		for _, rl := range guest {
			if rl.OrganizationID == org.ID && rl.Key == "guest" {
				c.Membership.UpdateOneID(admin.MembershipID).SetRoleID(rl.ID).ExecX(ctx)
			}
		}
		if r := s.Do(t, pr.AccessToken, `{ viewer { permissions } }`, nil); r.Status != 401 || fmt.Sprint(r.Codes()) != "[UNAUTHENTICATED]" {
			t.Errorf("after the previewer lost members.manage: status %d, codes %v; want 401 UNAUTHENTICATED", r.Status, r.Codes())
		}
	})
}

// TestPreviewWritesAreDeniedByPrivacy: below the GraphQL layer, the privacy
// rules refuse a preview's writes too, whatever the role.
func TestPreviewWritesAreDeniedByPrivacy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Private Club", "ACTIVITY")
		sys := access.SystemContext(context.Background(), "test fixture")
		c := s.DB.Client
		owner := c.Membership.Query().Where(membership.OrganizationID(org.ID)).OnlyX(sys)
		pv := access.NewPreviewViewer(org.Owner.ID, "", access.Membership{
			OrgID: org.ID, MembershipID: pulid.New(pulid.MembershipPrefix), RoleKey: access.OwnerRole, GroupScope: "ALL",
		}, access.Preview{By: owner.ID})
		ctx := access.NewContext(context.Background(), pv)
		for name, err := range map[string]error{
			"create a group":        c.Group.Create().SetName("Sneaky").Exec(ctx),
			"rename a member":       c.Membership.UpdateOneID(owner.ID).SetTitle("Boss").Exec(ctx),
			"edit the organization": c.Organization.UpdateOneID(org.ID).SetName("Renamed").Exec(ctx),
			"edit their own user":   c.User.UpdateOneID(org.Owner.ID).SetFirstName("Eve").Exec(ctx),
		} {
			if e, ok := errcode.As(err); !ok || e.Code != errcode.PreviewReadOnly {
				t.Errorf("%s as a preview: %v; want PREVIEW_READ_ONLY", name, err)
			}
		}
	})
}
