// Package mail provides the Mailer that Staffroom's emails go through: SMTP in
// production, and in development a mailer that writes each email to the log.
package mail

import (
	"context"
	"errors"
	"log/slog"
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

// LogMailer writes emails to the log instead of sending them (development).
type LogMailer struct {
	Log *slog.Logger
}

// Send logs the email.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Log.InfoContext(ctx, "email (not sent: no STAFFROOM_SMTP_URL)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
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
