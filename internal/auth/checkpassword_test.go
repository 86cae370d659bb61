package auth_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"staffroom/ent"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/requestmeta"
	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

const password = "correct horse battery staple"

// newChecker returns a service allowing checksPerMinute password checks per
// address, and a user whose password is password.
func newChecker(t *testing.T, d storetest.Dialect, checksPerMinute int) (*auth.Service, *store.DB) {
	t.Helper()
	db := storetest.Open(t, d)
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	ctx := access.SystemContext(context.Background(), "test")
	db.Client.User.Create().SetEmail("ada@example.com").SetFirstName("Ada").SetLastName("Lovelace").SetPasswordHash(hash).ExecX(ctx)
	s := auth.NewService(db.Client, nil, auth.Settings{PasswordChecksPerMinute: checksPerMinute, Dialect: db.Dialect},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return s, db
}

func from(ip string) context.Context {
	return requestmeta.NewContext(context.Background(), &requestmeta.Meta{IP: ip})
}

// The limit per address is the check's own: it holds for any path that checks
// a password, whatever limits the path has besides.
func TestCheckPasswordLimitsEachAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s, _ := newChecker(t, d, 2)
		ada := user.Email("ada@example.com")
		for i := range 2 {
			if _, err := s.CheckPassword(from("203.0.113.7"), ada, password); err != nil {
				t.Fatalf("check %d: %v", i+1, err)
			}
		}
		if _, err := s.CheckPassword(from("203.0.113.7"), ada, password); !errcode.Is(err, errcode.RateLimited) {
			t.Fatalf("third check from one address: %v, want RATE_LIMITED", err)
		}
		if _, err := s.CheckPassword(from("198.51.100.1"), ada, password); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}

// A check inside a transaction would have its failure rolled back with the
// caller's work; it is refused, so that a new path cannot do it by mistake.
func TestCheckPasswordRefusesToRunInsideATransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s, db := newChecker(t, d, 0)
		var checkErr error
		_ = store.InTx(context.Background(), db.Client, func(ctx context.Context, _ *ent.Client) error {
			_, checkErr = s.CheckPassword(ctx, user.Email("ada@example.com"), "wrong password!")
			return checkErr
		})
		if checkErr == nil || errcode.Is(checkErr, errcode.InvalidCredentials) {
			t.Fatalf("check inside a transaction: %v, want a refusal", checkErr)
		}
		u := db.Client.User.Query().Where(user.Email("ada@example.com")).OnlyX(access.SystemContext(context.Background(), "test"))
		if u.FailedLogins != 0 {
			t.Errorf("a refused check counted a failure: %d", u.FailedLogins)
		}
	})
}
