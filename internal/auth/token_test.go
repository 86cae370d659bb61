package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"staffroom/internal/auth"
	"staffroom/internal/auth/authtest"
)

const (
	issuer   = "staffroom"
	audience = "staffroom-api"
	ttl      = 15 * time.Minute
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newTokens(ks *auth.KeySet, now func() time.Time) *auth.Tokens {
	return &auth.Tokens{Keys: ks, Issuer: issuer, Audience: audience, TTL: ttl, Now: now}
}

func TestBadTokensAreRejected(t *testing.T) {
	ks := auth.NewKeySet(newKey(t))
	tokens := newTokens(ks, nil)
	bad := authtest.BadTokens(ks, issuer, audience, "usr_01", "ses_01")
	if len(bad) < 14 {
		t.Fatalf("only %d bad tokens", len(bad))
	}
	for _, tok := range bad {
		claims, err := tokens.Verify(tok.Token)
		if !errors.Is(err, auth.ErrInvalidToken) || claims != nil {
			t.Errorf("%s: Verify = %v, %v; want ErrInvalidToken", tok.Name, claims, err)
		}
	}
}

// Each bad token has one defect: a verifier that allows it accepts the token.
func TestBadTokensHaveOneDefect(t *testing.T) {
	ks := auth.NewKeySet(newKey(t))
	bad := map[string]string{}
	for _, tok := range authtest.BadTokens(ks, issuer, audience, "usr_01", "ses_01") {
		bad[tok.Name] = tok.Token
	}
	for _, tc := range []struct {
		name    string
		allowed *auth.Tokens
	}{
		{"wrong iss", &auth.Tokens{Keys: ks, Issuer: "https://attacker.example", Audience: audience}},
		{"wrong aud", &auth.Tokens{Keys: ks, Issuer: issuer, Audience: "another-api"}},
		{"expired an hour ago", &auth.Tokens{Keys: ks, Issuer: issuer, Audience: audience,
			Now: func() time.Time { return time.Now().Add(-90 * time.Minute) }}},
	} {
		token, ok := bad[tc.name]
		if !ok {
			t.Fatalf("no bad token named %q", tc.name)
		}
		if _, err := tc.allowed.Verify(token); err != nil {
			t.Errorf("%s: a verifier that allows the defect refuses the token: %v", tc.name, err)
		}
	}
}

// An oversized token is refused before any parsing, so a flood of them costs nothing.
func TestOversizedTokenIsRefusedBeforeParsing(t *testing.T) {
	tokens := newTokens(auth.NewKeySet(newKey(t)), nil)
	dots := strings.Repeat(".", 100_000)
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := tokens.Verify(dots); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify = %v; want ErrInvalidToken", err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations to refuse an oversized token; want 0", allocs)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ks := auth.NewKeySet(newKey(t))
	tokens := newTokens(ks, func() time.Time { return now })

	token, exp, err := tokens.Issue("usr_01", "org_01", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(ttl)) {
		t.Errorf("expiresAt = %v; want %v", exp, now.Add(ttl))
	}
	c, err := tokens.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID() != "usr_01" || c.OrgID() != "org_01" || c.SessionID() != "ses_01" {
		t.Errorf("ids = %s %s %s", c.UserID(), c.OrgID(), c.SessionID())
	}
	if c.Issuer != issuer || len(c.Audience) != 1 || c.Audience[0] != audience {
		t.Errorf("iss %q aud %q", c.Issuer, c.Audience)
	}
	if !c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("iat %v exp %v", c.IssuedAt, c.ExpiresAt)
	}
	if id, err := base64.RawURLEncoding.DecodeString(c.ID); err != nil || len(id) != 16 {
		t.Errorf("jti %q is not 128 bits base64url", c.ID)
	}

	header, payload := decodeParts(t, token)
	kid, _ := ks.SigningKey()
	if header["alg"] != "EdDSA" || header["typ"] != "at+jwt" || header["kid"] != kid {
		t.Errorf("header = %v", header)
	}
	if payload["aud"] != audience {
		t.Errorf("aud = %#v; want the single string %q", payload["aud"], audience)
	}
}

