package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/webhookdelivery"
	"staffroom/ent/webhookendpoint"
	"staffroom/internal/access"
	"staffroom/internal/outbox"
	"staffroom/internal/store"
)

const (
	// maxErrorBytes is the size of the last_error column.
	maxErrorBytes = 1000
	// maxResponseBytes is as much of a receiver's answer as is read: enough
	// to quote the start of an error page, never a whole download.
	maxResponseBytes = 64 << 10
	// quotedBytes is how much of a failed answer's body last_error quotes.
	quotedBytes = 200
)

// Worker delivers queued webhook events. Any number of workers, in one
// process or in many replicas, may run against one database: a delivery is
// claimed by one worker at a time (FOR UPDATE SKIP LOCKED on PostgreSQL) and
// hidden from the others for a lease.
type Worker struct {
	Client *ent.Client
	// Dialect is the database's, as in store.DB.
	Dialect string
	// Render builds payloads (see RenderFunc).
	Render RenderFunc
	Log    *slog.Logger
	// AllowPrivate lets deliveries reach loopback, private and link-local
	// addresses: development and tests only.
	AllowPrivate bool
	// Timeout bounds one attempt, from connecting to the end of the answer;
	// default 10s.
	Timeout time.Duration
	// BatchSize is how many deliveries one RunOnce claims; default 20.
	BatchSize int
	// BaseBackoff is the wait after the first failed attempt, doubling with
	// each further one up to MaxBackoff, with jitter; default 30s and 3h.
	BaseBackoff, MaxBackoff time.Duration
	// RetryFor is how long a delivery is retried after it was queued before
	// it is FAILED; default 24h.
	RetryFor time.Duration
	// SuspendAfter: an endpoint whose every attempt has failed for this long
	// is suspended when one of its deliveries fails for good, and its
	// organization's owners are emailed; default 24h.
	SuspendAfter time.Duration
	// Lease is how long claimed deliveries stay hidden from other workers;
	// default 5 minutes.
	Lease time.Duration
	// Concurrency is how many attempts of a batch run at once; default 8.
	Concurrency int
	// PollInterval is how long Run sleeps when nothing is due; default 1s.
	PollInterval time.Duration
	// Now is the clock; default time.Now. Tests move it forward instead of
	// waiting out backoffs.
	Now func() time.Time
	// HTTP sends the requests; default a client that follows no redirect and,
	// without AllowPrivate, connects to public addresses only.
	HTTP *http.Client
	// OnSuspended is called in the transaction that suspends an endpoint, to
	// record it and tell the owners.
	OnSuspended func(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint, reason string) error
}

