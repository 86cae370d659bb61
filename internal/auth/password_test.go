package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"staffroom/internal/errcode"
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
		got, err := verifyPassword(hash, tc.password)
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
	ok, err := verifyPassword(encodePHC(h), "legacy password")
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
		ok, err := verifyPassword(hash, "0123456789abcdef")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("verifyPassword(%q) = %v, %v; want ErrMalformedHash", hash, ok, err)
		}
	}
}

func TestVerifyDummyPassword(t *testing.T) {
	verifyDummyPassword("anything at all")
	if _, err := decodePHC(dummyHash()); err != nil {
		t.Fatalf("dummy hash: %v", err)
	}
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
		if _, err := verifyPassword(hash, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
