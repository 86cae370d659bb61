// Package outbox provides reliable email and SMS delivery: messages are written
// to a table in the transaction of the change that causes them, and a worker
// sends them with retries.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/outboxemail"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/mail"
	"staffroom/internal/sms"
	"staffroom/internal/store"
)

const (
	maxBackoff = time.Hour
	// maxSendTime bounds one send, so that a batch ends within its lease.
	maxSendTime = 30 * time.Second
	// maxErrorBytes is the size of the last_error column.
	maxErrorBytes = 1000
)

// Enqueue queues an email for the worker. It writes through the transaction in
// ctx when there is one, so that the email exists only if the change that
// causes it commits. orgID may be empty; subjectID names what the email is
// about (an invitation id), for Worker.OnDelivered.
func Enqueue(ctx context.Context, client *ent.Client, m mail.Message, orgID pulid.ID, subjectID string) (*ent.OutboxEmail, error) {
	now := time.Now().UTC()
	create := store.Client(ctx, client).OutboxEmail.Create().
		SetToAddress(m.To).SetSubject(m.Subject).SetTextBody(m.Text).SetHTMLBody(m.HTML).
		SetSubjectID(subjectID).SetNextAttemptAt(now).SetCreatedAt(now)
	if orgID != "" {
		create.SetOrganizationID(orgID)
	}
	e, err := create.Save(access.SystemContext(ctx, "queue email"))
	if err != nil {
		return nil, fmt.Errorf("outbox: enqueue: %w", err)
	}
	return e, nil
}

// Item is one message for EnqueueAll: an email, or with Channel SMS a text
// message whose To is a phone number and whose Text is the body.
type Item struct {
	mail.Message
	Channel   outboxemail.Channel
	SubjectID string
}

// enqueueChunk keeps a bulk insert under both databases' bind-parameter limits.
const enqueueChunk = 500

