package graph_test

import (
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// Names that look alike are stored alike: a decomposed "Café" is the composed
// one, so the unique group name holds against it, and invisible or control
// characters are refused wherever a name is written.
func TestNamesAreNormalizedAndPlain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		org := s.CreateOrg(t, "Names Club", "ACTIVITY")
		owner := org.Owner.Token
		create := `mutation($n: String!) { createGroup(input: {name: $n}) { name } }`

		r := s.MustDo(t, owner, create, map[string]any{"n": "Cafe\u0301"})
		if !strings.Contains(string(r.Data), `"Café"`) || strings.Contains(string(r.Data), "e\u0301") {
			t.Errorf("a decomposed name is stored composed: %s", r.Data)
		}
		if r := s.Do(t, owner, create, map[string]any{"n": "Café"}); len(r.Errors) == 0 || r.Errors[0].Code() != "CONFLICT" {
			t.Errorf("the composed twin of an existing group name: want CONFLICT, got %v %s", r.Codes(), r.Data)
		}

		refused := []struct{ query, field string }{
			{`mutation { createGroup(input: {name: "Class\u202E1"}) { id } }`, "name"},
			{`mutation { createGroup(input: {name: "Cla\u200Bss"}) { id } }`, "name"},
			{`mutation { updateProfile(input: {firstName: "Ad\u200Da"}) { id } }`, "firstName"},
			{`mutation { updateProfile(input: {lastName: "Love\u2067lace"}) { id } }`, "lastName"},
			{`mutation { updateOrganization(input: {name: "Names\u0007Club"}) { id } }`, "name"},
			{`mutation { signUp(input: {email: "mallory@example.com", password: "a long passphrase", firstName: "Mal\u202Elory", lastName: "M"}) { email } }`, "firstName"},
		}
		for _, c := range refused {
			r := s.Do(t, owner, c.query, nil)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%s: want BAD_USER_INPUT on %s, got %v %v", c.query, c.field, r.Codes(), r.Errors)
			}
		}
		r = s.MustDo(t, owner, `{ viewer { user { firstName } organization { name groups { totalCount } } } }`, nil)
		if !strings.Contains(string(r.Data), `"totalCount":1`) || !strings.Contains(string(r.Data), `"Names Club"`) {
			t.Errorf("a refused write changed something: %s", r.Data)
		}
	})
}
