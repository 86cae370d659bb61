package mail

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// An organization's invitation template may put the link in the subject too.
var linked = Message{
	To:      "zoe@example.com",
	Subject: "Join Acme now: https://staffroom.example/invitation?token=subjectsecret",
	Text:    "Accept here:\nhttps://staffroom.example/invitation?token=textsecret\n",
	HTML:    `<a href="https://staffroom.example/invitation?token=htmlsecret">Accept</a>`,
}

func logged(t *testing.T, showBody bool, m Message) string {
	t.Helper()
	var buf bytes.Buffer
	l := LogMailer{Log: slog.New(slog.NewJSONHandler(&buf, nil)), ShowBody: showBody}
	if err := l.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestLogMailerWithoutBodyLogsNoLinkOrToken(t *testing.T) {
	out := logged(t, false, linked)
	for _, secret := range []string{"subjectsecret", "textsecret", "htmlsecret", "token=", "://"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q: %s", secret, out)
		}
	}
	for _, kept := range []string{"zoe@example.com", "Join Acme now:"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log lacks %q: %s", kept, out)
		}
	}
}

func TestLogMailerWithBodyShowsTheLink(t *testing.T) {
	out := logged(t, true, linked)
	if !strings.Contains(out, "https://staffroom.example/invitation?token=textsecret") {
		t.Errorf("development log lacks the link: %s", out)
	}
}
