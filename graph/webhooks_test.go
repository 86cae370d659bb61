package graph_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/auth"
	"staffroom/internal/store/storetest"
	"staffroom/internal/webhook"
)

// receiver is an app's webhook endpoint: it checks every request's
// signatures against the secrets it knows, the way the Standard Webhooks
// specification tells receivers to, and answers with the next status of its
// script (200 once the script is used up).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secrets  []string
	statuses []int
	got      []received
	clock    *clock
}

// received is one request as the receiver saw it.
type received struct {
	ID, Timestamp string
	Body          []byte
	Payload       webhook.Payload
	// Verified lists, per signature of the header, the secret (by index)
	// that verifies it, or -1.
	Verified []int
	Status   int
}

func newReceiver(t *testing.T, c *clock, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, clock: c}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	got := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"), Body: body}
	_ = json.Unmarshal(body, &got.Payload)
	got.Verified = verifySignatures(r.secrets, got.ID, got.Timestamp, body, req.Header.Get("webhook-signature"))
	got.Status = http.StatusOK
	if len(r.statuses) > 0 {
		got.Status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if ts, err := strconv.ParseInt(got.Timestamp, 10, 64); err != nil || r.clock.Now().Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		// Receivers refuse stale or future timestamps (replay protection).
		got.Status = http.StatusBadRequest
	}
	r.got = append(r.got, got)
	if got.Status == http.StatusFound {
		w.Header().Set("Location", "/elsewhere")
	}
	w.WriteHeader(got.Status)
	fmt.Fprintf(w, "status %d", got.Status)
}

// verifySignatures checks a webhook-signature header as the specification
// says: space-separated "v1,<base64>" signatures, each the HMAC-SHA256 of
// "id.timestamp.body" keyed with the base64-decoded secret after "whsec_".
func verifySignatures(secrets []string, id, timestamp string, body []byte, header string) []int {
	var out []int
	for _, sig := range strings.Fields(header) {
		version, value, _ := strings.Cut(sig, ",")
		found := -1
		for i, secret := range secrets {
			key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			if err != nil || version != "v1" {
				continue
			}
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(id + "." + timestamp + "." + string(body)))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if hmac.Equal([]byte(want), []byte(value)) {
				found = i
			}
		}
		out = append(out, found)
	}
	return out
}

func (r *receiver) trust(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, secret)
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// clock is the webhook worker's time: the real time, moved forward by the
// test instead of waiting out backoffs.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func newClock() *clock { return &clock{} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// worker is the server's webhook worker on the test's clock.
func worker(s *apptest.Server, c *clock) *webhook.Worker {
	w := *s.App.Webhooks
	w.Now = c.Now
	return &w
}

