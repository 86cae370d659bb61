package graph_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"staffroom/ent/delivery"
	"staffroom/ent/group"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// untilIn returns an until d from now, as a client sends it.
func untilIn(d time.Duration) string {
	return time.Now().Add(d).UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// waitPast sleeps until an until has passed.
func waitPast(t *testing.T, until string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(at) + 50*time.Millisecond)
}

// expiryView is what the test reads of time-boxed access, before and after it ends.
type expiryView struct {
	instructorGroups  string // the groups the instructor sees
	ownGroups         string // viewer.membership.groups, as the instructor reads them
	payloadGroups     string // the groups of a mutation's answer about the instructor
	instructorPerms   string // the instructor's viewer permissions
	explain           string // explainPermission(instructor, members.view)
	checkGrant        string // checkAccess(instructor, members.view)
	checkGroup        string // checkAccess(instructor, attendance.track, the timed group)
	extraGrants       string // accessReview.extraGrants
	instructorAsOwner string // the instructor's membership as the owner reads it
	guestAsOwner      string // the guest's membership as the owner reads it
	activeMembers     string // members(where: {status: ACTIVE})
	disabledMembers   string // members(where: {statusIn: [DISABLED]})
	guestLogIn        string // the codes of the guest's log-in
}

func readExpiries(t *testing.T, s *apptest.Server, org *apptest.Org, instructor *apptest.Member, guestEmail string, guest, trip pulid.ID) expiryView {
	t.Helper()
	var v expiryView
	r := s.MustDo(t, instructor.Token, `{ viewer { permissions membership { groups { name } } organization { groups(first: 10, orderBy: {field: NAME, direction: ASC}) { edges { node { name } } } } } }`, nil)
	var me struct {
		Viewer struct {
			Permissions  []string
			Membership   struct{ Groups []struct{ Name string } }
			Organization struct {
				Groups struct {
					Edges []struct{ Node struct{ Name string } }
				}
			}
		}
	}
	r.Decode(t, &me)
	for _, e := range me.Viewer.Organization.Groups.Edges {
		v.instructorGroups += e.Node.Name + ";"
	}
	v.instructorPerms = strings.Join(me.Viewer.Permissions, ",")
	v.ownGroups = sortedNames(me.Viewer.Membership.Groups)
	// A mutation's answer reads the membership it changed, outside any list.
	r = s.MustDo(t, org.Owner.Token, `mutation($m: ID!) { updateMember(id: $m, input: {title: "Guide"}) { groups { name } } }`,
		map[string]any{"m": instructor.MembershipID})
	var changed struct {
		UpdateMember struct{ Groups []struct{ Name string } }
	}
	r.Decode(t, &changed)
	v.payloadGroups = sortedNames(changed.UpdateMember.Groups)
	owner := org.Owner.Token
	vars := map[string]any{"m": instructor.MembershipID, "g": trip, "guest": guest}
	r = s.MustDo(t, owner, `query($m: ID!, $g: ID, $guest: ID!) {
		explainPermission(memberId: $m, permission: "members.view") { granted source }
		grant: checkAccess(memberId: $m, permission: "members.view") { granted source }
		group: checkAccess(memberId: $m, permission: "attendance.track", groupId: $g) { granted source }
		viewer { organization { accessReview { extraGrants { id } }
			active: members(where: {status: ACTIVE}) { edges { node { id } } }
			disabled: members(where: {statusIn: [DISABLED]}) { edges { node { id } } } } }
		instructor: node(id: $m) { ... on Membership { status grants grantExpiries { permission } permissions groups { name } groupLinks { group { name } } } }
		guest: node(id: $guest) { ... on Membership { status disabledUntil } } }`, vars)
	var out struct {
		ExplainPermission json.RawMessage
		Grant, Group      json.RawMessage
		Viewer            struct {
			Organization struct {
				AccessReview struct{ ExtraGrants []struct{ ID pulid.ID } }
				Active       struct {
					Edges []struct{ Node struct{ ID pulid.ID } }
				}
				Disabled struct {
					Edges []struct{ Node struct{ ID pulid.ID } }
				}
			}
		}
		Instructor, Guest json.RawMessage
	}
	r.Decode(t, &out)
	v.explain, v.checkGrant, v.checkGroup = string(out.ExplainPermission), string(out.Grant), string(out.Group)
	v.guestAsOwner = string(out.Guest)
	// Membership.groups comes in no particular order.
	var im map[string]any
	if err := json.Unmarshal(out.Instructor, &im); err != nil {
		t.Fatal(err)
	}
	groups, _ := im["groups"].([]any)
	slices.SortFunc(groups, func(a, b any) int {
		return strings.Compare(a.(map[string]any)["name"].(string), b.(map[string]any)["name"].(string))
	})
	sorted, _ := json.Marshal(im)
	v.instructorAsOwner = string(sorted)
	for _, m := range out.Viewer.Organization.AccessReview.ExtraGrants {
		v.extraGrants += string(m.ID) + ";"
	}
	has := func(edges []struct{ Node struct{ ID pulid.ID } }, id pulid.ID) string {
		if slices.ContainsFunc(edges, func(e struct{ Node struct{ ID pulid.ID } }) bool { return e.Node.ID == id }) {
			return "listed"
		}
		return "absent"
	}
	v.activeMembers = has(out.Viewer.Organization.Active.Edges, guest)
	v.disabledMembers = has(out.Viewer.Organization.Disabled.Edges, guest)
	v.guestLogIn = strings.Join(s.Do(t, "", `mutation($in: LogInInput!) { logIn(input: $in) { accessToken } }`, map[string]any{
		"in": map[string]any{"email": guestEmail, "password": apptest.Password, "organizationId": org.ID}}).Codes(), ",")
	return v
}

