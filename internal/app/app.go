// Package app assembles Staffroom from its parts: the database, the domain
// services, the GraphQL schema and the HTTP routes. It is the one place where
// dependencies are created and handed out; server.go and the tests both use it.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"staffroom/ent"
	"staffroom/ent/outboxemail"
	"staffroom/graph"
	"staffroom/internal/auth"
	"staffroom/internal/config"
	"staffroom/internal/expiry"
	"staffroom/internal/integrations"
	"staffroom/internal/invitation"
	"staffroom/internal/mail"
	"staffroom/internal/messaging"
	"staffroom/internal/metrics"
	"staffroom/internal/outbox"
	"staffroom/internal/pages"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store"
	"staffroom/internal/web"
	"staffroom/internal/webhook"
)

// App is an assembled server.
type App struct {
	Handler http.Handler
	DB      *store.DB
	Auth    *auth.Service
	// Outbox delivers queued emails; Run it in the background.
	Outbox *outbox.Worker
	// Webhooks delivers queued webhook events; Run it in the background.
	Webhooks *webhook.Worker
	// Expiry ends time-boxed access on time; Run it in the background, beside
	// the outbox.
	Expiry      *expiry.Worker
	Invitations *invitation.Service
	// Metrics serves /metrics when it has an address of its own
	// (STAFFROOM_METRICS_ADDR); nil otherwise.
	Metrics http.Handler
}

// Options replace parts of the assembly; tests record emails instead of sending them.
type Options struct {
	Mailer mail.Mailer
}

// New assembles the server on an open, migrated database.
func New(cfg config.Config, db *store.DB, log *slog.Logger, opts Options) (*App, error) {
	keys, err := auth.LoadKeySet(cfg.SigningKeyFile, splitList(cfg.VerifyKeyFiles), cfg.DataDir)
	if err != nil {
		return nil, err
	}
	mailer := opts.Mailer
	switch {
	case mailer != nil:
	case cfg.MailSender == config.MailSenderSMTP:
		if mailer, err = mail.NewSMTPMailer(cfg.SMTPURL, cfg.MailFrom); err != nil {
			return nil, err
		}
	default:
		mailer = mail.LogMailer{Log: log, ShowBody: cfg.Development()}
	}
	tokens := &auth.Tokens{Keys: keys, Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTokenTTL}
	// One limit of session operations per client address, whether they come
	// through GraphQL or through the pages behind emailed links; password
	// checks get a limit of their own, as many.
	limiter := rateLimiter(db, "session", cfg.SessionRateLimit)
	auth.SetHashConcurrency(cfg.HashingConcurrency)
	authService := auth.NewService(db.Client, tokens, auth.Settings{
		RefreshIdleTTL:     cfg.RefreshIdleTTL,
		RefreshAbsoluteTTL: cfg.RefreshAbsoluteTTL,
		LockoutDuration:    cfg.LockoutDuration,
		PasswordChecks:     rateLimiter(db, "password_check", cfg.SessionRateLimit),
		PublicURL:          cfg.PublicURL,
		Dialect:            db.Dialect,
	}, log)

	var m *metrics.Metrics
	if cfg.Metrics {
		m = metrics.New(db, log)
	}
	if cfg.TrustExistingEmails {
		n, err := authService.TrustExistingEmails(context.Background())
		if err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("existing logins trusted as verified", "logins", n)
		}
	}
	authService.VerifyAPIKeysWith(integrations.Verifier(db.Client))
	invitations := invitation.NewService(db.Client, authService, cfg.InvitationTTL, cfg.PublicURL)
	worker := &outbox.Worker{
		Client: db.Client, Dialect: db.Dialect, Mailer: mailer, Log: log, SMS: smsSender(cfg, log),
		OnDelivered: func(ctx context.Context, e *ent.OutboxEmail, status outboxemail.Status) {
			if err := messaging.RecordOutcome(ctx, db.Client, e); err != nil {
				log.ErrorContext(ctx, "record message delivery", "email", e.ID, "err", err)
			}
			if m != nil {
				m.OutboxDelivered(status)
			}
			if err := invitation.SetDelivery(ctx, db.Client, e.SubjectID, status == outboxemail.StatusSENT); err != nil {
				log.ErrorContext(ctx, "record delivery", "email", e.ID, "err", err)
			}
		},
	}
	expiries := &expiry.Worker{Client: db.Client, Dialect: db.Dialect, Log: log, Interval: cfg.ExpiryInterval}
	schema := graph.NewSchema(graph.Deps{
		Client:      db.Client,
		Auth:        authService,
		Limiter:     limiter,
		Invitations: invitations,
		// Development reaches receivers on this machine and its network.
		AllowPrivateWebhooks: cfg.Development(),
	})
	webhooks := &webhook.Worker{
		Client: db.Client, Dialect: db.Dialect, Render: graph.NewQuerier(schema), Log: log,
		AllowPrivate: cfg.Development(), Timeout: cfg.WebhookTimeout, RetryFor: cfg.WebhookRetryFor,
		SuspendAfter: cfg.WebhookSuspendAfter, OnSuspended: integrations.NotifySuspended,
		HTTP: webhook.NewHTTPClient(cfg.WebhookTimeout, cfg.Development()),
	}
	gql := graph.NewHandler(schema, graph.HandlerOptions{
		Limits: graph.Limits{
			Complexity:    cfg.ComplexityLimit,
			ResponseBytes: cfg.MaxResponseBytes,
			Depth:         cfg.DepthLimit,
			Tokens:        cfg.TokenLimit,
		},
		Introspection: cfg.Introspection,
		Suggestions:   cfg.Development(),
		Logger:        log,
		TxOpener:      db.Client,
		Observe: func(ctx context.Context, operation string, errors int) {
			m := requestmeta.FromContext(ctx)
			m.Operation, m.Errors = operation, errors
		},
	})
	proxies, err := web.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	var metricsRoute, metricsApart http.Handler
	var instrument func(string, http.Handler) http.Handler
	if m != nil {
		gql.AroundResponses(m.InterceptResponse)
		instrument = m.Instrument
		metricsRoute = m.Handler()
		if cfg.MetricsAddr != "" {
			metricsRoute, metricsApart = nil, m.Handler()
		}
	}
	h := web.New(web.Options{
		Pages:          pages.Handler(pages.Deps{Invitations: invitations, Auth: authService, Limiter: limiter, Log: log}),
		PagePaths:      pages.Paths,
		TrustedProxies: proxies,
		GraphQL:        gql,
		Authenticate:   authService.Middleware,
		JWKS:           keys.JWKSHandler(),
		Ready:          db.SQL.PingContext,
		GraphiQL:       cfg.GraphiQL,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Timeout:        cfg.RequestTimeout,
		Logger:         log,
		CORSOrigins:    cfg.CORSOriginList(),
		Metrics:        metricsRoute,
		Instrument:     instrument,
	})
	h = withSMSReceipts(h, cfg, db.Client, log)
	return &App{Handler: h, DB: db, Auth: authService, Outbox: worker, Webhooks: webhooks, Expiry: expiries, Invitations: invitations, Metrics: metricsApart}, nil
}

// rateLimiter returns a limit of perMinute events per client address: counted
// in PostgreSQL, where every replica shares it, or in this process on SQLite,
// which one process serves.
func rateLimiter(db *store.DB, scope string, perMinute int) auth.RateLimiter {
	if db.Apart != nil {
		return auth.NewSharedRateLimiter(db.Apart, scope, perMinute)
	}
	return auth.NewRateLimiter(perMinute)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
