package config

import (
	"strings"
	"testing"
)

func load(t *testing.T, env map[string]string) (Config, error) {
	t.Helper()
	return Load(nil, func(k string) string { return env[k] })
}

func production(more map[string]string) map[string]string {
	env := map[string]string{"STAFFROOM_ENV": "production", "STAFFROOM_SIGNING_KEY_FILE": "/keys/signing.pem"}
	for k, v := range more {
		env[k] = v
	}
	return env
}

func TestProductionWithoutSMTPNeedsTheLogSenderChosen(t *testing.T) {
	_, err := load(t, production(nil))
	if err == nil {
		t.Fatal("production without STAFFROOM_SMTP_URL started")
	}
	for _, want := range []string{"STAFFROOM_SMTP_URL", "STAFFROOM_MAIL_SENDER=log"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	c, err := load(t, production(map[string]string{"STAFFROOM_MAIL_SENDER": "log"}))
	if err != nil || c.MailSender != MailSenderLog {
		t.Errorf("production choosing the log sender: %q, %v", c.MailSender, err)
	}
}

var mailSenders = []struct {
	name string
	env  map[string]string
	want string // "" when Load must fail
}{
	{"development defaults to the log", map[string]string{}, MailSenderLog},
	{"an SMTP URL sends by SMTP", map[string]string{"STAFFROOM_SMTP_URL": "smtp://mail:25"}, MailSenderSMTP},
	{"production with an SMTP URL", production(map[string]string{"STAFFROOM_SMTP_URL": "smtp://mail:25"}), MailSenderSMTP},
	{"the log chosen over an SMTP URL", map[string]string{"STAFFROOM_SMTP_URL": "smtp://mail:25", "STAFFROOM_MAIL_SENDER": "log"}, MailSenderLog},
	{"smtp without its URL", map[string]string{"STAFFROOM_MAIL_SENDER": "smtp"}, ""},
	{"an unknown sender", map[string]string{"STAFFROOM_MAIL_SENDER": "pigeon"}, ""},
	{"production without SMTP", production(map[string]string{"STAFFROOM_MAIL_SENDER": ""}), ""},
}

func TestMailSender(t *testing.T) {
	for _, tc := range mailSenders {
		c, err := load(t, tc.env)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: loaded with sender %q, want an error", tc.name, c.MailSender)
		case tc.want != "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case c.MailSender != tc.want && tc.want != "":
			t.Errorf("%s: sender %q, want %q", tc.name, c.MailSender, tc.want)
		}
	}
}

func TestMailSenderFlagWinsOverVariable(t *testing.T) {
	c, err := Load([]string{"-mail-sender", "log"}, func(k string) string {
		return production(nil)[k]
	})
	if err != nil || c.MailSender != MailSenderLog {
		t.Errorf("-mail-sender log in production: %q, %v", c.MailSender, err)
	}
}

func TestPasswordHashes(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.HashingConcurrency != 0 {
		t.Fatalf("default: %d, %v; want 0 (half the cores)", c.HashingConcurrency, err)
	}
	if c, err := load(t, map[string]string{"STAFFROOM_PASSWORD_HASHES": "2"}); err != nil || c.HashingConcurrency != 2 {
		t.Errorf("STAFFROOM_PASSWORD_HASHES=2: %d, %v", c.HashingConcurrency, err)
	}
	if _, err := load(t, map[string]string{"STAFFROOM_PASSWORD_HASHES": "-1"}); err == nil || !strings.Contains(err.Error(), "STAFFROOM_PASSWORD_HASHES") {
		t.Errorf("a negative number of hashes: %v, want an error naming the setting", err)
	}
}
