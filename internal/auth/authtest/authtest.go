// Package authtest provides the forged and malformed access tokens that every
// layer which accepts a bearer token must reject.
package authtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"staffroom/internal/auth"
)

// NamedToken is a token with a name that says what is wrong with it.
type NamedToken struct{ Name, Token string }

// BadTokens returns tokens that the verifier of ks, issuer and audience must
// reject. Each has exactly one defect and is otherwise a valid token for
// userID in sessionID, so that accepting it points at one missing check.
func BadTokens(ks *auth.KeySet, issuer, audience string, userID, sessionID string) []NamedToken {
	kid, key := ks.SigningKey()
	_, attacker, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(fmt.Sprintf("authtest: generate key: %v", err))
	}
	attackerPub := attacker.Public().(ed25519.PublicKey)
	f := forger{kid: kid, key: key, now: time.Now(), claims: jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": userID, "sid": sessionID,
	}}
	eddsa := jwt.SigningMethodEdDSA
	return []NamedToken{
		{"alg none", f.sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil)},
		{"alg HS256 keyed with the public key", f.sign(jwt.SigningMethodHS256, []byte(key.Public().(ed25519.PublicKey)), nil, nil)},
		{"unknown kid", f.sign(eddsa, attacker, header{"kid": auth.KeyID(attackerPub)}, nil)},
		{"no kid", f.sign(eddsa, key, header{"kid": nil}, nil)},
		{"jwk header carrying the attacker's key", f.sign(eddsa, attacker, header{"jwk": map[string]string{
			"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub),
		}}, nil)},
		{"claims changed after signing", f.tampered()},
		{"no exp", f.sign(eddsa, key, nil, claims{"exp": nil})},
		{"expired an hour ago", f.sign(eddsa, key, nil, claims{"iat": f.at(-2 * time.Hour), "exp": f.at(-time.Hour)})},
		{"nbf an hour ahead", f.sign(eddsa, key, nil, claims{"nbf": f.at(time.Hour)})},
		{"iat an hour ahead", f.sign(eddsa, key, nil, claims{"iat": f.at(time.Hour), "exp": f.at(2 * time.Hour)})},
		{"wrong iss", f.sign(eddsa, key, nil, claims{"iss": "https://attacker.example"})},
		{"wrong aud", f.sign(eddsa, key, nil, claims{"aud": "another-api"})},
		{"no sub", f.sign(eddsa, key, nil, claims{"sub": nil})},
		{"no sid", f.sign(eddsa, key, nil, claims{"sid": nil})},
		{"typ JWT", f.sign(eddsa, key, header{"typ": "JWT"}, nil)},
		{"no typ", f.sign(eddsa, key, header{"typ": nil}, nil)},
		{"refresh token", opaque()},
		{"password reset token", opaque()},
		{"100,000 dots", strings.Repeat(".", 100_000)},
	}
}

// header and claims are changes to a valid token; a nil value removes the entry.
type (
	header map[string]any
	claims map[string]any
)

type forger struct {
	kid    string
	key    ed25519.PrivateKey
	now    time.Time
	claims jwt.MapClaims
}

func (f forger) at(d time.Duration) int64 { return f.now.Add(d).Unix() }

// sign returns a token whose header and claims are those of a valid access
// token with h and c applied, signed by method with key.
func (f forger) sign(method jwt.SigningMethod, key any, h header, c claims) string {
	mc := jwt.MapClaims{"iat": f.at(0), "exp": f.at(5 * time.Minute), "jti": opaque()}
	for k, v := range f.claims {
		mc[k] = v
	}
	apply(mc, c)
	tok := jwt.NewWithClaims(method, mc)
	tok.Header["kid"] = f.kid
	tok.Header["typ"] = auth.AccessTokenType
	apply(tok.Header, h)
	s, err := tok.SignedString(key)
	if err != nil {
		panic(fmt.Sprintf("authtest: sign %s token: %v", method.Alg(), err))
	}
	return s
}

// tampered returns a validly signed token whose payload is swapped for one
// naming another user.
func (f forger) tampered() string {
	good := strings.Split(f.sign(jwt.SigningMethodEdDSA, f.key, nil, nil), ".")
	other := strings.Split(f.sign(jwt.SigningMethodEdDSA, f.key, nil, claims{"sub": "usr_someone_else"}), ".")
	return good[0] + "." + other[1] + "." + good[2]
}

func apply(dst map[string]any, changes map[string]any) {
	for k, v := range changes {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = v
	}
}

// opaque returns a string shaped like the refresh and reset tokens: 32 random
// bytes, base64url.
func opaque() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
