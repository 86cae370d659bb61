package graph_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"staffroom/ent/phoneverification"
	"staffroom/internal/app/apptest"
	"staffroom/internal/messaging"
	"staffroom/internal/store/storetest"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// TestPhoneVerification: a member proves their number with a texted code
// (stored hashed, 5 attempts, 3 codes an hour); an organization that requires
// verified numbers skips SMS to the others; the member list shows who proved.
func TestPhoneVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		provider := startSMSProvider(t, "")
		s := apptest.New(t, d, smsEnv(provider)...)
		org := s.CreateOrg(t, "Phone Club", "ACTIVITY")
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent")
		member := org.AddMember(t, "instructor", "Pia", "Phone")
		setPhone(t, s, member.MembershipID, "+15550400001")
		s.MustDo(t, org.Owner.Token, `mutation { updateMessagingSettings(input: {requireVerifiedPhone: true}) { requireVerifiedPhone } }`, nil)
		r := s.MustDo(t, agent.Token, `{ viewer { organization { messagingSettings { requireVerifiedPhone } } } }`, nil)
		if !strings.Contains(string(r.Data), `"requireVerifiedPhone":true`) {
			t.Fatalf("settings: %s", r.Data)
		}
		textTo := func() messageView {
			id := sendMessage(t, s, agent.Token, map[string]any{"channel": "SMS", "body": "Gym closed", "memberIds": []any{member.MembershipID}})
			s.Deliver(t)
			return readMessage(t, s, agent.Token, id)
		}
		if row := textTo().byRecipient()[member.MembershipID]; row.Status != "SKIPPED" || row.Reason != messaging.SkipUnverifiedPhone {
			t.Fatalf("unverified number: %+v", row)
		}

		request := func() *apptest.Response {
			return s.Do(t, member.Token, `mutation { requestPhoneVerification }`, nil)
		}
		lastCode := func() string {
			posts := provider.received()
			return sixDigits.FindString(posts[len(posts)-1].Get("Body"))
		}
		confirm := func(code string) []string {
			return s.Do(t, member.Token, `mutation($c: String!) { confirmPhoneVerification(code: $c) }`, map[string]any{"c": code}).Codes()
		}
		if r := request(); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		s.Deliver(t)
		code := lastCode()
		if code == "" {
			t.Fatalf("no code texted: %v", provider.received())
		}
		for _, row := range s.DB.Client.PhoneVerification.Query().AllX(fixtureCtx()) {
			if strings.Contains(row.CodeHash, code) {
				t.Error("the code is stored in the clear")
			}
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if got := confirm(wrong); !slices.Equal(got, []string{"BAD_USER_INPUT"}) {
			t.Errorf("wrong code: %v", got)
		}
		if got := confirm(code); len(got) != 0 {
			t.Fatalf("right code: %v", got)
		}
		verified := `query($id: ID!) { node(id: $id) { ... on Membership { user { phoneVerified } } } }`
		for who, token := range map[string]string{"member": member.Token, "owner": org.Owner.Token} {
			if r := s.MustDo(t, token, verified, map[string]any{"id": member.MembershipID}); !strings.Contains(string(r.Data), `"phoneVerified":true`) {
				t.Errorf("%s reads: %s", who, r.Data)
			}
		}
		// The agent lists members but may not read contact details.
		if r := s.MustDo(t, agent.Token, verified, map[string]any{"id": member.MembershipID}); !strings.Contains(string(r.Data), `"phoneVerified":null`) {
			t.Errorf("agent reads: %s", r.Data)
		}
		if row := textTo().byRecipient()[member.MembershipID]; row.Status != "SENT" {
			t.Errorf("verified number: %+v", row)
		}

		// Five wrong guesses use a code up.
		request()
		s.Deliver(t)
		code = lastCode()
		for range messaging.PhoneCodeAttempts {
			confirm(wrong)
		}
		if got := confirm(code); !slices.Equal(got, []string{"BAD_USER_INPUT"}) {
			t.Errorf("code after 5 wrong guesses: %v", got)
		}
		attempts := s.DB.Client.PhoneVerification.Query().Order(phoneverification.ByCreatedAt()).AllX(fixtureCtx())
		if n := attempts[len(attempts)-1].Attempts; n != messaging.PhoneCodeAttempts {
			t.Errorf("%d attempts counted, want %d", n, messaging.PhoneCodeAttempts)
		}
		// Three codes an hour for one person.
		if r := request(); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if got := request().Codes(); !slices.Equal(got, []string{"RATE_LIMITED"}) {
			t.Errorf("fourth code in an hour: %v", got)
		}
		// A new number needs a new proof.
		setPhone(t, s, member.MembershipID, "+15550400002")
		if r := s.MustDo(t, member.Token, verified, map[string]any{"id": member.MembershipID}); !strings.Contains(string(r.Data), `"phoneVerified":false`) {
			t.Errorf("after changing the number: %s", r.Data)
		}
	})
}
