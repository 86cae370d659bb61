package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/outboxemail"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/app/apptest"
	"staffroom/internal/mail"
	"staffroom/internal/mail/mailtest"
	"staffroom/internal/messaging"
	"staffroom/internal/outbox"
	"staffroom/internal/sms"
	"staffroom/internal/store/storetest"
)

// smsProvider is a local HTTP endpoint in the format of Twilio's Messages API.
type smsProvider struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []url.Values
	reject string // a number answered with 400, as an invalid number
}

const (
	smsAccount = "AC0123"
	smsToken   = "sms-secret-token"
)

func startSMSProvider(t testing.TB, reject string) *smsProvider {
	p := &smsProvider{reject: reject}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != smsAccount || pass != smsToken {
			http.Error(w, `{"code":20003,"message":"Authenticate"}`, http.StatusUnauthorized)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.posts = append(p.posts, r.PostForm)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("To") == p.reject {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":21211,"message":"The 'To' number `+p.reject+` is not a valid phone number.","status":400}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM123","status":"queued"}`)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *smsProvider) received() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.posts)
}

// smsEnv configures a server's SMS sender for the provider; receipts are
// signed for callbackURL.
func smsEnv(p *smsProvider) []string {
	return []string{"STAFFROOM_SMS_URL=" + p.URL, "STAFFROOM_SMS_ACCOUNT=" + smsAccount, "STAFFROOM_SMS_TOKEN=" + smsToken,
		"STAFFROOM_SMS_FROM=+15550000000", "STAFFROOM_SMS_CALLBACK_URL=" + callbackURL}
}

const callbackURL = "https://staffroom.test/sms/receipts"

// setPhone gives a member's login a mobile number, as their profile would.
func setPhone(t testing.TB, s *apptest.Server, member pulid.ID, phone string) {
	t.Helper()
	ctx := access.SystemContext(context.Background(), "test fixture")
	m := s.DB.Client.Membership.GetX(ctx, member)
	s.DB.Client.User.UpdateOneID(m.UserID).SetPhone(phone).ExecX(ctx)
}

func fixtureCtx() context.Context { return access.SystemContext(context.Background(), "test fixture") }

type deliveryRow struct {
	Status, Via, Channel, Reason string
	SentAt                       *string
	Recipient                    *struct{ ID pulid.ID }
}

type messageView struct {
	ID         pulid.ID
	Status     string
	Stats      struct{ Total, Queued, Sent, Failed, Skipped int }
	Deliveries struct {
		TotalCount int
		Edges      []struct{ Node deliveryRow }
	}
}

const messageFields = `id status stats { total queued sent failed skipped }
	deliveries(first: 100) { totalCount edges { node { status via channel reason sentAt recipient { id } } } }`

func readMessage(t testing.TB, s *apptest.Server, token string, id pulid.ID) messageView {
	t.Helper()
	var out struct{ Node messageView }
	r := s.MustDo(t, token, `query($id: ID!) { node(id: $id) { ... on Message { `+messageFields+` } } }`,
		map[string]any{"id": id})
	r.Decode(t, &out)
	return out.Node
}

func sendMessage(t testing.TB, s *apptest.Server, token string, in map[string]any) pulid.ID {
	t.Helper()
	var out struct{ SendMessage struct{ ID pulid.ID } }
	s.MustDo(t, token, `mutation($in: SendMessageInput!) { sendMessage(input: $in) { id } }`, map[string]any{"in": in}).Decode(t, &out)
	return out.SendMessage.ID
}

func (m messageView) byRecipient() map[pulid.ID]deliveryRow {
	out := map[pulid.ID]deliveryRow{}
	for _, e := range m.Deliveries.Edges {
		if e.Node.Recipient != nil {
			out[e.Node.Recipient.ID] = e.Node
		}
	}
	return out
}

// TestSendMessageReachesEachPersonOnce: a message to a group, a direct
// recipient who is also in the group, a CC and a BCC gives one email per
// person; disabled and removed members of the group are skipped and counted;
// members who join the group later get nothing.
func TestSendMessageReachesEachPersonOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Delivery Club", "ACTIVITY")
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent")
		admin := org.AddMember(t, "administrator", "Adam", "Admin")
		instructor := org.AddMember(t, "instructor", "Ines", "Instructor")
		guest := org.AddMember(t, "guest", "Gus", "Guest")
		other := org.Insert(t, "instructor", "Olga", "Other", "olga@example.com", false)
		disabled := org.Insert(t, "instructor", "Dora", "Disabled", "dora@example.com", false)
		removed := org.Insert(t, "instructor", "Remy", "Removed", "remy@example.com", false)
		var g struct{ CreateGroup struct{ ID pulid.ID } }
		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "Juniors", kind: CLASS}) { id } }`, nil).Decode(t, &g)
		class := g.CreateGroup.ID
		c := s.DB.Client
		c.Membership.Update().Where(membership.IDIn(instructor.MembershipID, other.ID, disabled.ID, removed.ID)).
			AddGroupIDs(class).ExecX(fixtureCtx())
		c.Membership.UpdateOneID(disabled.ID).SetStatus(membership.StatusDISABLED).ExecX(fixtureCtx())
		c.Membership.UpdateOneID(removed.ID).SetRemovedAt(time.Now()).ExecX(fixtureCtx())
		before := len(s.Mail.Sent())

		id := sendMessage(t, s, agent.Token, map[string]any{
			"subject": "Training moved", "body": "Training is at 6 tomorrow.",
			"groupIds": []any{class}, "memberIds": []any{instructor.MembershipID},
			"ccMemberIds": []any{guest.MembershipID}, "bccMemberIds": []any{admin.MembershipID},
		})
		// Joining after the send reaches nothing.
		late := org.Insert(t, "instructor", "Lee", "Late", "lee@example.com", false)
		c.Membership.UpdateOneID(late.ID).AddGroupIDs(class).ExecX(fixtureCtx())

		m := readMessage(t, s, agent.Token, id)
		if m.Stats.Total != 6 || m.Stats.Queued != 4 || m.Stats.Skipped != 2 || m.Deliveries.TotalCount != 6 {
			t.Fatalf("after sending: stats %+v, %d deliveries", m.Stats, m.Deliveries.TotalCount)
		}
		rows := m.byRecipient()
		want := map[pulid.ID]string{instructor.MembershipID: "DIRECT", other.ID: "GROUP", guest.MembershipID: "CC",
			admin.MembershipID: "BCC", disabled.ID: "GROUP", removed.ID: "GROUP"}
		for member, via := range want {
			if rows[member].Via != via {
				t.Errorf("delivery to %s: via %q, want %s", member, rows[member].Via, via)
			}
		}
		if r := rows[disabled.ID]; r.Status != "SKIPPED" || r.Reason != messaging.SkipDisabled {
			t.Errorf("disabled member: %+v", r)
		}
		if r := rows[removed.ID]; r.Status != "SKIPPED" || r.Reason != messaging.SkipRemoved {
			t.Errorf("removed member: %+v", r)
		}

		s.Deliver(t)
		var to []string
		for _, e := range s.Mail.Sent()[before:] {
			to = append(to, e.To)
			if e.Subject != "Training moved" || !strings.Contains(e.Text, "Training is at 6 tomorrow.") {
				t.Errorf("email to %s: %q %q", e.To, e.Subject, e.Text)
			}
		}
		sort.Strings(to)
		wantTo := []string{admin.Email, guest.Email, instructor.Email, "olga@example.com"}
		sort.Strings(wantTo)
		if !slices.Equal(to, wantTo) {
			t.Errorf("emails went to %v, want %v", to, wantTo)
		}
		m = readMessage(t, s, agent.Token, id)
		if m.Stats.Sent != 4 || m.Stats.Queued != 0 || m.Stats.Skipped != 2 {
			t.Errorf("after delivery: %+v", m.Stats)
		}
		if r := m.byRecipient()[other.ID]; r.Status != "SENT" || r.SentAt == nil {
			t.Errorf("sent delivery: %+v", r)
		}

		// A group member sees the message's deliveries but not the BCC, in the
		// list and in the counts, and may not read CC or BCC.
		seen := readMessage(t, s, instructor.Token, id)
		if seen.Stats.Total != 5 || seen.Deliveries.TotalCount != 5 {
			t.Errorf("instructor's view: stats %+v, %d deliveries", seen.Stats, seen.Deliveries.TotalCount)
		}
		if _, ok := seen.byRecipient()[admin.MembershipID]; ok {
			t.Error("the instructor sees the BCC delivery")
		}
		bcc := s.Do(t, instructor.Token, `query($id: ID!) { node(id: $id) { ... on Message { bcc { id } } } }`, map[string]any{"id": id})
		if !slices.Equal(bcc.Codes(), []string{"FORBIDDEN"}) || strings.Contains(string(bcc.Data), string(admin.MembershipID)) {
			t.Errorf("instructor reads BCC: %v %s", bcc.Codes(), bcc.Data)
		}
		filtered := s.Do(t, instructor.Token, `query($id: ID!) { node(id: $id) { ... on Message { deliveries(where: {via: BCC}) { totalCount } } } }`,
			map[string]any{"id": id})
		if !strings.Contains(string(filtered.Data), `"totalCount":0`) {
			t.Errorf("instructor filters BCC deliveries: %s", filtered.Data)
		}
		// The author reads both lists.
		r := s.MustDo(t, agent.Token, `query($id: ID!) { node(id: $id) { ... on Message { cc { id } bcc { id } } } }`, map[string]any{"id": id})
		if !strings.Contains(string(r.Data), string(guest.MembershipID)) || !strings.Contains(string(r.Data), string(admin.MembershipID)) {
			t.Errorf("author's copies: %s", r.Data)
		}
		// Filtering by status.
		r = s.MustDo(t, agent.Token, `query($id: ID!) { node(id: $id) { ... on Message { deliveries(where: {status: SKIPPED}) { totalCount } } } }`,
			map[string]any{"id": id})
		if !strings.Contains(string(r.Data), `"totalCount":2`) {
			t.Errorf("skipped deliveries: %s", r.Data)
		}
		// Someone the message does not concern sees no delivery of it.
		outsider := org.AddMember(t, "instructor_no_messaging", "Nora", "Outsider")
		r = s.Do(t, outsider.Token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		if string(r.Data) != `{"node":null}` {
			t.Errorf("outsider reads the message: %s", r.Data)
		}
	})
}