// WithDefaults returns a copy of w with every unset setting at its default.
func (w *Worker) WithDefaults() *Worker {
	c := *w
	setDefault(&c.Timeout, 10*time.Second)
	setDefault(&c.BaseBackoff, 30*time.Second)
	setDefault(&c.MaxBackoff, 3*time.Hour)
	setDefault(&c.RetryFor, 24*time.Hour)
	setDefault(&c.SuspendAfter, 24*time.Hour)
	setDefault(&c.Lease, 5*time.Minute)
	setDefault(&c.PollInterval, time.Second)
	if c.BatchSize <= 0 {
		c.BatchSize = 20
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTP == nil {
		c.HTTP = NewHTTPClient(c.Timeout, c.AllowPrivate)
	}
	return &c
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// NewHTTPClient returns the client that sends webhooks: no proxy from the
// environment (it would connect in the worker's place), no redirects (a 3xx
// is a failed attempt), a timeout per attempt, and unless allowPrivate a
// dialer that refuses addresses that are not public after resolving them.
func NewHTTPClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run delivers events until ctx is done, sleeping PollInterval whenever
// nothing is due (outbox.Poll).
func (w *Worker) Run(ctx context.Context) {
	c := w.WithDefaults()
	outbox.Poll(ctx, c.Log, "webhook: delivering", c.PollInterval, func(ctx context.Context) (bool, error) {
		n, err := c.RunOnce(ctx)
		return n > 0, err
	})
}

// RunOnce claims up to BatchSize due deliveries and attempts them,
// Concurrency at a time. It returns how many it attempted; a failed attempt
// is recorded for a retry and is not an error. An error means the database
// failed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	c := w.WithDefaults()
	if c.Dialect != dialect.Postgres && c.Dialect != dialect.SQLite {
		// Guessing wrong would drop the row locks that keep replicas apart.
		return 0, fmt.Errorf("webhook: unknown dialect %q", c.Dialect)
	}
	sys := access.SystemContext(ctx, "webhook worker")
	leaseEnd := c.Now().Add(c.Lease)
	batch, err := c.claim(sys, leaseEnd)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	endpoints, err := c.endpoints(sys, batch)
	if err != nil {
		c.release(sys, batch)
		return 0, err
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, c.Concurrency)
	errs := make([]error, len(batch))
	started := 0
	for _, d := range batch {
		slots <- struct{}{}
		// Each attempt may take Timeout: what cannot end within the lease
		// goes back to the queue rather than risk being sent twice.
		if ctx.Err() != nil || leaseEnd.Sub(c.Now()) < c.Timeout*2 {
			<-slots
			break
		}
		i := started
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = c.attempt(ctx, sys, endpoints[d.EndpointID], d)
		})
		started++
	}
	wg.Wait()
	if started < len(batch) {
		c.release(sys, batch[started:])
		return started, errors.Join(append(errs, ctx.Err())...)
	}
	return started, errors.Join(errs...)
}

// claim takes due deliveries and hides them from every other worker until
// the lease ends, in a transaction that commits before anything is sent.
func (w *Worker) claim(ctx context.Context, leaseEnd time.Time) ([]*ent.WebhookDelivery, error) {
	var batch []*ent.WebhookDelivery
	err := store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		q := tx.WebhookDelivery.Query().
			Where(webhookdelivery.StatusEQ(webhookdelivery.StatusQUEUED), webhookdelivery.NextAttemptAtLTE(w.Now().UTC())).
			Order(webhookdelivery.ByNextAttemptAt()).
			Limit(w.BatchSize)
		// SQLite transactions take the write lock when they begin, which
		// serializes claims as well as row locks do.
		if w.Dialect == dialect.Postgres {
			q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
		}
		var err error
		if batch, err = q.All(ctx); err != nil || len(batch) == 0 {
			return err
		}
		ids := make([]pulid.ID, len(batch))
		for i, d := range batch {
			ids[i] = d.ID
			d.Attempts++
		}
		return tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...)).
			AddAttempts(1).SetNextAttemptAt(leaseEnd.UTC()).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: claim: %w", err)
	}
	return batch, nil
}

// endpoints loads the endpoints of a batch, secrets included.
func (w *Worker) endpoints(ctx context.Context, batch []*ent.WebhookDelivery) (map[pulid.ID]*ent.WebhookEndpoint, error) {
	ids := make([]pulid.ID, 0, len(batch))
	for _, d := range batch {
		ids = append(ids, d.EndpointID)
	}
	list, err := w.Client.WebhookEndpoint.Query().Where(webhookendpoint.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhook: endpoints: %w", err)
	}
	out := make(map[pulid.ID]*ent.WebhookEndpoint, len(list))
	for _, ep := range list {
		out[ep.ID] = ep
	}
	return out, nil
}

// attempt sends one claimed delivery and records the outcome.
func (w *Worker) attempt(ctx, sys context.Context, ep *ent.WebhookEndpoint, d *ent.WebhookDelivery) error {
	now := w.Now()
	var code *int
	var sendErr error
	switch {
	case ep == nil || ep.Status != webhookendpoint.StatusENABLED:
		// Turned off since the event was queued: replay it once enabled again.
		return w.record(sys, ep, d, now, nil, errEndpointOff, true)
	case d.Payload == "":
		// Not the system context: the payload is read under the endpoint's privacy.
		body, err := render(ctx, w.Render, ep, d)
		if err != nil {
			w.Log.ErrorContext(ctx, "webhook: build payload", "delivery", d.ID, "err", err)
			sendErr = errPayload
			break
		}
		d.Payload = string(body)
		fallthrough
	default:
		code, sendErr = w.send(ctx, ep, d, now)
	}
	// The outcome is recorded even when ctx has ended: a delivered event
	// that is not marked DELIVERED would be sent again.
	return w.record(context.WithoutCancel(sys), ep, d, now, code, sendErr, false)
}

