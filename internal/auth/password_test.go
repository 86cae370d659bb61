package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/store/storetest"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		got, err := verifyPassword(t.Context(), hash, tc.password)
		if err != nil || got != tc.want {
			t.Errorf("verifyPassword(%q) = %v, %v; want %v", tc.password, got, err, tc.want)
		}
	}
}

func TestHashPasswordFormat(t *testing.T) {
	a, err := HashPassword("same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("same password")
	if err != nil {
		t.Fatal(err)
	}
	phcFormat := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phcFormat.MatchString(a) {
		t.Errorf("hash %q is not PHC argon2id with m=19456,t=2,p=1, 16-byte salt, 32-byte key", a)
	}
	if a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// Hashes with other parameters, as left by an older or newer release, still verify.
func TestVerifyPasswordUsesStoredParameters(t *testing.T) {
	salt := []byte("0123456789abcdef")
	h := phc{memory: 8 * 1024, time: 1, threads: 2, salt: salt}
	h.key = argon2.IDKey([]byte("legacy password"), salt, h.time, h.memory, h.threads, 24)
	ok, err := verifyPassword(t.Context(), encodePHC(h), "legacy password")
	if err != nil || !ok {
		t.Fatalf("verifyPassword = %v, %v; want true", ok, err)
	}
}

var malformedHashes = []string{
	"",
	"password",
	"$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
	"$argon2i$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=16$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=1,x=3$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=+19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=0,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=0$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=256$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=4294967295,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=1000,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=1$not base64!$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=1$MDEy$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$",
	"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY$extra",
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	for _, hash := range malformedHashes {
		ok, err := verifyPassword(t.Context(), hash, "0123456789abcdef")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("verifyPassword(%q) = %v, %v; want ErrMalformedHash", hash, ok, err)
		}
	}
}

func TestVerifyDummyPassword(t *testing.T) {
	if err := verifyDummyPassword(t.Context(), "anything at all"); err != nil {
		t.Fatal(err)
	}
	if _, err := decodePHC(dummyHash()); err != nil {
		t.Fatalf("dummy hash: %v", err)
	}
}

// holdHashSlots takes every turn to hash, as log-ins hashing at that moment
// would, and returns what lets them go.
func holdHashSlots(t *testing.T) (release func()) {
	t.Helper()
	for range cap(hashing) {
		hashing <- struct{}{}
	}
	released := false
	release = func() {
		if !released {
			released = true
			for range cap(hashing) {
				<-hashing
			}
		}
	}
	t.Cleanup(release)
	return release
}

// waitQueued returns once n callers wait for a turn to hash; a result on
// results before then means a check returned without queuing.
func waitQueued[T any](t *testing.T, n int64, results chan T) {
	t.Helper()
	for hashWaiting.Load() != n {
		if len(results) > 0 {
			t.Fatalf("a check returned before %d queued: %v", n, <-results)
		}
		runtime.Gosched()
	}
}

type checked struct {
	ok  bool
	err error
}

// A check whose context ends while every turn is taken returns at once with
// the context's error, without hashing and without taking a turn; the checks
// queued with it and those hashing carry on.
func TestVerifyPasswordLeavesTheQueueWhenItsContextEnds(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	release := holdHashSlots(t)
	gone, leave := context.WithCancel(t.Context())
	defer leave()
	abandoned, waiting := make(chan checked, 1), make(chan checked, 1)
	go func() {
		ok, err := verifyPassword(gone, hash, "correct horse battery staple")
		abandoned <- checked{ok, err}
	}()
	waitQueued(t, 1, abandoned)
	go func() {
		ok, err := verifyPassword(t.Context(), hash, "correct horse battery staple")
		waiting <- checked{ok, err}
	}()
	waitQueued(t, 2, waiting)

	leave()
	// Every turn is still held here: the abandoned check cannot have hashed.
	if got := <-abandoned; got.ok || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("abandoned check = %v, %v; want context.Canceled", got.ok, got.err)
	}
	if n := len(hashing); n != cap(hashing) {
		t.Fatalf("%d of %d turns held after the abandoned check left", n, cap(hashing))
	}
	waitQueued(t, 1, waiting)
	select {
	case got := <-waiting:
		t.Fatalf("the other check ran while every turn was held: %v, %v", got.ok, got.err)
	default:
	}

	release()
	if got := <-waiting; !got.ok || got.err != nil {
		t.Fatalf("the check queued beside it = %v, %v; want a match", got.ok, got.err)
	}
	if n := len(hashing); n != 0 {
		t.Errorf("%d turns still taken after every check finished", n)
	}
}