func TestTokenWithoutOrganizationOmitsOrg(t *testing.T) {
	tokens := newTokens(auth.NewKeySet(newKey(t)), nil)
	token, _, err := tokens.Issue("usr_01", "", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	if _, payload := decodeParts(t, token); payload["org"] != nil {
		t.Errorf("org = %v; want it left out", payload["org"])
	}
	c, err := tokens.Verify(token)
	if err != nil || c.OrgID() != "" {
		t.Errorf("Verify = %v, %v; want no organization", c, err)
	}
}

var clockTests = []struct {
	name   string
	offset time.Duration // from issue to verify
	ok     bool
}{
	{"just issued", 0, true},
	{"issued 29s ahead of the verifier's clock", -29 * time.Second, true},
	{"issued 31s ahead of the verifier's clock", -31 * time.Second, false},
	{"about to expire", ttl - time.Second, true},
	{"expired within the leeway", ttl + 29*time.Second, true},
	{"expired past the leeway", ttl + 31*time.Second, false},
}

func TestVerifyClock(t *testing.T) {
	issued := time.Now()
	ks := auth.NewKeySet(newKey(t))
	token, _, err := newTokens(ks, func() time.Time { return issued }).Issue("usr_01", "org_01", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range clockTests {
		_, err := newTokens(ks, func() time.Time { return issued.Add(tc.offset) }).Verify(token)
		if tc.ok != (err == nil) {
			t.Errorf("%s: Verify = %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: %v does not wrap ErrInvalidToken", tc.name, err)
		}
	}
}

// A token verified once is remembered, but only as those exact bytes and only
// until it expires.
func TestVerifiedTokenIsRememberedUntilItExpires(t *testing.T) {
	issued := time.Now()
	now := issued
	tokens := newTokens(auth.NewKeySet(newKey(t)), func() time.Time { return now })
	token, _, err := tokens.Issue("usr_01", "org_01", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	first, err := tokens.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tokens.Verify(token)
	if err != nil || again.Subject != first.Subject || again.SID != first.SID || again.Org != first.Org {
		t.Fatalf("second Verify = %+v, %v; want the claims of the first, %+v", again, err, first)
	}
	// The same header and payload with another signature is another token.
	sig := token[strings.LastIndexByte(token, '.')+1:]
	flipped := "A"
	if sig[0] == 'A' {
		flipped = "B"
	}
	if _, err := tokens.Verify(token[:len(token)-len(sig)] + flipped + sig[1:]); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a remembered token with a forged signature: Verify = %v; want ErrInvalidToken", err)
	}
	now = issued.Add(ttl + 31*time.Second)
	if _, err := tokens.Verify(token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a remembered token past its expiry: Verify = %v; want ErrInvalidToken", err)
	}
}

func TestRotatedKeyStillVerifies(t *testing.T) {
	old, current := newKey(t), newKey(t)
	token, _, err := newTokens(auth.NewKeySet(old), nil).Issue("usr_01", "org_01", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	rotated := newTokens(auth.NewKeySet(current, old.Public().(ed25519.PublicKey)), nil)
	if _, err := rotated.Verify(token); err != nil {
		t.Errorf("token of the rotated-out key refused: %v", err)
	}
	retired := newTokens(auth.NewKeySet(current), nil)
	if _, err := retired.Verify(token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token of a retired key: Verify = %v; want ErrInvalidToken", err)
	}
}

func TestJWKS(t *testing.T) {
	old, current := newKey(t), newKey(t)
	ks := auth.NewKeySet(current, old.Public().(ed25519.PublicKey))
	token, _, err := newTokens(ks, nil).Issue("usr_01", "org_01", "ses_01")
	if err != nil {
		t.Fatal(err)
	}
	header, _ := decodeParts(t, token)

	rec := httptest.NewRecorder()
	ks.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", cc)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("%d keys; want the signing key and the rotated one", len(set.Keys))
	}
	for i, pub := range []ed25519.PublicKey{current.Public().(ed25519.PublicKey), old.Public().(ed25519.PublicKey)} {
		want := map[string]string{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
			"x": base64.RawURLEncoding.EncodeToString(pub), "kid": auth.KeyID(pub),
		}
		if !maps.Equal(set.Keys[i], want) {
			t.Errorf("key %d = %v; want %v", i, set.Keys[i], want)
		}
	}
	if set.Keys[0]["kid"] != header["kid"] {
		t.Errorf("signing key kid %q, token kid %v", set.Keys[0]["kid"], header["kid"])
	}
	if string(ks.JWKS()) != rec.Body.String() {
		t.Error("JWKS() and the handler disagree")
	}
}

// The example of RFC 8037, appendix A.3.
func TestKeyIDIsTheJWKThumbprint(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := auth.KeyID(x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("KeyID = %q; want %q", got, want)
	}
}

func TestLoadKeySetGeneratesADevelopmentKeyOnce(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	first, err := auth.LoadKeySet("", nil, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dataDir, auth.DevSigningKeyFile)
	assertMode(t, keyFile, 0o600)
	assertMode(t, dataDir, 0o700)

	again, err := auth.LoadKeySet("", nil, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	firstKID, firstKey := first.SigningKey()
	againKID, againKey := again.SigningKey()
	if firstKID != againKID || !firstKey.Equal(againKey) {
		t.Error("a second start generated a new key")
	}
	configured, err := auth.LoadKeySet(keyFile, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := configured.SigningKey(); kid != firstKID {
		t.Error("the same file as a configured signing key gives another key")
	}
}

func TestLoadKeySetVerifyKeys(t *testing.T) {
	dir := t.TempDir()
	old := newKey(t)
	verifyFile := writePEM(t, dir, "old.pem", "PUBLIC KEY", pkix(t, old.Public()))
	signingFile := writePEM(t, dir, "new.pem", "PRIVATE KEY", pkcs8(t, newKey(t)))

	ks, err := auth.LoadKeySet(signingFile, []string{verifyFile}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ks.PublicKey(auth.KeyID(old.Public().(ed25519.PublicKey))); !ok {
		t.Error("the verify key is not accepted")
	}
}

func TestLoadKeySetRefusesOtherKeys(t *testing.T) {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed := newKey(t)
	ecPrivate := writePEM(t, dir, "ec.pem", "PRIVATE KEY", pkcs8(t, ec))
	ecPublic := writePEM(t, dir, "ec.pub.pem", "PUBLIC KEY", pkix(t, ec.Public()))
	edPrivate := writePEM(t, dir, "ed.pem", "PRIVATE KEY", pkcs8(t, ed))
	edPublic := writePEM(t, dir, "ed.pub.pem", "PUBLIC KEY", pkix(t, ed.Public()))
	notPEM := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(notPEM, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		signing string
		verify  []string
		want    string
	}{
		{"ECDSA signing key", ecPrivate, nil, "want an Ed25519 private key"},
		{"ECDSA verify key", edPrivate, []string{ecPublic}, "want an Ed25519 public key"},
		{"public key as the signing key", edPublic, nil, `want "PRIVATE KEY"`},
		{"private key as a verify key", edPrivate, []string{edPrivate}, `want "PUBLIC KEY"`},
		{"not PEM", notPEM, nil, "not PEM"},
		{"missing file", filepath.Join(dir, "missing.pem"), nil, "no such file"},
	} {
		_, err := auth.LoadKeySet(tc.signing, tc.verify, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadKeySet = %v; want an error with %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkVerify measures a token's first verification (signature and all)
// and a later one (remembered).
func BenchmarkVerify(b *testing.B) {
	tokens := newTokens(auth.NewKeySet(newKey(b)), nil)
	// More distinct tokens than are remembered: cycling through them, each is
	// forgotten before it comes round again.
	fresh := make([]string, 5000)
	for i := range fresh {
		token, _, err := tokens.Issue("usr_01", "org_01", "ses_01")
		if err != nil {
			b.Fatal(err)
		}
		fresh[i] = token
	}
	b.Run("first", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := tokens.Verify(fresh[i%len(fresh)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("again", func(b *testing.B) {
		for b.Loop() {
			if _, err := tokens.Verify(fresh[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func decodeParts(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o; want %o", path, got, want)
	}
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pkix(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
