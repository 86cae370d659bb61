package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"staffroom/ent"
	"staffroom/ent/outboxemail"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/mail"
	"staffroom/internal/mail/mailtest"
	"staffroom/internal/outbox"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

const orgID = pulid.ID("org_01JTESTORGANIZATION000000")

func sys() context.Context { return access.SystemContext(context.Background(), "test") }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func invitationEmail(i int) mail.Message {
	return mail.Message{
		To:      fmt.Sprintf("person%d@example.com", i),
		Subject: fmt.Sprintf("You are invited to Acme (%d)", i),
		Text:    fmt.Sprintf("Accept: https://staffroom.test/invitation?token=t%d", i),
		HTML:    fmt.Sprintf(`<a href="https://staffroom.test/invitation?token=t%d">Accept</a>`, i),
	}
}

func enqueue(t testing.TB, db *store.DB, n int) []*ent.OutboxEmail {
	t.Helper()
	var out []*ent.OutboxEmail
	for i := range n {
		e, err := outbox.Enqueue(context.Background(), db.Client, invitationEmail(i), orgID, fmt.Sprintf("inv_%d", i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func reload(t *testing.T, db *store.DB, id pulid.ID) *ent.OutboxEmail {
	t.Helper()
	e, err := db.Client.OutboxEmail.Get(sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// deliveries records what OnDelivered is told.
type deliveries struct {
	mu   sync.Mutex
	seen map[string]outboxemail.Status // subject id → status
	n    int
}

func (d *deliveries) record(_ context.Context, e *ent.OutboxEmail, status outboxemail.Status) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]outboxemail.Status{}
	}
	d.seen[e.SubjectID] = status
	d.n++
}

func (d *deliveries) get() (map[string]outboxemail.Status, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen, d.n
}

// failingMailer fails every email with err and counts the attempts.
type failingMailer struct {
	err   error
	calls atomic.Int32
}

func (f *failingMailer) Send(context.Context, mail.Message) error {
	f.calls.Add(1)
	return f.err
}

var errRollback = errors.New("roll back")

var transactions = []struct {
	name     string
	outcome  error
	wantRows int
}{
	{name: "rolls back", outcome: errRollback, wantRows: 0},
	{name: "commits", outcome: nil, wantRows: 1},
}

func TestEnqueueJoinsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		for _, tt := range transactions {
			t.Run(tt.name, func(t *testing.T) {
				db := storetest.Open(t, d)
				before := time.Now()
				err := store.InTx(context.Background(), db.Client, func(ctx context.Context, tx *ent.Client) error {
					if _, err := outbox.Enqueue(ctx, tx, invitationEmail(1), orgID, "inv_1"); err != nil {
						return err
					}
					return tt.outcome
				})
				if !errors.Is(err, tt.outcome) {
					t.Fatalf("transaction: %v", err)
				}
				rows := db.Client.OutboxEmail.Query().AllX(sys())
				if len(rows) != tt.wantRows {
					t.Fatalf("%d rows, want %d", len(rows), tt.wantRows)
				}
				if tt.wantRows == 0 {
					return
				}
				e := rows[0]
				if e.Status != outboxemail.StatusQUEUED || e.Attempts != 0 || e.ToAddress != "person1@example.com" ||
					e.OrganizationID != orgID || e.SubjectID != "inv_1" || e.HTMLBody == "" {
					t.Errorf("row %+v", e)
				}
				if e.NextAttemptAt.Before(before.Add(-time.Second)) || e.NextAttemptAt.After(time.Now()) {
					t.Errorf("next attempt at %v, want now", e.NextAttemptAt)
				}
			})
		}
	})
}

func TestEnqueueWithoutViewerOrOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		if _, err := outbox.Enqueue(context.Background(), db.Client, invitationEmail(1), "", ""); err != nil {
			t.Fatalf("enqueue without organization: %v", err)
		}
		// The table stays closed to everyone but the system.
		if _, err := db.Client.OutboxEmail.Query().All(context.Background()); err == nil {
			t.Error("outbox readable outside the system context")
		}
	})
}

func TestWorkerSendsThroughSMTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		srv := mailtest.Start(t, mailtest.Options{})
		mailer, err := mail.NewSMTPMailer(srv.URL, "Staffroom <no-reply@staffroom.test>")
		if err != nil {
			t.Fatal(err)
		}
		var got deliveries
		w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: mailer, Log: quiet(), OnDelivered: got.record}
		queued := enqueue(t, db, 3)

		sent, err := w.RunOnce(context.Background())
		if err != nil || sent != 3 {
			t.Fatalf("RunOnce = %d, %v; want 3 sent", sent, err)
		}
		emails := srv.Emails()
		if len(emails) != 3 {
			t.Fatalf("%d emails arrived, want 3", len(emails))
		}
		for i, e := range queued {
			arrived := findByMessageID(emails, e.ID)
			if arrived == nil {
				t.Fatalf("email %s did not arrive", e.ID)
			}
			bodies, err := arrived.Bodies()
			if err != nil {
				t.Fatal(err)
			}
			link := fmt.Sprintf("https://staffroom.test/invitation?token=t%d", i)
			if arrived.Header("Subject") != e.Subject || !strings.Contains(bodies["text/plain"], link) ||
				!strings.Contains(bodies["text/html"], link) {
				t.Errorf("email %s: subject %q, bodies %q", e.ID, arrived.Header("Subject"), bodies)
			}
			row := reload(t, db, e.ID)
			if row.Status != outboxemail.StatusSENT || row.SentAt == nil || row.Attempts != 1 {
				t.Errorf("row %s: status %s, sent at %v, attempts %d", e.ID, row.Status, row.SentAt, row.Attempts)
			}
		}
		seen, n := got.get()
		if n != 3 || seen["inv_0"] != outboxemail.StatusSENT || seen["inv_2"] != outboxemail.StatusSENT {
			t.Errorf("OnDelivered: %d calls, %v", n, seen)
		}
		if sent, err := w.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Errorf("second RunOnce = %d, %v; want nothing left", sent, err)
		}
	})
}

func findByMessageID(emails []mailtest.Email, id pulid.ID) *mailtest.Email {
	for i, e := range emails {
		if strings.HasPrefix(e.Header("Message-ID"), "<"+string(id)+"@") {
			return &emails[i]
		}
	}
	return nil
}

func TestWorkerRetriesWithBackoffThenFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		mailer := &failingMailer{err: errors.New("mail: send through smtp.example.com:587: 421 4.3.0 try again later")}
		var got deliveries
		w := &outbox.Worker{
			Client: db.Client, Dialect: db.Dialect, Mailer: mailer, Log: quiet(),
			MaxAttempts: 3, BaseBackoff: time.Hour, OnDelivered: got.record,
		}
		e := enqueue(t, db, 1)[0]

		if sent, err := w.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v; want a failed send and no error", sent, err)
		}
		row := reload(t, db, e.ID)
		if row.Status != outboxemail.StatusQUEUED || row.Attempts != 1 || !strings.Contains(row.LastError, "try again later") {
			t.Fatalf("after one failure: status %s, attempts %d, last error %q", row.Status, row.Attempts, row.LastError)
		}
		if wait := time.Until(row.NextAttemptAt); wait < 29*time.Minute || wait > time.Hour {
			t.Errorf("next attempt in %v, want between half the backoff and the backoff", wait)
		}
		w.RunOnce(context.Background())
		if calls := mailer.calls.Load(); calls != 1 {
			t.Fatalf("%d sends, want no retry before the backoff ends", calls)
		}
		if _, n := got.get(); n != 0 {
			t.Errorf("OnDelivered called %d times while the email is still queued", n)
		}

		for attempt := 2; attempt <= 3; attempt++ {
			makeDue(t, db, e.ID)
			if _, err := w.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		row = reload(t, db, e.ID)
		if row.Status != outboxemail.StatusFAILED || row.Attempts != 3 || mailer.calls.Load() != 3 {
			t.Errorf("after MaxAttempts: status %s, attempts %d, sends %d", row.Status, row.Attempts, mailer.calls.Load())
		}
		if seen, n := got.get(); n != 1 || seen["inv_0"] != outboxemail.StatusFAILED {
			t.Errorf("OnDelivered: %d calls, %v; want one FAILED", n, seen)
		}
		makeDue(t, db, e.ID)
		w.RunOnce(context.Background())
		if mailer.calls.Load() != 3 {
			t.Error("a FAILED email was sent again")
		}
	})
}

