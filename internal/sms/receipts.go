package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sort"
	"strings"
)

// Receipt is a provider's report on a message it accepted.
type Receipt struct {
	// Ref is the Message.ID the status callback URL carried.
	Ref string
	// Delivered is true when the handset got the message; Failed when the
	// provider gave up (Twilio's "undelivered" and "failed"). Neither: in transit.
	Delivered, Failed bool
	// Reason is the provider's error code, when it failed.
	Reason string
}

// ReceiptHandler serves delivery receipts posted by the provider in Twilio's
// format: a form with MessageStatus and ErrorCode, signed in the
// X-Twilio-Signature header with base64(HMAC-SHA1(AuthToken, URL + each POST
// parameter's name and value, sorted by name)). URL is the callback URL as the
// provider called it (CallbackURL with its ref), so the configured public
// address must match what the provider was given. Unsigned or badly signed
// posts are refused with 403 and change nothing.
type ReceiptHandler struct {
	CallbackURL string
	AuthToken   string
	Apply       func(ctx context.Context, r Receipt) error
	Log         *slog.Logger
}

// maxReceiptBytes bounds a receipt's body; Twilio's are under 2 KiB.
const maxReceiptBytes = 16 << 10

func (h *ReceiptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxReceiptBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ref := r.URL.Query().Get("ref")
	full := CallbackFor(h.CallbackURL, ref)
	if h.AuthToken == "" || ref == "" || !ValidSignature(h.AuthToken, full, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	status := r.PostForm.Get("MessageStatus")
	rc := Receipt{Ref: ref, Delivered: status == "delivered", Failed: status == "undelivered" || status == "failed"}
	if rc.Failed {
		rc.Reason = "the provider reported " + status
		if code := r.PostForm.Get("ErrorCode"); code != "" {
			rc.Reason += " (error " + code + ")"
		}
	}
	if err := h.Apply(r.Context(), rc); err != nil {
		h.Log.ErrorContext(r.Context(), "sms: apply receipt", "ref", ref, "err", err)
		// A 5xx makes the provider retry the callback.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Signature is Twilio's request signature of a POST to url with form.
func Signature(authToken, url string, form map[string][]string) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature compares a request's signature in constant time.
func ValidSignature(authToken, url string, form map[string][]string, got string) bool {
	return hmac.Equal([]byte(Signature(authToken, url, form)), []byte(got))
}
