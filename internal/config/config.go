// Package config provides Staffroom's typed configuration, read from flags and
// environment variables (a flag wins over its variable), with defaults that run.
package config

import (
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the server. Each one is listed in the README.
type Config struct {
	Env         string // development or production
	Addr        string
	DatabaseURL string
	DataDir     string
	PublicURL   string
	LogLevel    string

	GraphiQL         bool
	Introspection    bool
	RequestTimeout   time.Duration
	ShutdownTimeout  time.Duration
	MaxBodyBytes     int64
	ComplexityLimit  int
	MaxResponseBytes int
	DepthLimit       int
	TokenLimit       int
	DBMaxOpenConns   int
	DBMaxIdleConns   int
	DBStatementCache int
	TrustedProxies   string
	CORSOrigins      string
	Metrics          bool
	MetricsAddr      string
	// DBTransactionPooling: DATABASE_URL reaches PostgreSQL through a pooler
	// in transaction mode (PgBouncer's pool_mode = transaction).
	DBTransactionPooling bool

	Issuer             string
	Audience           string
	SigningKeyFile     string
	VerifyKeyFiles     string
	AccessTokenTTL     time.Duration
	RefreshIdleTTL     time.Duration
	RefreshAbsoluteTTL time.Duration
	LockoutDuration    time.Duration
	SessionRateLimit   int
	// HashingConcurrency is how many argon2id hashes run at once; 0 is half the cores.
	HashingConcurrency int
	// TrustExistingEmails verifies, at start, the logins that existed unverified
	// before addresses were verified.
	TrustExistingEmails bool

	InvitationTTL time.Duration
	// ExpiryInterval is how often the expiry job looks for time-boxed access
	// that has ended (reads ignore it from the second it ends anyway).
	ExpiryInterval time.Duration
	SMTPURL        string
	MailFrom       string
	// MailSender is how emails leave: MailSenderSMTP or MailSenderLog. Load
	// settles it, so it is never empty after.
	MailSender string

	// SMS: Twilio's Messages API, or the log when SMSURL is empty.
	SMSURL, SMSAccount, SMSToken, SMSFrom, SMSCallbackURL string

	// Webhooks: the time limit of one attempt, how long a delivery is
	// retried, and how long an endpoint may fail before it is suspended.
	WebhookTimeout, WebhookRetryFor, WebhookSuspendAfter time.Duration
}

// The mail senders that STAFFROOM_MAIL_SENDER chooses between.
const (
	MailSenderSMTP = "smtp"
	// MailSenderLog writes emails to the log: in full in development, without
	// their body (which carries links and tokens) in production.
	MailSenderLog = "log"
)

// CORSOriginList returns the origins of CORSOrigins.
func (c Config) CORSOriginList() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// Development reports whether the server runs in development mode.
func (c Config) Development() bool { return c.Env == "development" }

// Load reads the configuration from args (without the program name) and getenv.
func Load(args []string, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("staffroom", flag.ContinueOnError)
	b := binder{fs: fs, getenv: getenv}
	b.str(&c.Env, "env", "STAFFROOM_ENV", "development", "development or production")
	b.str(&c.Addr, "addr", "STAFFROOM_ADDR", "", "address to listen on (default: 127.0.0.1:8080 in development, :8080 in production)")
	b.str(&c.DatabaseURL, "database-url", "DATABASE_URL", "", "postgres://… for PostgreSQL; empty for the embedded SQLite file in the data directory")
	b.str(&c.DataDir, "data-dir", "STAFFROOM_DATA_DIR", "./data", "where the SQLite file and development signing key live")
	b.str(&c.PublicURL, "public-url", "STAFFROOM_PUBLIC_URL", "http://localhost:8080", "base URL of the front end, for links in emails")
	b.str(&c.LogLevel, "log-level", "STAFFROOM_LOG_LEVEL", "info", "debug, info, warn or error")
	b.boolean(&c.GraphiQL, "graphiql", "STAFFROOM_GRAPHIQL", "", "serve GraphiQL at / (default: on in development)")
	b.boolean(&c.Introspection, "introspection", "STAFFROOM_INTROSPECTION", "", "allow introspection (default: on in development)")
	b.duration(&c.RequestTimeout, "request-timeout", "STAFFROOM_REQUEST_TIMEOUT", "15s", "time limit of one request")
	b.duration(&c.ShutdownTimeout, "shutdown-timeout", "STAFFROOM_SHUTDOWN_TIMEOUT", "10s", "time given to requests in flight at shutdown")
	b.int64(&c.MaxBodyBytes, "max-body-bytes", "STAFFROOM_MAX_BODY_BYTES", "1048576", "largest request body; larger ones get 413")
	b.integer(&c.ComplexityLimit, "complexity-limit", "STAFFROOM_COMPLEXITY_LIMIT", "10000", "largest query complexity")
	b.integer(&c.MaxResponseBytes, "max-response-bytes", "STAFFROOM_MAX_RESPONSE_BYTES", "4194304", "largest response data; a larger one is replaced by a COMPLEXITY_LIMIT error")
	b.integer(&c.DepthLimit, "depth-limit", "STAFFROOM_DEPTH_LIMIT", "15", "deepest selection nesting (the standard introspection query is 14 deep)")
	b.integer(&c.TokenLimit, "token-limit", "STAFFROOM_TOKEN_LIMIT", "1000", "most lexer tokens in one query document")
	b.integer(&c.DBMaxOpenConns, "db-max-open-conns", "STAFFROOM_DB_MAX_OPEN_CONNS", "32", "database pool size")
	b.integer(&c.DBMaxIdleConns, "db-max-idle-conns", "STAFFROOM_DB_MAX_IDLE_CONNS", "32", "idle connections kept in the pool (a connection closed when idle is reopened on the next burst)")
	b.integer(&c.DBStatementCache, "db-statement-cache", "STAFFROOM_DB_STATEMENT_CACHE", "128", "statements each PostgreSQL connection keeps prepared; 0 for none")
	b.boolean(&c.DBTransactionPooling, "db-transaction-pooling", "STAFFROOM_DB_TRANSACTION_POOLING", "false", "DATABASE_URL reaches PostgreSQL through a pooler in transaction mode (PgBouncer): nothing is prepared, and each statement outside a transaction runs in one of its own")
	b.str(&c.TrustedProxies, "trusted-proxies", "STAFFROOM_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (rate limits, audit)")
	b.str(&c.CORSOrigins, "cors-origins", "STAFFROOM_CORS_ORIGINS", "", "comma-separated origins (https://app.example.com) whose scripts may call the API; * for any, refused in production")
	b.boolean(&c.Metrics, "metrics", "STAFFROOM_METRICS", "", "serve Prometheus metrics at /metrics (default: on in development)")
	b.str(&c.MetricsAddr, "metrics-addr", "STAFFROOM_METRICS_ADDR", "", "serve /metrics on this address of its own instead of the main one")
	b.str(&c.Issuer, "issuer", "STAFFROOM_ISSUER", "staffroom", "iss of access tokens")
	b.str(&c.Audience, "audience", "STAFFROOM_AUDIENCE", "staffroom-api", "aud of access tokens")
	b.str(&c.SigningKeyFile, "signing-key-file", "STAFFROOM_SIGNING_KEY_FILE", "", "PEM Ed25519 private key that signs access tokens (required in production; generated in the data directory in development)")
	b.str(&c.VerifyKeyFiles, "verify-key-files", "STAFFROOM_VERIFY_KEY_FILES", "", "comma-separated PEM public keys still accepted (key rotation)")
	b.duration(&c.AccessTokenTTL, "access-token-ttl", "STAFFROOM_ACCESS_TOKEN_TTL", "15m", "lifetime of an access token")
	b.duration(&c.RefreshIdleTTL, "refresh-idle-ttl", "STAFFROOM_REFRESH_IDLE_TTL", "168h", "a refresh token unused this long expires")
	b.duration(&c.RefreshAbsoluteTTL, "refresh-absolute-ttl", "STAFFROOM_REFRESH_ABSOLUTE_TTL", "720h", "a login expires this long after it started, whatever its use")
	b.duration(&c.LockoutDuration, "lockout-duration", "STAFFROOM_LOCKOUT_DURATION", "15m", "how long an account stays locked after 3 failed logins; 0 locks until unlocked")
	b.integer(&c.HashingConcurrency, "password-hashes", "STAFFROOM_PASSWORD_HASHES", "0", "password hashes (argon2id, 19 MiB each) run at once; 0 for half the cores, at least one")
	b.integer(&c.SessionRateLimit, "session-rate-limit", "STAFFROOM_SESSION_RATE_LIMIT", "20", "session mutations (log in, sign up, reset…) allowed per IP per minute, and apart from them password checks")
	b.boolean(&c.TrustExistingEmails, "trust-existing-emails", "STAFFROOM_TRUST_EXISTING_EMAILS", "false", "treat every login that existed before email verification as verified")
	b.duration(&c.InvitationTTL, "invitation-ttl", "STAFFROOM_INVITATION_TTL", "168h", "how long an invitation link stays valid")
	b.duration(&c.ExpiryInterval, "expiry-interval", "STAFFROOM_EXPIRY_INTERVAL", "5s", "how often the expiry job ends group links, grants and disabled periods whose until has passed")
	b.str(&c.SMTPURL, "smtp-url", "STAFFROOM_SMTP_URL", "", "smtp://user:pass@host:port to send email; empty logs emails instead (in production only with STAFFROOM_MAIL_SENDER=log)")
	b.str(&c.MailFrom, "mail-from", "STAFFROOM_MAIL_FROM", "Staffroom <no-reply@staffroom.local>", "sender of emails")
	b.str(&c.MailSender, "mail-sender", "STAFFROOM_MAIL_SENDER", "", "smtp or log (default: smtp when STAFFROOM_SMTP_URL is set, else log, which production must choose explicitly)")
	b.str(&c.SMSURL, "sms-url", "STAFFROOM_SMS_URL", "", "Twilio-style Messages endpoint (https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json); empty logs text messages instead")
	b.str(&c.SMSAccount, "sms-account", "STAFFROOM_SMS_ACCOUNT", "", "SMS account id (the user of the endpoint's basic auth)")
	b.str(&c.SMSToken, "sms-token", "STAFFROOM_SMS_TOKEN", "", "SMS auth token: the password of the endpoint, and the key that signs delivery receipts")
	b.str(&c.SMSFrom, "sms-from", "STAFFROOM_SMS_FROM", "", "sender number or id of text messages")
	b.str(&c.SMSCallbackURL, "sms-callback-url", "STAFFROOM_SMS_CALLBACK_URL", "", "public URL of /sms/receipts as the provider calls it; empty asks for no receipts")
	b.duration(&c.WebhookTimeout, "webhook-timeout", "STAFFROOM_WEBHOOK_TIMEOUT", "10s", "time limit of one webhook attempt, from connecting to the end of the answer")
	b.duration(&c.WebhookRetryFor, "webhook-retry-for", "STAFFROOM_WEBHOOK_RETRY_FOR", "24h", "how long a webhook delivery is retried, with backoff, before it is FAILED")
	b.duration(&c.WebhookSuspendAfter, "webhook-suspend-after", "STAFFROOM_WEBHOOK_SUSPEND_AFTER", "24h", "an endpoint whose every attempt failed this long is suspended, and its owners emailed, when a delivery fails for good")
	if b.err != nil {
		return c, b.err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.finish(fs)
}

func (c *Config) finish(fs *flag.FlagSet) error {
	if c.Env != "development" && c.Env != "production" {
		return fmt.Errorf("config: STAFFROOM_ENV must be development or production, not %q", c.Env)
	}
	if c.WebhookTimeout <= 0 || c.WebhookRetryFor <= 0 || c.WebhookSuspendAfter <= 0 {
		return fmt.Errorf("config: webhook durations must be positive")
	}
	if c.MaxBodyBytes <= 0 || c.ComplexityLimit <= 0 || c.MaxResponseBytes <= 0 || c.DepthLimit <= 0 || c.TokenLimit <= 0 {
		return fmt.Errorf("config: limits must be positive")
	}
	if c.HashingConcurrency < 0 {
		return fmt.Errorf("config: STAFFROOM_PASSWORD_HASHES must be 0 (half the cores) or more")
	}
	if !c.Development() && c.SigningKeyFile == "" {
		return fmt.Errorf("config: STAFFROOM_SIGNING_KEY_FILE is required in production")
	}
	if err := c.settleMailSender(); err != nil {
		return err
	}
	// Unset switches follow the environment: on in development, off in production.
	if fs.Lookup("graphiql").Value.String() == "" {
		c.GraphiQL = c.Development()
	}
	if fs.Lookup("introspection").Value.String() == "" {
		c.Introspection = c.Development()
	}
	if fs.Lookup("metrics").Value.String() == "" {
		c.Metrics = c.Development()
	}
	// Development is reachable from this machine only; production listens on
	// every interface, for containers and load balancers.
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
		if !c.Development() {
			c.Addr = ":8080"
		}
	}
	if !c.Development() && slices.Contains(c.CORSOriginList(), "*") {
		return fmt.Errorf("config: STAFFROOM_CORS_ORIGINS=* lets any site's scripts call the API: list the origins in production")
	}
	for _, o := range c.CORSOriginList() {
		// Browsers send the origin as scheme://host[:port]; anything else never matches.
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "") {
			return fmt.Errorf("config: STAFFROOM_CORS_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
	}
	return nil
}

// settleMailSender chooses the mail sender. Production never falls back to the
// log on its own: emails that silently go nowhere look like a working server.
func (c *Config) settleMailSender() error {
	switch c.MailSender {
	case MailSenderSMTP:
		if c.SMTPURL == "" {
			return fmt.Errorf("config: STAFFROOM_MAIL_SENDER=smtp needs STAFFROOM_SMTP_URL")
		}
	case MailSenderLog:
	case "":
		switch {
		case c.SMTPURL != "":
			c.MailSender = MailSenderSMTP
		case c.Development():
			c.MailSender = MailSenderLog
		default:
			return fmt.Errorf("config: production needs STAFFROOM_SMTP_URL to send email, " +
				"or STAFFROOM_MAIL_SENDER=log to write emails to the log (without their body) instead")
		}
	default:
		return fmt.Errorf("config: STAFFROOM_MAIL_SENDER must be smtp or log, not %q", c.MailSender)
	}
	return nil
}

type binder struct {
	fs     *flag.FlagSet
	getenv func(string) string
	err    error
}

func (b *binder) value(env, def string) string {
	if v := b.getenv(env); v != "" {
		return v
	}
	return def
}

func (b *binder) fail(env string, err error) {
	if b.err == nil {
		b.err = fmt.Errorf("config: %s: %w", env, err)
	}
}

func (b *binder) str(p *string, name, env, def, usage string) {
	b.fs.StringVar(p, name, b.value(env, def), usage+" ("+env+")")
}

func (b *binder) duration(p *time.Duration, name, env, def, usage string) {
	d, err := time.ParseDuration(b.value(env, def))
	if err != nil {
		b.fail(env, err)
	}
	b.fs.DurationVar(p, name, d, usage+" ("+env+")")
}

func (b *binder) integer(p *int, name, env, def, usage string) {
	n, err := strconv.Atoi(b.value(env, def))
	if err != nil {
		b.fail(env, err)
	}
	b.fs.IntVar(p, name, n, usage+" ("+env+")")
}

func (b *binder) int64(p *int64, name, env, def, usage string) {
	n, err := strconv.ParseInt(b.value(env, def), 10, 64)
	if err != nil {
		b.fail(env, err)
	}
	b.fs.Int64Var(p, name, n, usage+" ("+env+")")
}

// boolean binds a switch whose empty default means "decided by the environment".
func (b *binder) boolean(p *bool, name, env, def, usage string) {
	v := b.value(env, def)
	if v != "" {
		parsed, err := strconv.ParseBool(v)
		if err != nil {
			b.fail(env, err)
		}
		*p = parsed
	}
	b.fs.Var(&boolValue{p: p, set: v != ""}, name, usage+" ("+env+")")
}

type boolValue struct {
	p   *bool
	set bool
}

func (v *boolValue) String() string {
	if v == nil || v.p == nil || !v.set {
		return ""
	}
	return strconv.FormatBool(*v.p)
}

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v.p, v.set = b, true
	return nil
}

func (v *boolValue) IsBoolFlag() bool { return true }