var (
	errEndpointOff = fmt.Errorf("the endpoint is disabled: enable it and replay the delivery")
	errPayload     = fmt.Errorf("the payload could not be built; it will be tried again")
)

// send makes one attempt and returns the answer's status code, if any, and
// why the attempt failed, or nil when it was delivered (2xx).
func (w *Worker) send(ctx context.Context, ep *ent.WebhookEndpoint, d *ent.WebhookDelivery, now time.Time) (*int, error) {
	secrets := []string{ep.Secret}
	if ep.PreviousSecretExpiresAt != nil && now.Before(*ep.PreviousSecretExpiresAt) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	body := []byte(d.Payload)
	headers, err := Headers(string(d.ID), now, body, secrets...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the URL cannot be requested: %w", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Staffroom-Webhooks/1")
	res, err := w.HTTP.Do(req)
	if err != nil {
		if r := refusal(err); r != nil {
			return nil, r
		}
		return nil, err
	}
	defer res.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	code := res.StatusCode
	switch {
	case code >= 300 && code < 400:
		return &code, fmt.Errorf("HTTP %d: redirects are not followed; register the final URL", code)
	case code < 200 || code >= 300:
		return &code, fmt.Errorf("HTTP %d: %s", code, quote(answer))
	case readErr != nil:
		// The receiver answered 2xx: the event reached it.
		w.Log.WarnContext(ctx, "webhook: reading the answer", "delivery", d.ID, "err", readErr)
	}
	return &code, nil
}

// record stores an attempt's outcome: DELIVERED, QUEUED for a retry with
// backoff, or FAILED once the retry period is over (at once when final), and
// keeps the endpoint's failure streak. The outcome is one statement of its
// own: only suspending an endpoint takes a transaction.
func (w *Worker) record(ctx context.Context, ep *ent.WebhookEndpoint, d *ent.WebhookDelivery, now time.Time,
	code *int, sendErr error, final bool) error {
	nowUTC := now.UTC()
	upd := w.Client.WebhookDelivery.Update().
		Where(webhookdelivery.ID(d.ID), webhookdelivery.StatusEQ(webhookdelivery.StatusQUEUED), webhookdelivery.Attempts(d.Attempts)).
		SetLastAttemptAt(nowUTC).SetPayload(d.Payload)
	if code != nil {
		upd.SetLastStatusCode(*code)
	} else {
		upd.ClearLastStatusCode()
	}
	status := webhookdelivery.StatusDELIVERED
	switch {
	case sendErr == nil:
		upd.SetStatus(status).SetDeliveredAt(nowUTC).SetLastError("")
	case final || now.Sub(d.QueuedAt) >= w.RetryFor:
		status = webhookdelivery.StatusFAILED
		upd.SetStatus(status).SetLastError(truncate(sendErr.Error()))
	default:
		status = webhookdelivery.StatusQUEUED
		d.NextAttemptAt = nowUTC.Add(w.backoff(d.Attempts))
		upd.SetLastError(truncate(sendErr.Error())).SetNextAttemptAt(d.NextAttemptAt)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return fmt.Errorf("webhook: record %s: %w", d.ID, err)
	}
	if n == 0 {
		// The lease ran out and another worker claimed the delivery: its outcome counts.
		w.Log.WarnContext(ctx, "webhook: lease ran out before the outcome was recorded", "delivery", d.ID)
		return nil
	}
	switch status {
	case webhookdelivery.StatusFAILED:
		w.Log.WarnContext(ctx, "webhook: delivery failed for good", "delivery", d.ID, "attempts", d.Attempts, "err", sendErr)
	case webhookdelivery.StatusQUEUED:
		w.Log.InfoContext(ctx, "webhook: delivery will be retried", "delivery", d.ID, "attempts", d.Attempts,
			"retry_at", d.NextAttemptAt, "err", sendErr)
	}
	if ep == nil || final {
		return nil
	}
	if err := w.streak(ctx, ep, now, status); err != nil {
		return fmt.Errorf("webhook: endpoint %s: %w", ep.ID, err)
	}
	return nil
}