// A group link, a grant and a disabled period with an until count until that
// second and not after, in every read, before the expiry job has run; the job
// then ends them in the data once, audited as the system.
func TestTimeBoxedAccessEndsOnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Trip Club", "ACTIVITY")
		owner := org.Owner.Token
		instructor := org.AddMember(t, "instructor", "Ivo", "Guide")
		guestEmail := strings.ToLower("Gil.Leave." + string(org.ID) + "@example.com")
		guest := org.AddMember(t, "guest", "Gil", "Leave")
		ctx := access.SystemContext(context.Background(), "test")
		mkGroup := func(name string) pulid.ID {
			return s.DB.Client.Group.Create().SetOrganizationID(org.ID).SetName(name).SetKind(group.KindCLASS).SaveX(ctx).ID
		}
		home, trip := mkGroup("Home class"), mkGroup("Ski trip")
		s.MustDo(t, owner, `mutation($m: ID!, $g: [ID!]!) { linkMemberGroups(id: $m, groupIds: $g) { id } }`,
			map[string]any{"m": instructor.MembershipID, "g": []any{home}})

		until := untilIn(3 * time.Second)
		r := s.MustDo(t, owner, `mutation($m: ID!, $g: [ID!]!, $until: Time, $guest: ID!, $in: UpdateMemberInput!) {
			linkMemberGroups(id: $m, groupIds: $g, until: $until) { groupLinks { group { name } until } }
			updateMember(id: $m, input: $in) { grants grantExpiries { permission until } }
			disableMember(id: $guest, until: $until) { status disabledUntil } }`, map[string]any{
			"m": instructor.MembershipID, "g": []any{trip}, "until": until, "guest": guest.MembershipID,
			"in": map[string]any{"grants": []any{access.MembersView}, "grantExpiries": []any{map[string]any{"permission": access.MembersView, "until": until}}},
		})
		var made struct {
			LinkMemberGroups struct {
				GroupLinks []struct {
					Group struct{ Name string }
					Until *time.Time
				}
			}
			UpdateMember struct {
				Grants        []string
				GrantExpiries []struct {
					Permission string
					Until      time.Time
				}
			}
			DisableMember struct {
				Status        string
				DisabledUntil *time.Time
			}
		}
		r.Decode(t, &made)
		want, _ := time.Parse(time.RFC3339Nano, until)
		links := made.LinkMemberGroups.GroupLinks
		if len(links) != 2 || links[0].Group.Name != "Home class" || links[0].Until != nil || links[1].Group.Name != "Ski trip" ||
			links[1].Until == nil || !links[1].Until.Equal(want) {
			t.Errorf("links: %s", r.Data)
		}
		if g := made.UpdateMember; !slices.Equal(g.Grants, []string{access.MembersView}) || len(g.GrantExpiries) != 1 || !g.GrantExpiries[0].Until.Equal(want) {
			t.Errorf("grants: %s", r.Data)
		}
		if dm := made.DisableMember; dm.Status != "DISABLED" || dm.DisabledUntil == nil || !dm.DisabledUntil.Equal(want) {
			t.Errorf("disabled: %s", r.Data)
		}

		before := readExpiries(t, s, org, instructor, guestEmail, guest.MembershipID, trip)
		waitPast(t, until)
		after := readExpiries(t, s, org, instructor, guestEmail, guest.MembershipID, trip)
		for _, c := range []struct {
			what, before, after   string
			wantBefore, wantAfter string
		}{
			{"the instructor's groups", before.instructorGroups, after.instructorGroups, "Home class;Ski trip;", "Home class;"},
			{"the instructor's own membership's groups", before.ownGroups, after.ownGroups, "Home class;Ski trip;", "Home class;"},
			{"the groups in a mutation's answer", before.payloadGroups, after.payloadGroups, "Home class;Ski trip;", "Home class;"},
			{"the instructor's permissions", before.instructorPerms, after.instructorPerms,
				"members.view,attendance.track,messages.compose,messages.send", "attendance.track,messages.compose,messages.send"},
			{"explainPermission", before.explain, after.explain, `{"granted":true,"source":"GRANT"}`, `{"granted":false,"source":"NONE"}`},
			{"checkAccess of the grant", before.checkGrant, after.checkGrant, `{"granted":true,"source":"GRANT"}`, `{"granted":false,"source":"NONE"}`},
			{"checkAccess on the group", before.checkGroup, after.checkGroup, `{"granted":true,"source":"ROLE"}`, `{"granted":false,"source":"OUTSIDE_GROUP_SCOPE"}`},
			{"extra grants in the access review", before.extraGrants, after.extraGrants, string(instructor.MembershipID) + ";", ""},
			{"the instructor's membership", before.instructorAsOwner, after.instructorAsOwner,
				`{"grantExpiries":[{"permission":"members.view"}],"grants":["members.view"],"groupLinks":[{"group":{"name":"Home class"}},{"group":{"name":"Ski trip"}}],"groups":[{"name":"Home class"},{"name":"Ski trip"}],"permissions":["members.view","attendance.track","messages.compose","messages.send"],"status":"ACTIVE"}`,
				`{"grantExpiries":[],"grants":[],"groupLinks":[{"group":{"name":"Home class"}}],"groups":[{"name":"Home class"}],"permissions":["attendance.track","messages.compose","messages.send"],"status":"ACTIVE"}`},
			{"the guest's status", strings.Split(before.guestAsOwner, `,"disabledUntil"`)[0], after.guestAsOwner, `{"status":"DISABLED"`, `{"status":"ACTIVE","disabledUntil":null}`},
			{"the guest among active members", before.activeMembers, after.activeMembers, "absent", "listed"},
			{"the guest among disabled members", before.disabledMembers, after.disabledMembers, "listed", "absent"},
			{"the guest's log-in", before.guestLogIn, after.guestLogIn, "FORBIDDEN", ""},
		} {
			if c.before != c.wantBefore {
				t.Errorf("%s before the end: %s, want %s", c.what, c.before, c.wantBefore)
			}
			if c.after != c.wantAfter {
				t.Errorf("%s at the end, before the job: %s, want %s", c.what, c.after, c.wantAfter)
			}
		}

		// A message to the group no longer reaches the instructor.
		r = s.MustDo(t, owner, `mutation($g: ID!) { sendMessage(input: {subject: "Lift passes", body: "Pick them up", groupIds: [$g]}) { id } }`,
			map[string]any{"g": trip})
		var sent struct{ SendMessage struct{ ID pulid.ID } }
		r.Decode(t, &sent)
		if n := s.DB.Client.Delivery.Query().Where(delivery.MessageID(sent.SendMessage.ID)).CountX(ctx); n != 0 {
			t.Errorf("a message to the group after the link ended made %d deliveries", n)
		}

		// The job ends each once, as the system.
		n, err := s.App.Expiry.RunOnce(context.Background())
		if err != nil || n != 3 {
			t.Fatalf("the expiry job ended %d (%v), want the link, the grant and the disabled period", n, err)
		}
		if n, err := s.App.Expiry.RunOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("a second run ended %d (%v), want nothing", n, err)
		}
		r = s.MustDo(t, owner, `{ viewer { organization { auditEvents(first: 10, where: {actionIn: ["member.group_link_ended", "member.grant_ended", "member.disabled_period_ended"]}) {
			edges { node { action targetId actor { id } data } } } } } }`, nil)
		var events struct {
			Viewer struct {
				Organization struct {
					AuditEvents struct {
						Edges []struct {
							Node struct {
								Action   string
								TargetID pulid.ID `json:"targetId"`
								Actor    *struct{ ID pulid.ID }
								Data     map[string]any
							}
						}
					}
				}
			}
		}
		r.Decode(t, &events)
		got := map[string]string{}
		for _, e := range events.Viewer.Organization.AuditEvents.Edges {
			n := e.Node
			if n.Actor != nil || n.Data["actor"] != "system" {
				t.Errorf("%s is not the system's: actor %v, data %v", n.Action, n.Actor, n.Data)
			}
			got[n.Action] = string(n.TargetID) + " " + strings.TrimSpace(toString(n.Data["group"])+" "+toString(n.Data["permission"]))
		}
		wantEvents := map[string]string{
			"member.group_link_ended":      string(instructor.MembershipID) + " " + string(trip),
			"member.grant_ended":           string(instructor.MembershipID) + " " + access.MembersView,
			"member.disabled_period_ended": string(guest.MembershipID) + " ",
		}
		if len(events.Viewer.Organization.AuditEvents.Edges) != 3 || !mapsEqual(got, wantEvents) {
			t.Errorf("audit events %v, want %v", got, wantEvents)
		}
		if again := readExpiries(t, s, org, instructor, guestEmail, guest.MembershipID, trip); again != after {
			t.Errorf("after the job:\n%+v\nwant what was read before it:\n%+v", again, after)
		}
	})
}

