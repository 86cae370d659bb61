// Package sms provides sending text messages: a Sender for Twilio's Messages API
// (or any provider that speaks its form-encoded format), a logging Sender for
// development, and the signed delivery-receipt callbacks that providers post back.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Message is one text message. ID names it for receipts: the sender passes it
// in the status callback URL, and the receipt carries it back.
type Message struct {
	ID, To, Body string
}

// Sender sends text messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrUndeliverable marks a message the provider refused for good (an invalid
// number, an opted-out recipient): retrying cannot help.
var ErrUndeliverable = errors.New("sms: undeliverable")

// HTTPSender posts messages to Twilio's Messages API:
//
//	POST {Endpoint}            (https://api.twilio.com/2010-04-01/Accounts/{AccountSID}/Messages.json)
//	Authorization: Basic base64(AccountSID:AuthToken)
//	Content-Type: application/x-www-form-urlencoded
//	To=+15551234567&From=+15557654321&Body=...&StatusCallback={CallbackURL}?ref={Message.ID}
//
// A 2xx answer is sent; 4xx other than 429 is ErrUndeliverable with the
// provider's code and message; anything else is retried.
type HTTPSender struct {
	Endpoint   string
	AccountSID string
	AuthToken  string
	From       string
	// CallbackURL is where the provider posts delivery receipts; empty: none.
	CallbackURL string
	Client      *http.Client
}

// maxReplyBytes bounds how much of a provider's answer is read.
const maxReplyBytes = 64 << 10

// Send posts one message.
func (s *HTTPSender) Send(ctx context.Context, m Message) error {
	form := url.Values{"To": {m.To}, "From": {s.From}, "Body": {m.Body}}
	if s.CallbackURL != "" {
		form.Set("StatusCallback", CallbackFor(s.CallbackURL, m.ID))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		// The error names the endpoint, never the credentials.
		return fmt.Errorf("sms: post: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxReplyBytes))
	if res.StatusCode/100 == 2 {
		return nil
	}
	reason := providerReason(res.StatusCode, body)
	if res.StatusCode/100 == 4 && res.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%w: %s", ErrUndeliverable, reason)
	}
	return fmt.Errorf("sms: provider answered %s", reason)
}

// providerReason is the code and message of a Twilio error answer, or the HTTP
// status when the answer is not one: never the raw body.
func providerReason(status int, body []byte) string {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return fmt.Sprintf("%d %s (code %d)", status, e.Message, e.Code)
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

// CallbackFor is the status callback URL of one message.
func CallbackFor(callbackURL, id string) string {
	sep := "?"
	if strings.Contains(callbackURL, "?") {
		sep = "&"
	}
	return callbackURL + sep + "ref=" + url.QueryEscape(id)
}

// LogSender writes messages to the log instead of sending them: for
// development. The body is logged only with ShowBody (it may hold a code).
type LogSender struct {
	Log      *slog.Logger
	ShowBody bool
}

// Send logs the message.
func (l LogSender) Send(ctx context.Context, m Message) error {
	attrs := []any{"id", m.ID, "to", m.To}
	if l.ShowBody {
		attrs = append(attrs, "body", m.Body)
	}
	l.Log.InfoContext(ctx, "sms: not sent (log sender)", attrs...)
	return nil
}
