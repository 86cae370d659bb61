package web_test

import (
	"net/http"
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// After a query, refused log-ins, a queued email and a bad token, /metrics has
// each of them under the labels an operator would look for.
func TestMetricsAfterRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		ada := s.SignUp(t, "ada.metrics@example.com", "Ada", "Lovelace")
		s.MustDo(t, ada.Token, `query Who { viewer { user { id } } }`, nil)
		logIn := `mutation BadLogIn($in: LogInInput!) { logIn(input: $in) { accessToken } }`
		wrong := map[string]any{"in": map[string]any{"email": ada.Email, "password": "not the password"}}
		var codes []string
		for range 4 { // three wrong passwords lock the account; the fourth is refused by the lock
			codes = append(codes, s.Do(t, "", logIn, wrong).Codes()...)
		}
		if strings.Join(codes, " ") != "INVALID_CREDENTIALS INVALID_CREDENTIALS INVALID_CREDENTIALS ACCOUNT_LOCKED" {
			t.Fatalf("log-ins answered %v", codes)
		}
		s.MustDo(t, "", `mutation { requestPasswordReset(email: "ada.metrics@example.com") }`, nil)
		if r := s.Do(t, "not-a-token", `{ __typename }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a bad token: %d", r.Status)
		}

		res := get(t, s.URL+"/metrics", "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d", res.StatusCode)
		}
		body := readAll(t, res)
		for _, want := range []string{
			`staffroom_graphql_requests_total{operation="Who",outcome="ok"} 1`,
			`staffroom_graphql_requests_total{operation="BadLogIn",outcome="error"} 4`,
			`staffroom_graphql_request_duration_seconds_count{operation="Who",outcome="ok"} 1`,
			`staffroom_graphql_errors_total{code="INVALID_CREDENTIALS"} 3`,
			`staffroom_graphql_errors_total{code="ACCOUNT_LOCKED"} 1`,
			`staffroom_login_failures_total{code="INVALID_CREDENTIALS"} 3`,
			`staffroom_login_failures_total{code="ACCOUNT_LOCKED"} 1`,
			`staffroom_http_requests_total{code="401",route="graphql"} 1`,
			`staffroom_outbox_emails{status="QUEUED"} 1`,
			`staffroom_outbox_emails{status="FAILED"} 0`,
			`go_sql_open_connections{db_name="staffroom"} `,
			`go_goroutines `,
		} {
			if !hasLine(body, want) {
				t.Errorf("no line %s in /metrics", want)
			}
		}
	})
}

// Production serves no metrics unless they are turned on.
func TestMetricsInProduction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		prod := []string{"STAFFROOM_ENV=production", "STAFFROOM_SIGNING_KEY_FILE=" + writeKey(t), "STAFFROOM_MAIL_SENDER=log"}
		off := apptest.New(t, d, prod...)
		if res := get(t, off.URL+"/metrics", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("production serves /metrics by default: %d", res.StatusCode)
		}
		on := apptest.New(t, d, append(prod, "STAFFROOM_METRICS=true")...)
		res := get(t, on.URL+"/metrics", "")
		if body := readAll(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, "staffroom_outbox_emails") {
			t.Errorf("STAFFROOM_METRICS=true: %d", res.StatusCode)
		}
		apart := apptest.New(t, d, append(prod, "STAFFROOM_METRICS=true", "STAFFROOM_METRICS_ADDR=127.0.0.1:0")...)
		if res := get(t, apart.URL+"/metrics", ""); res.StatusCode != http.StatusNotFound || apart.App.Metrics == nil {
			t.Errorf("with an address of their own, metrics are on the main listener too: %d", res.StatusCode)
		}
	})
}

// hasLine reports whether body has the line want, or, when want ends in a
// space, a line that starts with it (any value).
func hasLine(body, want string) bool {
	for _, line := range strings.Split(body, "\n") {
		if line == want || strings.HasSuffix(want, " ") && strings.HasPrefix(line, want) {
			return true
		}
	}
	return false
}
