package webhook

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The example of the Standard Webhooks specification: a receiver written
// from it accepts what Sign produces.
func TestSignMatchesTheSpecificationExample(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

var addresses = []struct {
	ip      string
	refused bool
}{
	{"127.0.0.1", true}, {"127.8.9.10", true}, {"::1", true},
	{"10.0.0.1", true}, {"172.16.5.4", true}, {"192.168.1.1", true}, {"fd00::1", true},
	{"169.254.169.254", true}, {"fe80::1", true},
	{"0.0.0.0", true}, {"::", true}, {"224.0.0.1", true}, {"ff02::1", true},
	{"100.64.0.1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
	{"93.184.216.34", false}, {"2606:2800:220:1:248:1893:25c8:1946", false}, {"8.8.8.8", false},
}

func TestOnlyPublicAddressesAreReached(t *testing.T) {
	for _, a := range addresses {
		err := refusePrivate("tcp", netip.AddrPortFrom(netip.MustParseAddr(a.ip), 443).String(), nil)
		if (err != nil) != a.refused {
			t.Errorf("%s: %v, want refused %v", a.ip, err, a.refused)
		}
	}
}

func TestEventsOfAuditActions(t *testing.T) {
	for _, c := range []struct {
		action string
		want   []string
	}{
		{"member.groups_linked", []string{"member.updated"}},
		{"member.left", []string{"member.removed"}},
		{"member.grant_ended", []string{"member.updated"}},
		{"member.group_link_ended", []string{"member.updated"}},
		{"member.disabled_period_ended", []string{"member.enabled"}},
		{"invitation.accepted", []string{"member.joined", "invitation.accepted"}},
		{"member.password_set", nil},
		{"role.previewed", nil},
		{"billing.updated", nil},
		{"organization.ownership_transferred", []string{"member.role_changed mem_1", "member.role_changed mem_0"}},
	} {
		var got []string
		for _, e := range eventsOf(c.action, "Membership", "mem_1", map[string]any{"invitation": "inv_1", "from": "mem_0"}) {
			if c.action == "organization.ownership_transferred" {
				got = append(got, e.Type+" "+e.TargetID)
			} else {
				got = append(got, e.Type)
			}
			if !Subscribed([]string{familyWildcard(e.Type)}, e.Type) {
				t.Errorf("%s is not in its family's wildcard", e.Type)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: events %v, want %v", c.action, got, c.want)
		}
	}
}

func familyWildcard(t string) string {
	for i := range t {
		if t[i] == '.' {
			return t[:i] + ".*"
		}
	}
	return t
}
