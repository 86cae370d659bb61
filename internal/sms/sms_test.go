package sms_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"staffroom/internal/sms"
)

// TestHTTPSenderSortsFailures: a refusal of the message itself is final, a
// busy or broken provider is retried, and no error carries the credentials or
// the provider's raw answer.
func TestHTTPSenderSortsFailures(t *testing.T) {
	for _, c := range []struct {
		status      int
		body        string
		final       bool
		wantInError string
	}{
		{http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number","more_info":"secret-ish"}`, true, "Invalid 'To' Phone Number (code 21211)"},
		{http.StatusTooManyRequests, `{"code":20429,"message":"Too Many Requests"}`, false, "Too Many Requests"},
		{http.StatusInternalServerError, `<html>stack trace here</html>`, false, "500 Internal Server Error"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(c.status)
			w.Write([]byte(c.body)) //nolint:errcheck
		}))
		s := &sms.HTTPSender{Endpoint: srv.URL, AccountSID: "AC1", AuthToken: "token-not-in-errors", From: "+1555"}
		err := s.Send(context.Background(), sms.Message{ID: "eml_1", To: "+15550001", Body: "hi"})
		srv.Close()
		if err == nil {
			t.Fatalf("%d: no error", c.status)
		}
		if errors.Is(err, sms.ErrUndeliverable) != c.final {
			t.Errorf("%d: final = %v, want %v (%v)", c.status, !c.final, c.final, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.wantInError) || strings.Contains(msg, "token-not-in-errors") ||
			strings.Contains(msg, "stack trace") || strings.Contains(msg, "more_info") {
			t.Errorf("%d: error %q", c.status, msg)
		}
	}
}

// TestReceiptSignatureCoversEveryParameter: changing any posted value or the
// URL invalidates the signature.
func TestReceiptSignatureCoversEveryParameter(t *testing.T) {
	form := map[string][]string{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	url := sms.CallbackFor("https://example.com/sms/receipts", "eml_1")
	sig := sms.Signature("token", url, form)
	if !sms.ValidSignature("token", url, form, sig) {
		t.Fatal("a correct signature is refused")
	}
	if sms.ValidSignature("token", url, map[string][]string{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}}, sig) {
		t.Error("a changed status keeps its signature")
	}
	if sms.ValidSignature("token", sms.CallbackFor("https://example.com/sms/receipts", "eml_2"), form, sig) {
		t.Error("another message's receipt keeps its signature")
	}
}