// sortedNames lists names in order, each followed by a semicolon.
func sortedNames(groups []struct{ Name string }) string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name + ";"
	}
	slices.Sort(names)
	return strings.Join(names, "")
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// An until is in the future and at most 5 years ahead, and a grant's end
// names one of the member's grants: otherwise BAD_USER_INPUT names the field
// and nothing changes.
func TestUntilIsChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Until Club", "ACTIVITY")
		member := org.Insert(t, "instructor", "Una", "Til", "una.til@example.com", false)
		ctx := access.SystemContext(context.Background(), "test")
		class := s.DB.Client.Group.Create().SetOrganizationID(org.ID).SetName("Class").SaveX(ctx).ID
		past, far := untilIn(-time.Minute), untilIn(6*365*24*time.Hour)
		soon := untilIn(time.Hour)
		grant := func(perm, until string) map[string]any {
			return map[string]any{"grants": []any{access.MembersView}, "grantExpiries": []any{map[string]any{"permission": perm, "until": until}}}
		}
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"a link that ended already", `mutation($m: ID!, $g: ID!, $u: Time) { linkMemberGroups(id: $m, groupIds: [$g], until: $u) { id } }`,
				map[string]any{"m": member.ID, "g": class, "u": past}, "until"},
			{"a link for six years", `mutation($m: ID!, $g: ID!, $u: Time) { linkMemberGroups(id: $m, groupIds: [$g], until: $u) { id } }`,
				map[string]any{"m": member.ID, "g": class, "u": far}, "until"},
			{"a disabled period that ended already", `mutation($m: ID!, $u: Time) { disableMember(id: $m, until: $u) { id } }`,
				map[string]any{"m": member.ID, "u": past}, "until"},
			{"a disabled period of six years", `mutation($m: ID!, $u: Time) { disableMember(id: $m, until: $u) { id } }`,
				map[string]any{"m": member.ID, "u": far}, "until"},
			{"a grant that ended already", `mutation($m: ID!, $in: UpdateMemberInput!) { updateMember(id: $m, input: $in) { id } }`,
				map[string]any{"m": member.ID, "in": grant(access.MembersView, past)}, "grantExpiries"},
			{"a grant for six years", `mutation($m: ID!, $in: UpdateMemberInput!) { updateMember(id: $m, input: $in) { id } }`,
				map[string]any{"m": member.ID, "in": grant(access.MembersView, far)}, "grantExpiries"},
			{"the end of a grant not given", `mutation($m: ID!, $in: UpdateMemberInput!) { updateMember(id: $m, input: $in) { id } }`,
				map[string]any{"m": member.ID, "in": grant(access.GroupsView, soon)}, "grantExpiries"},
		} {
			r := s.Do(t, org.Owner.Token, c.query, c.vars)
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%s: data %s, errors %+v", c.name, r.Data, r.Errors)
			}
		}
		r := s.MustDo(t, org.Owner.Token, `query($m: ID!) { node(id: $m) { ... on Membership { status grants groups { id } } } }`, map[string]any{"m": member.ID})
		if string(r.Data) != `{"node":{"status":"ACTIVE","grants":[],"groups":[]}}` {
			t.Errorf("refused changes changed the member: %s", r.Data)
		}
	})
}