// Log-ins whose clients leave while they wait to hash answer with the
// context's error and count no failure: as many as lock an account leave it
// open, and the next log-in with the right password gets in. An unknown
// address abandoned the same way answers the same error, not
// INVALID_CREDENTIALS.
func TestAbandonedLogInsCountNoFailure(t *testing.T) {
	const password = "correct horse battery staple"
	hash, err := HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	_ = dummyHash() // hashed now, while the turns are free
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		db := storetest.Open(t, d)
		sys := access.SystemContext(context.Background(), "test")
		db.Client.User.Create().SetEmail("ada@example.com").SetFirstName("Ada").SetLastName("Lovelace").
			SetPasswordHash(hash).ExecX(sys)
		s := NewService(db.Client, nil, Settings{Dialect: db.Dialect}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		failures := func() int {
			return db.Client.User.Query().Where(user.Email("ada@example.com")).OnlyX(sys).FailedLogins
		}

		release := holdHashSlots(t)
		gone, leave := context.WithCancel(context.Background())
		results := make(chan error, MaxFailedLogins+1)
		for _, email := range []string{"ada@example.com", "ada@example.com", "ada@example.com", "nobody@example.com"} {
			go func() {
				_, err := s.CheckPassword(gone, user.Email(email), password)
				results <- err
			}()
		}
		waitQueued(t, MaxFailedLogins+1, results)
		if n := failures(); n != MaxFailedLogins {
			t.Fatalf("%d attempts claimed while queued, want %d", n, MaxFailedLogins)
		}
		leave()
		for range MaxFailedLogins + 1 {
			if err := <-results; !errors.Is(err, context.Canceled) {
				t.Errorf("abandoned log-in: %v, want context.Canceled", err)
			}
		}
		if n := failures(); n != 0 {
			t.Errorf("abandoned log-ins left %d failures counted", n)
		}

		release()
		if _, err := s.CheckPassword(context.Background(), user.Email("ada@example.com"), password); err != nil {
			t.Fatalf("log-in after the abandoned ones: %v", err)
		}
	})
}

var passwordPolicyTests = []struct {
	name     string
	password string
	ok       bool
}{
	{"7 characters", "k7#pQ2x", false},
	{"8 characters", "k7#pQ2xv", true},
	{"8 characters counted as runes, not bytes", "ééééééé€", true},
	{"7 multi-byte characters", "ééééééé", false},
	{"128 characters", strings.Repeat("k7#pQ2xv", 16), true},
	{"129 characters", strings.Repeat("k7#pQ2xv", 16) + "z", false},
	{"no composition rules", "correct horse battery staple", true},
	{"common", "password123", false},
	{"common, all digits", "12345678", false},
	{"common in another case", "PassWord123", false},
	{"common with spaces around", "  iloveyou1 ", false},
	{"common word with a twist", "password123!x", true},
}

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range passwordPolicyTests {
		err := CheckPasswordPolicy("password", tc.password)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %q refused: %v", tc.name, tc.password, err)
			}
			continue
		}
		e, ok := errcode.As(err)
		if !ok || e.Code != errcode.BadUserInput || e.Field != "password" || e.Message == "" {
			t.Errorf("%s: %q gave %v; want BAD_USER_INPUT on password", tc.name, tc.password, err)
		}
	}
}

func TestCommonPasswordList(t *testing.T) {
	if n := len(commonPasswords()); n < 2000 {
		t.Errorf("%d common passwords; want at least 2000", n)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := verifyPassword(b.Context(), hash, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// The setting replaces the default number of hashes at once; 0 keeps it. Not
// parallel: the bound is the process's.
func TestSetHashConcurrency(t *testing.T) {
	before := hashing
	t.Cleanup(func() { hashing = before })
	SetHashConcurrency(0)
	if cap(hashing) != cap(before) {
		t.Fatalf("0 changed the bound to %d, want the default %d", cap(hashing), cap(before))
	}
	SetHashConcurrency(3)
	if cap(hashing) != 3 {
		t.Errorf("%d hashes may run at once, want 3", cap(hashing))
	}
}