// TestPendingMessageDeliversWhenApproved: a message waiting for approval reaches
// nobody; approving it fans it out to the group as it is then.
func TestPendingMessageDeliversWhenApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Approval Club", "ACTIVITY")
		admin := org.AddMember(t, "administrator", "Adam", "Admin")
		author := org.AddMember(t, "instructor", "Ines", "Instructor")
		member := org.Insert(t, "instructor", "Mo", "Member", "mo@example.com", false)
		var g struct{ CreateGroup struct{ ID pulid.ID } }
		s.MustDo(t, org.Owner.Token, `mutation { createGroup(input: {name: "Seniors", kind: CLASS}) { id } }`, nil).Decode(t, &g)
		s.DB.Client.Membership.Update().Where(membership.IDIn(author.MembershipID, member.ID)).AddGroupIDs(g.CreateGroup.ID).ExecX(fixtureCtx())
		s.MustDo(t, org.Owner.Token, `mutation($id: ID!) { updateMember(id: $id, input: {revokes: ["messages.send"]}) { id } }`,
			map[string]any{"id": author.MembershipID})
		before := len(s.Mail.Sent())

		id := sendMessage(t, s, author.Token, map[string]any{"body": "Kit check", "groupIds": []any{g.CreateGroup.ID}})
		s.Deliver(t)
		m := readMessage(t, s, author.Token, id)
		if m.Status != "PENDING_APPROVAL" || m.Stats.Total != 0 || len(s.Mail.Sent()) != before {
			t.Fatalf("pending message delivered: %+v, %d emails", m, len(s.Mail.Sent())-before)
		}
		s.MustDo(t, admin.Token, `mutation($id: ID!) { approveMessage(id: $id) { status } }`, map[string]any{"id": id})
		s.Deliver(t)
		m = readMessage(t, s, admin.Token, id)
		if m.Stats.Total != 2 || m.Stats.Sent != 2 {
			t.Errorf("approved message: %+v", m.Stats)
		}
		var to []string
		for _, e := range s.Mail.Sent()[before:] {
			to = append(to, e.To)
		}
		sort.Strings(to)
		if !slices.Equal(to, []string{author.Email, "mo@example.com"}) {
			t.Errorf("emails went to %v", to)
		}
	})
}