// drain attempts every due delivery and returns how many attempts it made.
func drain(t *testing.T, w *webhook.Worker) int {
	t.Helper()
	total := 0
	for range 100 {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("the worker keeps finding deliveries")
	return total
}

const createEndpointMutation = `mutation($in: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $in) { secret endpoint { id status permissions eventTypes } } }`

// createEndpoint registers an endpoint as the token's holder and makes the
// receiver trust its secret.
func createEndpoint(t *testing.T, s *apptest.Server, token string, r *receiver, in map[string]any) pulid.ID {
	t.Helper()
	if in["url"] == nil {
		in["url"] = r.URL + "/hooks"
	}
	var out struct {
		CreateWebhookEndpoint struct {
			Secret   string
			Endpoint struct{ ID pulid.ID }
		}
	}
	s.MustDo(t, token, createEndpointMutation, map[string]any{"in": in}).Decode(t, &out)
	if !strings.HasPrefix(out.CreateWebhookEndpoint.Secret, "whsec_") {
		t.Fatalf("secret %q: want whsec_ and base64", out.CreateWebhookEndpoint.Secret)
	}
	r.trust(out.CreateWebhookEndpoint.Secret)
	return out.CreateWebhookEndpoint.Endpoint.ID
}

type deliveryLog struct {
	Status     string
	Failing    *string
	Deliveries []struct {
		ID, EventType, Status, LastError string
		Attempts                         int
		LastStatusCode                   *int
		DeliveredAt                      *time.Time
	}
}

// deliveryLog reads an endpoint's status and its delivery log, newest first.
func readLog(t *testing.T, s *apptest.Server, token string, endpoint pulid.ID) deliveryLog {
	t.Helper()
	r := s.MustDo(t, token, `{ viewer { organization { webhookEndpoints { id status failingSince
		deliveries(first: 20) { edges { node { id eventType status attempts lastStatusCode lastError deliveredAt } } } } } } }`, nil)
	var out struct {
		Viewer struct {
			Organization struct {
				WebhookEndpoints []struct {
					ID           pulid.ID
					Status       string
					FailingSince *string
					Deliveries   struct {
						Edges []struct {
							Node struct {
								ID, EventType, Status, LastError string
								Attempts                         int
								LastStatusCode                   *int
								DeliveredAt                      *time.Time
							}
						}
					}
				}
			}
		}
	}
	r.Decode(t, &out)
	for _, ep := range out.Viewer.Organization.WebhookEndpoints {
		if ep.ID != endpoint {
			continue
		}
		l := deliveryLog{Status: ep.Status, Failing: ep.FailingSince}
		for _, e := range ep.Deliveries.Edges {
			l.Deliveries = append(l.Deliveries, e.Node)
		}
		return l
	}
	t.Fatalf("endpoint %s is not listed", endpoint)
	return deliveryLog{}
}

func TestWebhooksDeliverSignedEventsOfTheChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Hooked Club", "ACTIVITY")
		ina := org.AddMember(t, "instructor", "Ina", "Structor")
		c := newClock()
		rec := newReceiver(t, c)
		ep := createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"member.*", "group.created"}})

		owner := org.Owner.Token
		s.MustDo(t, owner, `mutation { createGroup(input: {name: "Kayak", kind: CLASS}) { id } }`, nil)
		s.MustDo(t, owner, `mutation($id: ID!) { updateMember(id: $id, input: {title: "Head coach"}) { id } }`, map[string]any{"id": ina.MembershipID})
		s.MustDo(t, owner, `mutation($id: ID!) { disableMember(id: $id) { id } }`, map[string]any{"id": ina.MembershipID})
		// Not subscribed: nothing is queued for it.
		s.MustDo(t, owner, `mutation { createRole(input: {key: "coach", name: "Coach", permissions: []}) { id } }`, nil)
		// A change that fails queues nothing either: the events are in its transaction.
		if r := s.Do(t, owner, `mutation($id: ID!) { updateMember(id: $id, input: {username: "bad name!"}) { id } }`,
			map[string]any{"id": ina.MembershipID}); len(r.Errors) == 0 {
			t.Fatal("a bad username was accepted")
		}

		if n := drain(t, worker(s, c)); n != 3 {
			t.Fatalf("%d attempts, want one per event: group.created, member.updated, member.disabled", n)
		}
		got := rec.received()
		// Attempts run side by side: the payload's timestamp orders the events.
		slices.SortFunc(got, func(a, b received) int { return a.Payload.Timestamp.Compare(b.Payload.Timestamp) })
		types := []string{}
		for _, g := range got {
			types = append(types, g.Payload.Type)
			if len(g.Verified) != 1 || g.Verified[0] != 0 {
				t.Errorf("%s: signatures %v, want one that the endpoint's secret verifies", g.Payload.Type, g.Verified)
			}
			if !strings.HasPrefix(g.ID, "whd_") || g.Payload.OrganizationID != string(org.ID) || g.Payload.Timestamp.IsZero() {
				t.Errorf("request %s: %s", g.ID, g.Body)
			}
		}
		if strings.Join(types, ",") != "group.created,member.updated,member.disabled" {
			t.Errorf("event types %v, in the order of the changes", types)
		}
		var member struct {
			Typename string `json:"__typename"`
			ID       string
			Title    string
			Status   string
			Role     struct{ Key string }
			User     struct{ FirstName, Email string }
		}
		if err := json.Unmarshal(got[2].Payload.Data, &member); err != nil {
			t.Fatal(err)
		}
		if member.Typename != "Membership" || member.ID != string(ina.MembershipID) || member.Title != "Head coach" ||
			member.Status != "DISABLED" || member.Role.Key != "instructor" || member.User.Email != ina.Email {
			t.Errorf("member.disabled data: %s", got[2].Payload.Data)
		}

		log := readLog(t, s, owner, ep)
		if log.Status != "ENABLED" || len(log.Deliveries) != 3 {
			t.Fatalf("log: %+v", log)
		}
		for _, d := range log.Deliveries {
			if d.Status != "DELIVERED" || d.Attempts != 1 || d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.DeliveredAt == nil {
				t.Errorf("delivery %+v", d)
			}
		}
		if log.Deliveries[0].EventType != "member.disabled" {
			t.Errorf("the log starts with %s, want the newest", log.Deliveries[0].EventType)
		}
	})
}

func TestWebhookEventTypesAreChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Typed Club", "ACTIVITY")
		for _, c := range []struct {
			in    map[string]any
			field string
		}{
			{map[string]any{"url": "http://127.0.0.1:9/x", "eventTypes": []any{"member.exploded"}}, "eventTypes"},
			{map[string]any{"url": "http://127.0.0.1:9/x", "eventTypes": []any{"billing.*"}}, "eventTypes"},
			{map[string]any{"url": "http://127.0.0.1:9/x", "eventTypes": []any{}}, "eventTypes"},
			{map[string]any{"url": "ftp://example.com/x", "eventTypes": []any{"role.*"}}, "url"},
			{map[string]any{"url": "https://user:pw@example.com/x", "eventTypes": []any{"role.*"}}, "url"},
			{map[string]any{"url": "http://127.0.0.1:9/x", "eventTypes": []any{"role.*"}, "permissions": []any{"no.such"}}, "permissions"},
		} {
			r := s.Do(t, org.Owner.Token, createEndpointMutation, map[string]any{"in": c.in})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%v: %+v, want BAD_USER_INPUT on %s", c.in, r.Errors, c.field)
			}
		}
		r := s.MustDo(t, org.Owner.Token, createEndpointMutation, map[string]any{"in": map[string]any{
			"url": "http://127.0.0.1:9/x", "eventTypes": []any{"role.*", "member.joined", "role.*"}}})
		if !strings.Contains(string(r.Data), `"eventTypes":["member.joined","role.*"]`) {
			t.Errorf("event types are kept once, sorted: %s", r.Data)
		}
	})
}

func TestWebhookRetriesAfterServerErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Retry Club", "ACTIVITY")
		c := newClock()
		rec := newReceiver(t, c, 500, http.StatusFound, 200)
		ep := createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"group.*"}})
		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "Juniors", kind: TEAM}) { id } }`, nil)
		w := worker(s, c)

		if n := drain(t, w); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
		first := readLog(t, s, org.Owner.Token, ep).Deliveries[0]
		if first.Status != "QUEUED" || first.Attempts != 1 || *first.LastStatusCode != 500 || !strings.Contains(first.LastError, "HTTP 500: status 500") {
			t.Fatalf("after a 500: %+v", first)
		}
		// Nothing is due before the backoff has passed.
		if n := drain(t, w); n != 0 {
			t.Fatalf("retried at once: %d attempts", n)
		}
		c.Advance(time.Minute)
		drain(t, w)
		second := readLog(t, s, org.Owner.Token, ep).Deliveries[0]
		if second.Status != "QUEUED" || second.Attempts != 2 || !strings.Contains(second.LastError, "redirects are not followed") {
			t.Fatalf("after a redirect: %+v", second)
		}
		c.Advance(2 * time.Minute)
		drain(t, w)
		last := readLog(t, s, org.Owner.Token, ep)
		if got := last.Deliveries[0]; got.Status != "DELIVERED" || got.Attempts != 3 || *got.LastStatusCode != 200 || got.LastError != "" {
			t.Fatalf("after a 200: %+v", got)
		}
		if last.Failing != nil {
			t.Errorf("a delivered attempt ends the failure streak: failingSince %v", *last.Failing)
		}
		got := rec.received()
		if len(got) != 3 || got[0].ID != got[2].ID || string(got[0].Body) != string(got[2].Body) {
			t.Errorf("retries send the same webhook-id and body: %d requests", len(got))
		}
		if len(rec.received()) != 3 {
			t.Errorf("the redirect was followed")
		}
	})
}

func TestWebhookEndpointSuspendedAfterPersistentFailureThenReplayed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_WEBHOOK_RETRY_FOR=6h", "STAFFROOM_WEBHOOK_SUSPEND_AFTER=6h")
		org := s.CreateOrg(t, "Failing Club", "ACTIVITY")
		c := newClock()
		failures := make([]int, 40)
		for i := range failures {
			failures[i] = http.StatusServiceUnavailable
		}
		rec := newReceiver(t, c, failures...)
		ep := createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"role.*"}})
		s.MustDo(t, org.Owner.Token, `mutation { createRole(input: {key: "lifeguard", name: "Lifeguard", permissions: []}) { id } }`, nil)
		w := worker(s, c)

		attempts := 0
		for range 40 {
			attempts += drain(t, w)
			if readLog(t, s, org.Owner.Token, ep).Status != "ENABLED" {
				break
			}
			c.Advance(time.Hour)
		}
		log := readLog(t, s, org.Owner.Token, ep)
		if log.Status != "SUSPENDED" || log.Deliveries[0].Status != "FAILED" || !strings.Contains(log.Deliveries[0].LastError, "HTTP 503") {
			t.Fatalf("after %d failed attempts over a retry period: %+v", attempts, log)
		}
		if attempts < 4 {
			t.Errorf("only %d attempts in 6 hours of backoff", attempts)
		}
		s.Deliver(t)
		mailed := false
		for _, m := range s.Mail.Sent() {
			if m.To == org.Owner.Email && strings.Contains(m.Subject, "Webhooks of Failing Club were turned off") &&
				strings.Contains(m.Text, rec.URL+"/hooks") {
				mailed = true
			}
		}
		if !mailed {
			t.Errorf("the owner was not emailed about the suspended endpoint")
		}
		r := s.MustDo(t, org.Owner.Token, `{ viewer { organization { auditEvents(first: 5, where: {action: "webhook.suspended"}) { totalCount } } } }`, nil)
		if !strings.Contains(string(r.Data), `"totalCount":1`) {
			t.Errorf("the suspension is audited: %s", r.Data)
		}

		// A suspended endpoint gets nothing new, and replaying needs it enabled.
		s.MustDo(t, org.Owner.Token, `mutation { createRole(input: {key: "lifeguard2", name: "Lifeguard 2", permissions: []}) { id } }`, nil)
		failed := log.Deliveries[0].ID
		replay := `mutation($id: ID!) { replayWebhookDelivery(id: $id) { id status } }`
		if r := s.Do(t, org.Owner.Token, replay, map[string]any{"id": failed}); len(r.Errors) == 0 || r.Errors[0].Code() != "CONFLICT" {
			t.Errorf("replay to a suspended endpoint: %+v", r.Errors)
		}
		s.MustDo(t, org.Owner.Token, `mutation($id: ID!) { enableWebhookEndpoint(id: $id) { status } }`, map[string]any{"id": ep})
		rec.mu.Lock()
		rec.statuses = nil
		rec.mu.Unlock()
		s.MustDo(t, org.Owner.Token, replay, map[string]any{"id": failed})
		if n := drain(t, w); n != 1 {
			t.Fatalf("%d attempts after the replay, want 1", n)
		}
		log = readLog(t, s, org.Owner.Token, ep)
		if len(log.Deliveries) != 1 || log.Deliveries[0].Status != "DELIVERED" || log.Status != "ENABLED" {
			t.Fatalf("after enabling and replaying: %+v", log)
		}
		got := rec.received()
		if last := got[len(got)-1]; last.ID != failed || last.Status != 200 || last.Verified[0] != 0 {
			t.Errorf("the replay is sent with the same webhook-id: %+v", last)
		}
		// A delivered one is replayed as well: the same event again.
		s.MustDo(t, org.Owner.Token, replay, map[string]any{"id": failed})
		drain(t, w)
		if got2 := rec.received(); len(got2) != len(got)+1 || got2[len(got2)-1].ID != failed {
			t.Errorf("replaying a delivered event: %d requests", len(got2))
		}
	})
}

func TestWebhookSecretRotationSignsWithBothDuringTheOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Rotating Club", "ACTIVITY")
		c := newClock()
		rec := newReceiver(t, c)
		ep := createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"group.*"}})
		r := s.MustDo(t, org.Owner.Token, `mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapHours: 24) { secret endpoint { previousSecretExpiresAt } } }`,
			map[string]any{"id": ep})
		var out struct {
			RotateWebhookSecret struct {
				Secret   string
				Endpoint struct{ PreviousSecretExpiresAt *time.Time }
			}
		}
		r.Decode(t, &out)
		if out.RotateWebhookSecret.Endpoint.PreviousSecretExpiresAt == nil {
			t.Fatalf("the old secret's end is shown: %s", r.Data)
		}
		rec.trust(out.RotateWebhookSecret.Secret) // secret 1; the old one is 0
		w := worker(s, c)

		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "During"}) { id } }`, nil)
		drain(t, w)
		got := rec.received()
		if v := got[len(got)-1].Verified; len(v) != 2 || v[0] != 1 || v[1] != 0 {
			t.Errorf("during the overlap: signatures verified by %v, want the new secret's then the old one's", v)
		}

		c.Advance(25 * time.Hour)
		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "After"}) { id } }`, nil)
		drain(t, w)
		got = rec.received()
		if v := got[len(got)-1].Verified; len(v) != 1 || v[0] != 1 {
			t.Errorf("after the overlap: signatures verified by %v, want the new secret's alone", v)
		}

		if r := s.Do(t, org.Owner.Token, `mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapHours: 73) { secret } }`,
			map[string]any{"id": ep}); len(r.Errors) != 1 || r.Errors[0].Extensions["field"] != "overlapHours" {
			t.Errorf("an overlap of 73 hours: %+v", r.Errors)
		}
	})
}

// writeSigningKey writes a signing key for a production server.
func writeSigningKey(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := auth.LoadKeySet("", nil, dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, auth.DevSigningKeyFile)
}

func TestWebhooksRefuseThisMachineInProduction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		dev := apptest.New(t, d)
		org := dev.CreateOrg(t, "Guarded Club", "ACTIVITY")
		c := newClock()
		tlsRec := &receiver{clock: c}
		tlsRec.Server = httptest.NewTLSServer(http.HandlerFunc(tlsRec.serve))
		t.Cleanup(tlsRec.Close)
		// Registered while the name was harmless, say; what counts is where it leads at send time.
		ep := createEndpoint(t, dev, org.Owner.Token, tlsRec, map[string]any{"eventTypes": []any{"group.*"}})

		prod := dev.Restart(t, "STAFFROOM_ENV=production", "STAFFROOM_SIGNING_KEY_FILE="+writeSigningKey(t), "STAFFROOM_MAIL_SENDER=log")
		owner := prod.LogIn(t, org.Owner.Email, org.ID)
		prod.MustDo(t, owner.Token, `mutation { createGroup(input: {name: "Rebound"}) { id } }`, nil)
		drain(t, worker(prod, c))
		if n := len(tlsRec.received()); n != 0 {
			t.Fatalf("the receiver on this machine got %d requests", n)
		}
		got := readLog(t, prod, owner.Token, ep).Deliveries[0]
		if got.Status != "QUEUED" || got.LastStatusCode != nil ||
			!strings.Contains(got.LastError, "refused to connect to 127.0.0.1: a loopback address") {
			t.Errorf("delivery to loopback in production: %+v", got)
		}

		for _, url := range []string{"http://example.com/hooks", "https://127.0.0.1/hooks", "https://[::1]/hooks",
			"https://10.1.2.3/hooks", "https://169.254.169.254/latest", "https://localhost:8443/hooks"} {
			r := prod.Do(t, owner.Token, createEndpointMutation, map[string]any{"in": map[string]any{"url": url, "eventTypes": []any{"group.*"}}})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "url" {
				t.Errorf("%s in production: %+v", url, r.Errors)
			}
		}
		prod.MustDo(t, owner.Token, createEndpointMutation, map[string]any{"in": map[string]any{
			"url": "https://hooks.example.com/staffroom", "eventTypes": []any{"group.*"}}})
	})
}

func TestWebhookPayloadsShowWhatTheCreatorMayRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Private Club", "ACTIVITY")
		owner := org.Owner.Token
		s.MustDo(t, owner, `mutation { createRole(input: {key: "integrator", name: "Integrator", permissions: ["integrations.manage", "members.view"]}) { id } }`, nil)
		integrator := org.AddMember(t, "integrator", "Ivo", "Integrator")
		ina := org.AddMember(t, "instructor", "Ina", "Structor")
		c := newClock()
		ownerRec, integratorRec := newReceiver(t, c), newReceiver(t, c)
		ownerEP := createEndpoint(t, s, owner, ownerRec, map[string]any{"eventTypes": []any{"member.updated"}})
		// An endpoint that reads groups only: members are not its to see.
		groupsRec := newReceiver(t, c)
		createEndpoint(t, s, owner, groupsRec, map[string]any{"eventTypes": []any{"member.updated"}, "permissions": []any{"groups.view"}})
		integratorEP := createEndpoint(t, s, integrator.Token, integratorRec, map[string]any{"eventTypes": []any{"member.updated"}})

		// No escalation: an endpoint reads with permissions its creator holds.
		if r := s.Do(t, integrator.Token, createEndpointMutation, map[string]any{"in": map[string]any{
			"url": integratorRec.URL, "eventTypes": []any{"member.*"}, "permissions": []any{"members.view", "members.contact"}}}); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("an endpoint with members.contact made by someone without it: %+v", r.Errors)
		}
		// Nor by taking over the owner's endpoint: another URL or a new secret would hand its payloads over.
		for _, q := range []string{
			`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {url: "http://127.0.0.1:9/mine"}) { url } }`,
			`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`,
		} {
			if r := s.Do(t, integrator.Token, q, map[string]any{"id": ownerEP}); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
				t.Errorf("%s on the owner's endpoint by the integrator: %+v", q, r.Errors)
			}
		}

		s.MustDo(t, owner, `mutation($id: ID!) { updateMember(id: $id, input: {title: "Coach"}) { id } }`, map[string]any{"id": ina.MembershipID})
		drain(t, worker(s, c))
		user := func(r *receiver) map[string]any {
			got := r.received()
			if len(got) != 1 {
				t.Fatalf("%d requests", len(got))
			}
			var data struct{ User map[string]any }
			if err := json.Unmarshal(got[0].Payload.Data, &data); err != nil {
				t.Fatal(err)
			}
			return data.User
		}
		if u := user(ownerRec); u["email"] != ina.Email || u["firstName"] != "Ina" {
			t.Errorf("the owner's endpoint: user %v", u)
		}
		if u := user(integratorRec); u["email"] != nil || u["firstName"] != "Ina" {
			t.Errorf("the endpoint of a creator without members.contact shows %v; want the name without the email", u)
		}
		if got := groupsRec.received(); len(got) != 1 ||
			string(got[0].Payload.Data) != `{"__typename":"Membership","id":"`+string(ina.MembershipID)+`"}` {
			t.Errorf("the endpoint without members.view: %d requests, data %s", len(got), got[0].Payload.Data)
		}
		r := s.MustDo(t, owner, `{ viewer { organization { webhookEndpoints { id permissions } } } }`, nil)
		if !strings.Contains(string(r.Data), `{"id":"`+string(integratorEP)+`","permissions":["integrations.manage","members.view"]}`) {
			t.Errorf("the integrator's endpoint reads with the integrator's permissions: %s", r.Data)
		}
		// What may be given up, may be: the integrator turns the owner's endpoint off.
		s.MustDo(t, integrator.Token, `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { status } }`, map[string]any{"id": ownerEP})
	})
}

func TestWebhookWorkersRacingDeliverEachEventOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		if d.Name == "sqlite" {
			t.Skip("SQLite serves one process: replicas racing for deliveries share PostgreSQL")
		}
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Racing Club", "ACTIVITY")
		c := newClock()
		rec := newReceiver(t, c)
		createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"group.*"}})
		createEndpoint(t, s, org.Owner.Token, rec, map[string]any{"eventTypes": []any{"group.created"}})
		const events = 30
		for i := range events {
			s.MustDo(t, org.Owner.Token, `mutation($n: String!) { createGroup(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("Group %d", i)})
		}
		var wg sync.WaitGroup
		perWorker := make([]int, 2)
		for i := range perWorker {
			w := worker(s, c)
			w.BatchSize = 4
			wg.Go(func() {
				for {
					n, err := w.RunOnce(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
					perWorker[i] += n
				}
			})
		}
		wg.Wait()
		t.Logf("attempts per worker: %v", perWorker)
		count := map[string]int{}
		for _, g := range rec.received() {
			count[g.ID]++
		}
		for id, n := range count {
			if n != 1 {
				t.Errorf("delivery %s arrived %d times", id, n)
			}
		}
		if len(count) != 2*events {
			t.Errorf("%d distinct deliveries arrived, want %d", len(count), 2*events)
		}
	})
}

func TestDeleteModulePermissionRefusesOneInUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Modular Club", "ACTIVITY")
		owner := org.Owner.Token
		define := func(key string) pulid.ID {
			var out struct{ CreateModulePermission struct{ ID pulid.ID } }
			s.MustDo(t, owner, `mutation($k: String!) { createModulePermission(input: {key: $k, name: "P", app: "App"}) { id } }`,
				map[string]any{"k": key}).Decode(t, &out)
			return out.CreateModulePermission.ID
		}
		inRole, granted, keyed, free := define("app.desk.role"), define("app.desk.grant"), define("app.desk.key"), define("app.desk.free")
		s.MustDo(t, owner, `mutation { createRole(input: {key: "desk", name: "Desk", permissions: ["app.desk.role"]}) { id } }`, nil)
		ina := org.AddMember(t, "instructor", "Ina", "Structor")
		s.MustDo(t, owner, `mutation($id: ID!) { updateMember(id: $id, input: {revokes: ["app.desk.grant"]}) { id } }`, map[string]any{"id": ina.MembershipID})
		_, keyID := createKey(t, s, owner, map[string]any{"name": "Desk app", "permissions": []any{"app.desk.key"}})

		del := `mutation($id: ID!) { deleteModulePermission(id: $id) }`
		for id, says := range map[pulid.ID]string{inRole: "the roles desk hold app.desk.role", granted: "app.desk.grant is granted or revoked on 1 member", keyed: "1 working API key carries app.desk.key"} {
			r := s.Do(t, owner, del, map[string]any{"id": id})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, says) {
				t.Errorf("deleting %s: %+v, want CONFLICT saying %q", id, r.Errors, says)
			}
		}
		s.MustDo(t, owner, `mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": keyID})
		for _, id := range []pulid.ID{free, keyed} {
			if r := s.MustDo(t, owner, del, map[string]any{"id": id}); !strings.Contains(string(r.Data), string(id)) {
				t.Errorf("delete %s: %s", id, r.Data)
			}
		}
		r := s.MustDo(t, owner, `{ viewer { organization { modulePermissions { key } } } }`, nil)
		if strings.Contains(string(r.Data), "app.desk.free") || !strings.Contains(string(r.Data), "app.desk.role") {
			t.Errorf("after deleting: %s", r.Data)
		}
		if r := s.Do(t, owner, `mutation { createRole(input: {key: "free", name: "Free", permissions: ["app.desk.free"]}) { id } }`, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("a deleted module permission is unknown: %+v", r.Errors)
		}
	})
}

func TestAccessReviewListsWorkingAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Reviewed Club", "ACTIVITY")
		owner := org.Owner.Token
		createKey(t, s, owner, map[string]any{"name": "Bookings", "permissions": bookingsKey, "expiresInDays": 30})
		_, revoked := createKey(t, s, owner, map[string]any{"name": "Old sync", "permissions": []any{access.MembersView}})
		s.MustDo(t, owner, `mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": revoked})
		q := `{ viewer { organization { accessReview { apiKeys { name permissions expiresAt lastUsedAt } } } } }`
		r := s.MustDo(t, owner, q, nil)
		var out struct {
			Viewer struct {
				Organization struct {
					AccessReview struct {
						APIKeys []struct {
							Name        string
							Permissions []string
							ExpiresAt   *time.Time
						}
					}
				}
			}
		}
		r.Decode(t, &out)
		keys := out.Viewer.Organization.AccessReview.APIKeys
		if len(keys) != 1 || keys[0].Name != "Bookings" || len(keys[0].Permissions) != 4 || keys[0].ExpiresAt == nil {
			t.Errorf("the review lists the working key with its permissions and expiry: %s", r.Data)
		}
		admin := org.AddMember(t, "administrator", "Ada", "Admin")
		if r := s.Do(t, admin.Token, q, nil); len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("an administrator without integrations.manage: %+v %s", r.Errors, r.Data)
		}
	})
}
