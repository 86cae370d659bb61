package app

import (
	"context"
	"log/slog"
	"net/http"

	"staffroom/ent"
	"staffroom/internal/config"
	"staffroom/internal/messaging"
	"staffroom/internal/sms"
)

// smsReceiptsPath is where providers post delivery receipts.
const smsReceiptsPath = "/sms/receipts"

// smsSender is the configured SMS sender: the HTTP API, or the log.
func smsSender(cfg config.Config, log *slog.Logger) sms.Sender {
	if cfg.SMSURL == "" {
		return sms.LogSender{Log: log, ShowBody: cfg.Development()}
	}
	return &sms.HTTPSender{Endpoint: cfg.SMSURL, AccountSID: cfg.SMSAccount, AuthToken: cfg.SMSToken,
		From: cfg.SMSFrom, CallbackURL: cfg.SMSCallbackURL}
}

// withSMSReceipts serves signed delivery receipts at smsReceiptsPath in front of
// h; without a callback URL and token no receipts are asked for or accepted.
func withSMSReceipts(h http.Handler, cfg config.Config, client *ent.Client, log *slog.Logger) http.Handler {
	if cfg.SMSCallbackURL == "" || cfg.SMSToken == "" {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle(smsReceiptsPath, &sms.ReceiptHandler{
		CallbackURL: cfg.SMSCallbackURL, AuthToken: cfg.SMSToken, Log: log,
		Apply: func(ctx context.Context, r sms.Receipt) error { return messaging.ApplyReceipt(ctx, client, r) },
	})
	mux.Handle("/", h)
	return mux
}