// TestSMSDeliveryThroughTheProvider: SMS messages go to the local provider in
// Twilio's format; members without a phone are skipped, a number the provider
// refuses fails with its reason (without the number), and signed receipts
// update the status while unsigned ones change nothing.
func TestSMSDeliveryThroughTheProvider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		provider := startSMSProvider(t, "+15550100002")
		s := apptest.New(t, d, smsEnv(provider)...)
		org := s.CreateOrg(t, "Text Club", "ACTIVITY")
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent")
		good := org.Insert(t, "instructor", "Gina", "Good", "gina@example.com", false)
		bad := org.Insert(t, "instructor", "Bert", "Bad", "bert@example.com", false)
		none := org.Insert(t, "instructor", "Nick", "Nophone", "nick@example.com", false)
		setPhone(t, s, good.ID, "+15550100001")
		setPhone(t, s, bad.ID, "+15550100002")

		id := sendMessage(t, s, agent.Token, map[string]any{"channel": "SMS", "body": "Pool closed today",
			"memberIds": []any{good.ID, bad.ID, none.ID}})
		s.Deliver(t)
		posts := provider.received()
		if len(posts) != 2 {
			t.Fatalf("%d posts reached the provider, want 2", len(posts))
		}
		var receiptRef string
		for _, p := range posts {
			if p.Get("Body") != "Pool closed today" || p.Get("From") != "+15550000000" ||
				!strings.HasPrefix(p.Get("StatusCallback"), callbackURL+"?ref=") {
				t.Errorf("post: %v", p)
			}
			if p.Get("To") == "+15550100001" {
				receiptRef = strings.TrimPrefix(p.Get("StatusCallback"), callbackURL+"?ref=")
			}
		}
		rows := readMessage(t, s, agent.Token, id).byRecipient()
		if r := rows[none.ID]; r.Status != "SKIPPED" || r.Reason != messaging.SkipNoPhone {
			t.Errorf("member without a phone: %+v", r)
		}
		if r := rows[bad.ID]; r.Status != "FAILED" || !strings.Contains(r.Reason, "is not a valid phone number") ||
			strings.Contains(r.Reason, "+15550100002") {
			t.Errorf("refused number: %+v", r)
		}
		if r := rows[good.ID]; r.Status != "SENT" || r.Channel != "SMS" {
			t.Errorf("sent SMS: %+v", r)
		}

		receipt := func(sig string, form url.Values) int {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/sms/receipts?ref="+url.QueryEscape(receiptRef), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", sig)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		failed := url.Values{"MessageSid": {"SM123"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}
		signed := sms.Signature(smsToken, sms.CallbackFor(callbackURL, receiptRef), failed)
		if code := receipt(sms.Signature("wrong-token", sms.CallbackFor(callbackURL, receiptRef), failed), failed); code != http.StatusForbidden {
			t.Errorf("badly signed receipt: %d", code)
		}
		if code := receipt("", failed); code != http.StatusForbidden {
			t.Errorf("unsigned receipt: %d", code)
		}
		if r := readMessage(t, s, agent.Token, id).byRecipient()[good.ID]; r.Status != "SENT" {
			t.Fatalf("a refused receipt changed the delivery: %+v", r)
		}
		if code := receipt(signed, failed); code != http.StatusNoContent {
			t.Fatalf("signed receipt: %d", code)
		}
		if r := readMessage(t, s, agent.Token, id).byRecipient()[good.ID]; r.Status != "FAILED" || !strings.Contains(r.Reason, "30003") {
			t.Errorf("after the receipt: %+v", r)
		}
	})
}