// streak keeps when an endpoint's failures began: cleared by a delivered
// attempt, set by the first failed one. When a delivery fails for good and
// every attempt has failed for SuspendAfter, the endpoint is suspended —
// once, whichever worker gets there first.
func (w *Worker) streak(ctx context.Context, ep *ent.WebhookEndpoint, now time.Time, status webhookdelivery.Status) error {
	now = now.UTC()
	if status == webhookdelivery.StatusDELIVERED {
		// Matching no row (no streak), the statement writes nothing.
		return w.Client.WebhookEndpoint.Update().Where(webhookendpoint.ID(ep.ID), webhookendpoint.FailingSinceNotNil()).
			ClearFailingSince().Exec(ctx)
	}
	if err := w.Client.WebhookEndpoint.Update().Where(webhookendpoint.ID(ep.ID), webhookendpoint.FailingSinceIsNil()).
		SetFailingSince(now).Exec(ctx); err != nil {
		return err
	}
	if status != webhookdelivery.StatusFAILED {
		return nil
	}
	return store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		return w.suspend(ctx, tx, ep, now)
	})
}

// suspend turns the endpoint off if every attempt to it has failed for
// SuspendAfter, and tells its owners through OnSuspended in the same
// transaction.
func (w *Worker) suspend(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint, now time.Time) error {
	n, err := tx.WebhookEndpoint.Update().Where(webhookendpoint.ID(ep.ID), webhookendpoint.StatusEQ(webhookendpoint.StatusENABLED),
		webhookendpoint.FailingSinceLTE(now.Add(-w.SuspendAfter))).SetStatus(webhookendpoint.StatusSUSPENDED).Save(ctx)
	if err != nil || n == 0 {
		return err
	}
	w.Log.WarnContext(ctx, "webhook: endpoint suspended after persistent failure", "endpoint", ep.ID, "url", ep.URL)
	if w.OnSuspended == nil {
		return nil
	}
	reason := fmt.Sprintf("every attempt to deliver to it has failed for %s", roundDuration(w.SuspendAfter))
	return w.OnSuspended(ctx, tx, ep, reason)
}

func roundDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// backoff is the wait after the given number of attempts: BaseBackoff
// doubling per attempt up to MaxBackoff, of which the second half is random,
// so that deliveries that failed together are not retried together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.BaseBackoff
	for i := 1; i < attempts && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// release gives claimed deliveries that were not attempted back to the
// queue, so that a worker that stops does not hold them until the lease ends.
func (w *Worker) release(ctx context.Context, batch []*ent.WebhookDelivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := w.Now().UTC()
	for _, d := range batch {
		err := w.Client.WebhookDelivery.Update().
			Where(webhookdelivery.ID(d.ID), webhookdelivery.StatusEQ(webhookdelivery.StatusQUEUED), webhookdelivery.Attempts(d.Attempts)).
			AddAttempts(-1).SetNextAttemptAt(now).Exec(ctx)
		if err != nil {
			// The lease still ends: the delivery is only late.
			w.Log.WarnContext(ctx, "webhook: release delivery", "delivery", d.ID, "err", err)
		}
	}
}

// quote returns the start of a receiver's answer for last_error.
func quote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(no body)"
	}
	if len(s) > quotedBytes {
		return truncateTo(s, quotedBytes) + "…"
	}
	return s
}

// truncate makes a message fit the last_error column: valid UTF-8 without NUL
// bytes (PostgreSQL refuses both in text, and a receiver's answer may hold
// them), cut at a character boundary.
func truncate(s string) string { return truncateTo(s, maxErrorBytes) }

func truncateTo(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
