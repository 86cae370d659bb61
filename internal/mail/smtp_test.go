package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"staffroom/internal/mail/mailtest"
)

const testFrom = "Staffroom <no-reply@staffroom.test>"

func newTestMailer(t *testing.T, srv *mailtest.Server) *SMTPMailer {
	t.Helper()
	m, err := NewSMTPMailer(srv.URL, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if srv.ClientTLS != nil {
		// The test server's certificate is self-signed; production uses the system roots.
		if err := m.client.SetTLSConfig(srv.ClientTLS); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

var deliveries = []struct {
	name      string
	msg       Message
	wantParts map[string]string
}{
	{
		name: "text and HTML",
		msg: Message{
			To: "ada@example.com", Subject: "You are invited to Acme", ID: "eml_01TEST",
			Text: "Accept here: https://staffroom.test/invitation?token=abc",
			HTML: `<p>Accept <a href="https://staffroom.test/invitation?token=abc">here</a></p>`,
		},
		wantParts: map[string]string{
			"text/plain": "Accept here: https://staffroom.test/invitation?token=abc",
			"text/html":  `<p>Accept <a href="https://staffroom.test/invitation?token=abc">here</a></p>`,
		},
	},
	{
		name:      "text only",
		msg:       Message{To: "bob@example.com", Subject: "Reset your password", Text: "Open https://staffroom.test/reset"},
		wantParts: map[string]string{"text/plain": "Open https://staffroom.test/reset"},
	},
	{
		name: "non-ASCII subject and body",
		msg:  Message{To: "zoe@example.com", Subject: "Einladung für Zoë", Text: "Grüße — https://staffroom.test/ä"},
		wantParts: map[string]string{
			"text/plain": "Grüße — https://staffroom.test/ä",
		},
	},
}

func TestSMTPMailerDelivers(t *testing.T) {
	for _, tt := range deliveries {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{})
			if err := newTestMailer(t, srv).Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := onlyEmail(t, srv)
			if got.From != "no-reply@staffroom.test" || len(got.To) != 1 || got.To[0] != tt.msg.To {
				t.Errorf("envelope from %q to %v, want no-reply@staffroom.test to %s", got.From, got.To, tt.msg.To)
			}
			if s := got.Header("Subject"); s != tt.msg.Subject {
				t.Errorf("subject %q, want %q", s, tt.msg.Subject)
			}
			if !strings.Contains(string(got.Data), "Subject:") || !strings.Contains(got.Header("From"), "no-reply@staffroom.test") {
				t.Errorf("headers missing:\n%s", got.Data)
			}
			bodies, err := got.Bodies()
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, got.Data)
			}
			for typ, want := range tt.wantParts {
				if strings.TrimSpace(bodies[typ]) != want {
					t.Errorf("%s part %q, want %q", typ, bodies[typ], want)
				}
			}
			if len(bodies) != len(tt.wantParts) {
				t.Errorf("parts %v, want %d", keys(bodies), len(tt.wantParts))
			}
		})
	}
}

func TestSMTPMailerMessageIDNamesTheEmail(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	msg := Message{To: "ada@example.com", Subject: "Hi", Text: "Hi", ID: "eml_01HZY"}
	if err := newTestMailer(t, srv).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if id := onlyEmail(t, srv).Header("Message-ID"); id != "<eml_01HZY@staffroom.test>" {
		t.Errorf("Message-ID %q, want <eml_01HZY@staffroom.test>", id)
	}
}

func TestSMTPMailerLogsInOverSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: true, Username: "staffroom", Password: "s3cret:/@"})
	if err := newTestMailer(t, srv).Send(context.Background(), Message{To: "ada@example.com", Subject: "Hi", Text: "Hi"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := onlyEmail(t, srv)
	if !got.TLS || got.Username != "staffroom" {
		t.Errorf("TLS %v, user %q; want an encrypted, authenticated connection", got.TLS, got.Username)
	}
}

func TestSMTPMailerWrongPasswordIsTemporary(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: true, Username: "staffroom", Password: "right"})
	m := newTestMailer(t, srv)
	m.client.SetPassword("wrong")
	err := m.Send(context.Background(), Message{To: "ada@example.com", Subject: "Hi", Text: "Hi"})
	if err == nil || errors.Is(err, ErrUndeliverable) {
		t.Fatalf("err = %v, want a failure worth retrying once the configuration is fixed", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestSMTPMailerRefusedRecipientIsUndeliverable(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Reject: []string{"gone@example.com"}})
	err := newTestMailer(t, srv).Send(context.Background(), Message{To: "gone@example.com", Subject: "Hi", Text: "Hi"})
	if !errors.Is(err, ErrUndeliverable) {
		t.Fatalf("err = %v, want ErrUndeliverable", err)
	}
	if len(srv.Emails()) != 0 {
		t.Error("the server recorded a refused email")
	}
}

func TestSMTPMailerInvalidRecipientIsUndeliverable(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	err := newTestMailer(t, srv).Send(context.Background(), Message{To: "not an address", Subject: "Hi", Text: "Hi"})
	if !errors.Is(err, ErrUndeliverable) {
		t.Fatalf("err = %v, want ErrUndeliverable", err)
	}
}

func TestSMTPMailerServerDownIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	m, err := NewSMTPMailer("smtp://staffroom:hunter2@"+addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), Message{To: "ada@example.com", Subject: "Hi", Text: "Hi"})
	if err == nil || errors.Is(err, ErrUndeliverable) {
		t.Fatalf("err = %v, want a temporary failure", err)
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q should name %s and not the password", err, addr)
	}
}

func TestSMTPMailerConcurrentSends(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	m := newTestMailer(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			errs <- m.Send(context.Background(), Message{To: fmt.Sprintf("u%d@example.com", i), Subject: "Hi", Text: "Hi"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Emails()); n != 20 {
		t.Errorf("%d emails arrived, want 20", n)
	}
}

var smtpURLs = []struct {
	url        string
	wantServer string
	wantErr    string
}{
	{url: "smtp://mailpit:1025", wantServer: "mailpit:1025"},
	{url: "smtp://user:pa%24%24@mail.example.com", wantServer: "mail.example.com:587"},
	{url: "smtps://user:pass@mail.example.com", wantServer: "mail.example.com:465"},
	{url: "smtps://user:pass@[::1]:2465", wantServer: "[::1]:2465"},
	{url: "http://user:topsecret@mail.example.com", wantErr: `unsupported SMTP URL scheme "http"`},
	{url: "smtp://user:topsecret@:25", wantErr: "names no host"},
	{url: "smtp://user:topsecret@mail.example.com:99999", wantErr: `port "99999"`},
	{url: "smtp://user:top%zzsecret@mail.example.com", wantErr: "does not parse"},
	{url: "smtp://user:topsecret@mail.example.com:port", wantErr: "does not parse"},
	{url: "mail.example.com:25", wantErr: "unsupported SMTP URL scheme"},
}

func TestNewSMTPMailerURL(t *testing.T) {
	for _, tt := range smtpURLs {
		t.Run(tt.url, func(t *testing.T) {
			m, err := NewSMTPMailer(tt.url, testFrom)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.server != tt.wantServer {
				t.Errorf("server %s, want %s", m.server, tt.wantServer)
			}
		})
	}
}

func TestNewSMTPMailerSender(t *testing.T) {
	if _, err := NewSMTPMailer("smtp://localhost:25", "not an address"); err == nil {
		t.Fatal("want an error for a sender that is not an address")
	}
}

func onlyEmail(t *testing.T, srv *mailtest.Server) mailtest.Email {
	t.Helper()
	emails := srv.Emails()
	if len(emails) != 1 {
		t.Fatalf("%d emails arrived, want 1", len(emails))
	}
	return emails[0]
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