// makeDue lets the time until an email's next attempt pass.
func makeDue(t *testing.T, db *store.DB, id pulid.ID) {
	t.Helper()
	db.Client.OutboxEmail.UpdateOneID(id).SetNextAttemptAt(time.Now().UTC().Add(-time.Second)).ExecX(sys())
}

var firstFailures = []struct {
	name       string
	err        error
	wantStatus outboxemail.Status
}{
	{name: "server unavailable", err: errors.New("mail: send through smtp.example.com:587: dial failed"), wantStatus: outboxemail.StatusQUEUED},
	{name: "recipient refused", err: fmt.Errorf("%w: 550 5.1.1 no such user", mail.ErrUndeliverable), wantStatus: outboxemail.StatusFAILED},
	{name: "long error", err: errors.New(strings.Repeat("é", 800) + "\x00\xff"), wantStatus: outboxemail.StatusQUEUED},
}

func TestWorkerFirstFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		for _, tt := range firstFailures {
			t.Run(tt.name, func(t *testing.T) {
				db := storetest.Open(t, d)
				var got deliveries
				w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: &failingMailer{err: tt.err}, Log: quiet(), OnDelivered: got.record}
				e := enqueue(t, db, 1)[0]
				if _, err := w.RunOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				row := reload(t, db, e.ID)
				if row.Status != tt.wantStatus || row.LastError == "" || len(row.LastError) > 1000 {
					t.Errorf("status %s, last error of %d bytes; want %s", row.Status, len(row.LastError), tt.wantStatus)
				}
				if _, n := got.get(); (n == 1) != (tt.wantStatus == outboxemail.StatusFAILED) {
					t.Errorf("OnDelivered called %d times for status %s", n, row.Status)
				}
			})
		}
	})
}

// hungMailer blocks in Send until unblock is closed, like a sender whose
// process stalls after claiming its emails.
type hungMailer struct {
	entered chan struct{}
	unblock chan struct{}
}

func (h *hungMailer) Send(context.Context, mail.Message) error {
	close(h.entered)
	<-h.unblock
	return nil
}

func TestWorkerClaimsAgainAfterTheLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		var got deliveries
		hung := &hungMailer{entered: make(chan struct{}), unblock: make(chan struct{})}
		stalled := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: hung, Log: quiet(), Lease: time.Second, OnDelivered: got.record}
		rec := &mail.Recorder{}
		healthy := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: rec, Log: quiet(), OnDelivered: got.record}
		e := enqueue(t, db, 1)[0]

		type result struct {
			sent int
			err  error
		}
		done := make(chan result)
		go func() {
			sent, err := stalled.RunOnce(context.Background())
			done <- result{sent, err}
		}()
		<-hung.entered
		if sent, err := healthy.RunOnce(context.Background()); sent != 0 || err != nil {
			t.Fatalf("RunOnce during the lease = %d, %v; want nothing to claim", sent, err)
		}
		time.Sleep(time.Until(reload(t, db, e.ID).NextAttemptAt) + 50*time.Millisecond)
		if sent, err := healthy.RunOnce(context.Background()); sent != 1 || err != nil {
			t.Fatalf("RunOnce after the lease = %d, %v; want the email claimed again", sent, err)
		}
		close(hung.unblock)
		if r := <-done; r.sent != 0 || r.err != nil {
			t.Errorf("stalled worker = %d, %v; want its late outcome ignored", r.sent, r.err)
		}
		row := reload(t, db, e.ID)
		if row.Status != outboxemail.StatusSENT || row.Attempts != 2 {
			t.Errorf("status %s, attempts %d; want SENT on the second attempt", row.Status, row.Attempts)
		}
		if _, n := got.get(); n != 1 {
			t.Errorf("OnDelivered called %d times, want once", n)
		}
	})
}

// cancellingMailer records emails and ends the worker's context at the first.
type cancellingMailer struct {
	mail.Recorder
	cancel context.CancelFunc
}