// EnqueueAll queues many messages of one organization with one insert per 500,
// in the transaction in ctx when there is one. The rows come back in order.
func EnqueueAll(ctx context.Context, client *ent.Client, orgID pulid.ID, items []Item) ([]*ent.OutboxEmail, error) {
	now := time.Now().UTC()
	c := store.Client(ctx, client)
	sys := access.SystemContext(ctx, "queue messages")
	out := make([]*ent.OutboxEmail, 0, len(items))
	for start := 0; start < len(items); start += enqueueChunk {
		chunk := items[start:min(start+enqueueChunk, len(items))]
		builders := make([]*ent.OutboxEmailCreate, len(chunk))
		for i, it := range chunk {
			builders[i] = c.OutboxEmail.Create().SetOrganizationID(orgID).SetChannel(it.Channel).
				SetToAddress(it.To).SetSubject(it.Subject).SetTextBody(it.Text).SetHTMLBody(it.HTML).
				SetSubjectID(it.SubjectID).SetNextAttemptAt(now).SetCreatedAt(now)
		}
		rows, err := c.OutboxEmail.CreateBulk(builders...).Save(sys)
		if err != nil {
			return nil, fmt.Errorf("outbox: enqueue: %w", err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Worker sends queued emails and text messages. Any number of workers, in one process or in many
// replicas, may run against one database: each email is claimed by one worker
// at a time, and sent once unless a worker stalls past its lease or dies
// between sending and recording.
type Worker struct {
	Client *ent.Client
	// Dialect is the database's, as in store.DB: on PostgreSQL claims lock
	// their rows with FOR UPDATE SKIP LOCKED, which SQLite does not know.
	Dialect string
	Mailer  mail.Mailer
	// SMS sends the rows of channel SMS; without it they fail for good.
	SMS sms.Sender
	Log *slog.Logger
	// BatchSize is how many emails one RunOnce claims; default 20.
	BatchSize int
	// MaxAttempts is how many times an email is tried before it is FAILED; default 8.
	MaxAttempts int
	// BaseBackoff is the wait after the first failure, doubling with each
	// further one up to an hour, with jitter; default 30s.
	BaseBackoff time.Duration
	// PollInterval is how long Run sleeps when nothing is due; default 1s.
	PollInterval time.Duration
	// Lease is how long claimed emails stay hidden from other workers while
	// they are sent; after it, the emails of a worker that died are claimed
	// again. Default 10 minutes.
	Lease time.Duration
	// OnDelivered, when set, is called after a final SENT or FAILED status is stored.
	OnDelivered func(ctx context.Context, e *ent.OutboxEmail, status outboxemail.Status)
}

// withDefaults returns a copy of w with every unset setting at its default.
func (w *Worker) withDefaults() *Worker {
	c := *w
	if c.BatchSize <= 0 {
		c.BatchSize = 20
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 10 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &c
}

// Run sends emails until ctx is done, sleeping PollInterval whenever nothing
// is due.
func (w *Worker) Run(ctx context.Context) {
	c := w.withDefaults()
	Poll(ctx, c.Log, "outbox: sending emails", c.PollInterval, func(ctx context.Context) (bool, error) {
		sent, err := c.RunOnce(ctx)
		return sent > 0, err
	})
}

// Poll runs round until ctx is done: again at once while it reports more
// work, else after idle. Every background worker (emails, webhooks, expiries)
// runs this way, any number of them side by side. An error is logged when it
// first occurs, and once when rounds succeed again, not on every round.
func Poll(ctx context.Context, log *slog.Logger, what string, idle time.Duration, round func(context.Context) (more bool, err error)) {
	lastErr := ""
	for ctx.Err() == nil {
		more, err := round(ctx)
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != lastErr:
			log.ErrorContext(ctx, what, "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			log.InfoContext(ctx, what+" again")
			lastErr = ""
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(idle):
		}
	}
}

// RunOnce claims up to BatchSize due emails and sends them. It returns how many
// were sent; failed sends are recorded for a retry and are not errors. An error
// means the database failed, or ctx ended before the batch was through.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	c := w.withDefaults()
	if c.Dialect != dialect.Postgres && c.Dialect != dialect.SQLite {
		// Guessing wrong would drop the row locks that keep replicas apart.
		return 0, fmt.Errorf("outbox: unknown dialect %q", c.Dialect)
	}
	sys := access.SystemContext(ctx, "email outbox")
	leaseEnd := time.Now().Add(c.Lease)
	batch, err := c.claim(sys, leaseEnd)
	if err != nil {
		return 0, err
	}
	sendTime := min(maxSendTime, c.Lease/2)
	for i, e := range batch {
		if ctx.Err() != nil || time.Until(leaseEnd) < sendTime {
			c.release(sys, batch[i:])
			return sent, ctx.Err()
		}
		ok, err := c.deliver(ctx, sys, e, sendTime)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// claim takes due emails and pushes them out of every other worker's sight
// until the lease ends, in a transaction that commits before anything is sent:
// a worker that dies mid-batch leaves its emails to be claimed again.
func (w *Worker) claim(ctx context.Context, leaseEnd time.Time) ([]*ent.OutboxEmail, error) {
	var batch []*ent.OutboxEmail
	err := store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		q := tx.OutboxEmail.Query().
			Where(outboxemail.StatusEQ(outboxemail.StatusQUEUED), outboxemail.NextAttemptAtLTE(time.Now().UTC())).
			Order(outboxemail.ByNextAttemptAt()).
			Limit(w.BatchSize)
		// SQLite has no row locks; its transactions take the write lock at
		// BEGIN, which serializes claims just as well.
		if w.Dialect == dialect.Postgres {
			q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
		}
		var err error
		if batch, err = q.All(ctx); err != nil || len(batch) == 0 {
			return err
		}
		ids := make([]pulid.ID, len(batch))
		for i, e := range batch {
			ids[i] = e.ID
			e.Attempts++
		}
		return tx.OutboxEmail.Update().Where(outboxemail.IDIn(ids...)).
			AddAttempts(1).SetNextAttemptAt(leaseEnd.UTC()).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	return batch, nil
}

// deliver sends one claimed email and records the outcome. It reports whether
// the email was sent.
func (w *Worker) deliver(ctx, sys context.Context, e *ent.OutboxEmail, sendTime time.Duration) (bool, error) {
	sendCtx, cancel := context.WithTimeout(ctx, sendTime)
	sendErr := w.send(sendCtx, e)
	cancel()
	// The outcome is recorded even when ctx has ended: a sent email that is not
	// marked SENT would be sent again.
	ctx, sys = context.WithoutCancel(ctx), context.WithoutCancel(sys)
	status, upd := w.outcome(e, sendErr)
	n, err := upd.Where(outboxemail.ID(e.ID), outboxemail.StatusEQ(outboxemail.StatusQUEUED),
		outboxemail.Attempts(e.Attempts)).Save(sys)
	if err != nil {
		return false, fmt.Errorf("outbox: record %s: %w", e.ID, err)
	}
	if n == 0 {
		// The lease ran out and another worker claimed the email: its outcome counts.
		w.Log.WarnContext(ctx, "outbox: lease ran out before the outcome was recorded", "email", e.ID)
		return false, nil
	}
	w.logFailure(ctx, e, status, sendErr)
	if status != outboxemail.StatusQUEUED && w.OnDelivered != nil {
		e.Status = status
		w.OnDelivered(ctx, e, status)
	}
	return status == outboxemail.StatusSENT, nil
}

// send hands one row to the sender of its channel.
func (w *Worker) send(ctx context.Context, e *ent.OutboxEmail) error {
	if e.Channel != outboxemail.ChannelSMS {
		return w.Mailer.Send(ctx, mail.Message{
			ID: string(e.ID), To: e.ToAddress, Subject: e.Subject, Text: e.TextBody, HTML: e.HTMLBody,
		})
	}
	if w.SMS == nil {
		return fmt.Errorf("%w: no SMS sender is configured", sms.ErrUndeliverable)
	}
	return w.SMS.Send(ctx, sms.Message{ID: string(e.ID), To: e.ToAddress, Body: e.TextBody})
}

// outcome returns the status an email moves to after a send, and the update
// that stores it.
func (w *Worker) outcome(e *ent.OutboxEmail, sendErr error) (outboxemail.Status, *ent.OutboxEmailUpdate) {
	now := time.Now().UTC()
	upd := w.Client.OutboxEmail.Update()
	switch {
	case sendErr == nil:
		e.SentAt = &now
		return outboxemail.StatusSENT, upd.SetStatus(outboxemail.StatusSENT).SetSentAt(now)
	case errors.Is(sendErr, mail.ErrUndeliverable) || errors.Is(sendErr, sms.ErrUndeliverable) || e.Attempts >= w.MaxAttempts:
		e.LastError = truncate(sendErr.Error())
		return outboxemail.StatusFAILED, upd.SetStatus(outboxemail.StatusFAILED).SetLastError(e.LastError)
	default:
		e.LastError = truncate(sendErr.Error())
		e.NextAttemptAt = now.Add(w.backoff(e.Attempts))
		return outboxemail.StatusQUEUED, upd.SetLastError(e.LastError).SetNextAttemptAt(e.NextAttemptAt)
	}
}

func (w *Worker) logFailure(ctx context.Context, e *ent.OutboxEmail, status outboxemail.Status, sendErr error) {
	switch status {
	case outboxemail.StatusFAILED:
		w.Log.ErrorContext(ctx, "outbox: email failed for good", "email", e.ID, "attempts", e.Attempts, "err", sendErr)
	case outboxemail.StatusQUEUED:
		w.Log.WarnContext(ctx, "outbox: email will be retried", "email", e.ID, "attempts", e.Attempts,
			"retry_at", e.NextAttemptAt, "err", sendErr)
	}
}

// backoff is the wait after the given number of attempts: BaseBackoff doubling
// per attempt up to an hour, of which the second half is random, so that
// emails that failed together are not retried together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.BaseBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// release gives claimed emails that were not sent back to the queue, so that
// a worker that stops does not hold them until the lease ends.
func (w *Worker) release(ctx context.Context, emails []*ent.OutboxEmail) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := time.Now().UTC()
	for _, e := range emails {
		err := w.Client.OutboxEmail.Update().
			Where(outboxemail.ID(e.ID), outboxemail.StatusEQ(outboxemail.StatusQUEUED), outboxemail.Attempts(e.Attempts)).
			AddAttempts(-1).SetNextAttemptAt(now).Exec(ctx)
		if err != nil {
			// The lease still ends: the email is only late.
			w.Log.WarnContext(ctx, "outbox: release email", "email", e.ID, "err", err)
		}
	}
}

// truncate makes an error message fit the last_error column: valid UTF-8
// without NUL bytes (PostgreSQL refuses both in text, and a server's reply may
// contain them), cut at a character boundary.
func truncate(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= maxErrorBytes {
		return s
	}
	cut := maxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