// TestMessageTemplates: templates are validated at save, previewed with the
// viewer's name, and filled in per recipient when a message uses one.
func TestMessageTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Template Club", "ACTIVITY")
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent")
		instructor := org.AddMember(t, "instructor", "Ines", "Instructor")
		ann := org.Insert(t, "instructor", "Ann", "Able", "ann@example.com", false)
		ben := org.Insert(t, "instructor", "Ben", "Baker", "ben@example.com", false)
		create := `mutation($in: CreateMessageTemplateInput!) { createMessageTemplate(input: $in) { id } }`
		for _, c := range []struct {
			in    map[string]any
			field string
		}{
			{map[string]any{"name": "Bad", "body": "Hi {{nickname}}"}, "body"},
			{map[string]any{"name": "Bad", "body": "Hi", "subject": "For {{firstName"}, "subject"},
			{map[string]any{"name": "Bad", "body": "   "}, "body"},
		} {
			r := s.Do(t, agent.Token, create, map[string]any{"in": c.in})
			if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%v: %+v", c.in, r.Errors)
			}
		}
		in := map[string]any{"name": "Reminder", "subject": "{{organizationName}} reminder",
			"body": "Hello {{firstName}}, your session with {{ fullName }} is tomorrow."}
		var made struct{ CreateMessageTemplate struct{ ID pulid.ID } }
		s.MustDo(t, agent.Token, create, map[string]any{"in": in}).Decode(t, &made)
		if r := s.Do(t, agent.Token, create, map[string]any{"in": in}); !slices.Equal(r.Codes(), []string{"CONFLICT"}) {
			t.Errorf("duplicate name: %v", r.Codes())
		}
		r := s.MustDo(t, agent.Token, `query($in: CreateMessageTemplateInput!) { previewMessageTemplate(input: $in) { subject body } }`,
			map[string]any{"in": in})
		if !strings.Contains(string(r.Data), `"subject":"Template Club reminder"`) || !strings.Contains(string(r.Data), "Hello Cora, your session with Cora Agent") {
			t.Errorf("preview: %s", r.Data)
		}
		// Composers read the templates; they may not change them.
		r = s.MustDo(t, instructor.Token, `{ viewer { organization { messageTemplates { totalCount edges { node { name } } } } } }`, nil)
		if !strings.Contains(string(r.Data), `"name":"Reminder"`) {
			t.Errorf("instructor's templates: %s", r.Data)
		}
		before := len(s.Mail.Sent())
		sendMessage(t, s, agent.Token, map[string]any{"templateId": made.CreateMessageTemplate.ID, "memberIds": []any{ann.ID, ben.ID}})
		s.Deliver(t)
		got := map[string]mail.Message{}
		for _, e := range s.Mail.Sent()[before:] {
			got[e.To] = e
		}
		if e := got["ann@example.com"]; e.Subject != "Template Club reminder" || !strings.Contains(e.Text, "Hello Ann, your session with Ann Able is tomorrow.") {
			t.Errorf("Ann's email: %q %q", e.Subject, e.Text)
		}
		if e := got["ben@example.com"]; !strings.Contains(e.Text, "Hello Ben,") {
			t.Errorf("Ben's email: %q", e.Text)
		}
		r = s.Do(t, agent.Token, `mutation($id: ID!) { updateMessageTemplate(id: $id, input: {body: "{{oops}}"}) { id } }`,
			map[string]any{"id": made.CreateMessageTemplate.ID})
		if !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) {
			t.Errorf("invalid update: %v", r.Codes())
		}
		s.MustDo(t, agent.Token, `mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": made.CreateMessageTemplate.ID})
		r = s.Do(t, agent.Token, `mutation($id: ID!) { sendMessage(input: {templateId: $id, memberIds: []}) { id } }`,
			map[string]any{"id": made.CreateMessageTemplate.ID})
		if !slices.Equal(r.Codes(), []string{"NOT_FOUND"}) {
			t.Errorf("deleted template: %v", r.Codes())
		}
	})
}

// TestDeliveryWorkersRacingSendEachOnce: two workers, as two replicas would,
// send a message's emails over SMTP and its text messages over HTTP; every
// delivery leaves exactly once and ends SENT.
func TestDeliveryWorkersRacingSendEachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		if d.Name == "sqlite" {
			t.Skip("SQLite serves one process: replicas racing for deliveries share PostgreSQL")
		}
		s := apptest.New(t, d)
		org := s.CreateOrg(t, "Race Club", "ACTIVITY")
		agent := org.AddMember(t, "communication_agent", "Cora", "Agent")
		var ids []any
		for i := range 60 {
			m := org.Insert(t, "instructor", "Racer", fmt.Sprintf("N%d", i), fmt.Sprintf("racer%d@example.com", i), false)
			setPhone(t, s, m.ID, fmt.Sprintf("+1555020%04d", i))
			ids = append(ids, m.ID)
		}
		smtpServer := mailtest.Start(t, mailtest.Options{})
		provider := startSMSProvider(t, "")
		emailMsg := sendMessage(t, s, agent.Token, map[string]any{"subject": "Race", "body": "By email", "memberIds": ids})
		smsMsg := sendMessage(t, s, agent.Token, map[string]any{"channel": "SMS", "body": "By text", "memberIds": ids})

		var wg sync.WaitGroup
		for range 2 {
			w := deliveryWorker(t, s, smtpServer, provider)
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
				}
			})
		}
		wg.Wait()
		perAddress := map[string]int{}
		for _, e := range smtpServer.Emails() {
			perAddress[e.To[0]]++
		}
		for _, p := range provider.received() {
			perAddress[p.Get("To")]++
		}
		if len(perAddress) != 120 {
			t.Errorf("%d addresses reached, want 120", len(perAddress))
		}
		for a, n := range perAddress {
			if n != 1 {
				t.Errorf("%s reached %d times", a, n)
			}
		}
		for _, id := range []pulid.ID{emailMsg, smsMsg} {
			if st := readMessage(t, s, agent.Token, id).Stats; st.Sent != 60 || st.Total != 60 {
				t.Errorf("message %s: %+v", id, st)
			}
		}
	})
}

// deliveryWorker is an outbox worker of its own, as another replica runs, that
// sends through real SMTP and HTTP and records outcomes on deliveries.
func deliveryWorker(t testing.TB, s *apptest.Server, smtpServer *mailtest.Server, provider *smsProvider) *outbox.Worker {
	mailer, err := mail.NewSMTPMailer(smtpServer.URL, "Staffroom <no-reply@staffroom.test>")
	if err != nil {
		t.Fatal(err)
	}
	return &outbox.Worker{
		Client: s.DB.Client, Dialect: s.DB.Dialect, Mailer: mailer, BatchSize: 10,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		SMS: &sms.HTTPSender{Endpoint: provider.URL, AccountSID: smsAccount, AuthToken: smsToken, From: "+15550000000"},
		OnDelivered: func(ctx context.Context, e *ent.OutboxEmail, _ outboxemail.Status) {
			if err := messaging.RecordOutcome(ctx, s.DB.Client, e); err != nil {
				t.Error(err)
			}
		},
	}
}