func (c *cancellingMailer) Send(ctx context.Context, m mail.Message) error {
	c.cancel()
	return c.Recorder.Send(ctx, m)
}

func TestWorkerReturnsUnsentEmailsWhenStopped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		ctx, cancel := context.WithCancel(context.Background())
		mailer := &cancellingMailer{cancel: cancel}
		w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: mailer, Log: quiet()}
		enqueue(t, db, 3)

		sent, err := w.RunOnce(ctx)
		if sent != 1 || !errors.Is(err, context.Canceled) {
			t.Fatalf("RunOnce = %d, %v; want 1 sent, then canceled", sent, err)
		}
		queued := db.Client.OutboxEmail.Query().Where(outboxemail.StatusEQ(outboxemail.StatusQUEUED)).AllX(sys())
		if len(queued) != 2 {
			t.Fatalf("%d emails queued, want 2", len(queued))
		}
		for _, e := range queued {
			if e.Attempts != 0 || e.NextAttemptAt.After(time.Now()) {
				t.Errorf("released email: attempts %d, next attempt at %v; want 0 and due", e.Attempts, e.NextAttemptAt)
			}
		}
		w.Mailer = &mail.Recorder{}
		if sent, err := w.RunOnce(context.Background()); sent != 2 || err != nil {
			t.Errorf("next RunOnce = %d, %v; want the 2 released emails", sent, err)
		}
	})
}

func TestWorkerRunStopsWithItsContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		rec := &mail.Recorder{}
		w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: rec, Log: quiet(), PollInterval: 10 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			w.Run(ctx)
			close(stopped)
		}()
		enqueue(t, db, 2)
		deadline := time.Now().Add(5 * time.Second)
		for len(rec.Sent()) < 2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
		if n := len(rec.Sent()); n != 2 {
			t.Errorf("%d emails sent, want 2", n)
		}
	})
}

func TestWorkersRacingSendEachEmailOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		if d.Name == "sqlite" {
			t.Skip("SQLite serves one process: replicas racing for emails share PostgreSQL")
		}
		db := storetest.Open(t, d)
		queued := enqueue(t, db, 200)
		rec := &mail.Recorder{}
		var wg sync.WaitGroup
		perWorker := make([]int, 2)
		for i := range perWorker {
			w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: rec, Log: quiet(), BatchSize: 10}
			wg.Go(func() {
				for {
					sent, err := w.RunOnce(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if sent == 0 {
						return
					}
					perWorker[i] += sent
				}
			})
		}
		wg.Wait()
		t.Logf("emails sent per worker: %v", perWorker)

		count := map[string]int{}
		for _, m := range rec.Sent() {
			count[m.ID]++
		}
		for _, e := range queued {
			if count[string(e.ID)] != 1 {
				t.Errorf("email %s delivered %d times", e.ID, count[string(e.ID)])
			}
		}
		if len(count) != 200 {
			t.Errorf("%d distinct emails delivered, want 200", len(count))
		}
		sent := db.Client.OutboxEmail.Query().Where(outboxemail.StatusEQ(outboxemail.StatusSENT)).CountX(sys())
		if sent != 200 {
			t.Errorf("%d rows SENT, want 200", sent)
		}
	})
}

func BenchmarkWorkerSMTP(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(d.Name, func(b *testing.B) {
			db := storetest.Open(b, d)
			srv := mailtest.Start(b, mailtest.Options{})
			mailer, err := mail.NewSMTPMailer(srv.URL, "Staffroom <no-reply@staffroom.test>")
			if err != nil {
				b.Fatal(err)
			}
			w := &outbox.Worker{Client: db.Client, Dialect: db.Dialect, Mailer: mailer, Log: quiet()}
			enqueue(b, db, b.N)
			b.ResetTimer()
			start := time.Now()
			for sent := 0; sent < b.N; {
				n, err := w.RunOnce(context.Background())
				if err != nil || n == 0 {
					b.Fatalf("RunOnce = %d, %v after %d of %d", n, err, sent, b.N)
				}
				sent += n
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "emails/s")
			if got := len(srv.Emails()); got != b.N {
				b.Fatalf("%d emails arrived, want %d", got, b.N)
			}
		})
	}
}
