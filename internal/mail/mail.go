// Package mail provides the Mailer that Staffroom's emails go through: SMTP, or
// a mailer that writes each email to the log (its body in development only).
package mail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
)

// Message is one email.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// ID names the email across attempts (the outbox id), optional. The SMTP
	// mailer builds the Message-ID from it, so that a receiver can recognize an
	// email that was delivered twice.
	ID string
}

// ErrUndeliverable marks a permanent failure: the address is invalid or the server
// refused the email, and sending it again would fail the same way.
var ErrUndeliverable = errors.New("mail: undeliverable")

// Mailer sends email. An error that wraps ErrUndeliverable is permanent; any
// other error may pass, and the email is worth sending again later.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// LogMailer writes emails to the log instead of sending them. Bodies carry
// invitation and password-reset links, which give whoever reads them an
// account, so a body is logged only when ShowBody is set (development).
type LogMailer struct {
	Log      *slog.Logger
	ShowBody bool
}

// Send logs the email.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	if !l.ShowBody {
		l.Log.InfoContext(ctx, "email (not sent: STAFFROOM_MAIL_SENDER=log; body not logged)",
			"to", m.To, "subject", redactLinks(m.Subject))
		return nil
	}
	l.Log.InfoContext(ctx, "email (not sent: no STAFFROOM_SMTP_URL)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}

// redactLinks hides every word of s that holds a link or a token: an
// organization's invitation template may put the link in the subject.
func redactLinks(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "://") || strings.Contains(strings.ToLower(w), "token") {
			words[i] = "[redacted]"
		}
	}
	return strings.Join(words, " ")
}

// Recorder keeps the emails it is given, for tests.
type Recorder struct {
	mu   sync.Mutex
	sent []Message
}

// Send records the email.
func (r *Recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

// Sent returns the emails recorded so far.
func (r *Recorder) Sent() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.sent...)
}
