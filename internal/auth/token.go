package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"staffroom/ent/schema/pulid"
)

// MaxTokenBytes is the longest access token Verify reads; ours are under 1 KiB.
const MaxTokenBytes = 8 << 10

// AccessTokenType is the typ header of access tokens (RFC 9068). Checking it
// keeps any other JWT signed by the same key from passing as an access token.
const AccessTokenType = "at+jwt"

// PreviewTokenType is the typ header of role preview tokens (IssuePreview):
// an access token and a preview token never pass for one another.
const PreviewTokenType = "preview+at+jwt"

// MaxPreviewTTL bounds a role preview's token; it has no refresh token.
const MaxPreviewTTL = 15 * time.Minute

// leeway absorbs clock skew between the replicas that issue and verify tokens.
const leeway = 30 * time.Second

// ErrInvalidToken wraps every reason Verify rejects a token; callers answer
// UNAUTHENTICATED without telling the client which reason it was.
var ErrInvalidToken = errors.New("auth: invalid access token")

var errTokenTooLong = fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenBytes)

// Claims are the claims of an access token: sub is the user, org the active
// organization and sid the refresh session the token was issued from.
type Claims struct {
	jwt.RegisteredClaims
	Org string `json:"org,omitempty"`
	SID string `json:"sid"`
	// Preview is set, and only set, in preview tokens.
	Preview *PreviewClaims `json:"pvw,omitempty"`
}

// PreviewClaims name what a role preview acts as: the role, the group scope,
// the groups it is linked to, and the membership id that it uses and that owns
// nothing.
type PreviewClaims struct {
	Role       string   `json:"role"`
	GroupScope string   `json:"scope"`
	Groups     []string `json:"groups,omitempty"`
	Membership string   `json:"mem"`
}

// UserID returns the user the token was issued to.
func (c *Claims) UserID() pulid.ID { return pulid.ID(c.Subject) }

// OrgID returns the active organization, empty when there is none.
func (c *Claims) OrgID() pulid.ID { return pulid.ID(c.Org) }

// SessionID returns the refresh session the token belongs to.
func (c *Claims) SessionID() pulid.ID { return pulid.ID(c.SID) }

// issuedClaims writes aud as a single string, which is what RFC 9068 shows and
// what most verifiers expect; golang-jwt would write a one-element array. Its
// depth-0 field wins over the embedded RegisteredClaims.Audience in JSON.
type issuedClaims struct {
	Claims
	Audience string `json:"aud"`
}

// Tokens issues and verifies access tokens: short-lived EdDSA JWTs.
type Tokens struct {
	Keys     *KeySet
	Issuer   string
	Audience string
	TTL      time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	verifiedOnce sync.Once
	verified     *lru.Cache[string, Claims]
}

// verifiedTokens bounds the cache of tokens whose signature has been checked:
// an Ed25519 verification costs about 50 µs, a tenth of a small request's CPU,
// and a client sends the same token for its whole 15 minutes. 4,096 entries
// are a few megabytes.
const verifiedTokens = 4096

func (t *Tokens) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// Issue signs an access token for a user in an organization (empty for none)
// within a refresh session, and returns it with its expiry.
func (t *Tokens) Issue(userID, orgID, sessionID pulid.ID) (token string, expiresAt time.Time, err error) {
	return t.sign(AccessTokenType, userID, orgID, sessionID, nil, t.TTL)
}

// IssuePreview signs a role preview token for a user in an organization within
// their refresh session: the access token's lifetime, at most MaxPreviewTTL.
func (t *Tokens) IssuePreview(userID, orgID, sessionID pulid.ID, p PreviewClaims) (token string, expiresAt time.Time, err error) {
	return t.sign(PreviewTokenType, userID, orgID, sessionID, &p, min(t.TTL, MaxPreviewTTL))
}

func (t *Tokens) sign(typ string, userID, orgID, sessionID pulid.ID, preview *PreviewClaims, ttl time.Duration) (token string, expiresAt time.Time, err error) {
	now := t.now()
	expiresAt = now.Add(ttl)
	kid, key := t.Keys.SigningKey()
	claims := issuedClaims{
		Claims: Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer:    t.Issuer,
				Subject:   string(userID),
				IssuedAt:  jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(expiresAt),
				ID:        newTokenID(),
			},
			Org:     string(orgID),
			SID:     string(sessionID),
			Preview: preview,
		},
		Audience: t.Audience,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = kid
	tok.Header["typ"] = typ
	token, err = tok.SignedString(key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return token, expiresAt, nil
}

// Verify checks an access token's size, algorithm, key, type, signature,
// issuer, audience and times, and returns its claims. Every rejection wraps
// ErrInvalidToken.
//
// A token seen before is not parsed again: the same bytes verified the same way,
// only its expiry needs checking anew. Revocation is not the token's business
// (the viewer's session is loaded on every request).
func (t *Tokens) Verify(token string) (*Claims, error) {
	if len(token) > MaxTokenBytes {
		return nil, errTokenTooLong
	}
	t.verifiedOnce.Do(func() { t.verified, _ = lru.New[string, Claims](verifiedTokens) })
	if claims, ok := t.verified.Get(token); ok {
		if t.now().After(claims.ExpiresAt.Add(leeway)) {
			t.verified.Remove(token)
			return nil, fmt.Errorf("%w: %w", ErrInvalidToken, jwt.ErrTokenExpired)
		}
		return &claims, nil
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(t.Issuer),
		jwt.WithAudience(t.Audience),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
	)
	var claims Claims
	tok, err := p.ParseWithClaims(token, &claims, t.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if claims.Subject == "" || claims.SID == "" {
		return nil, fmt.Errorf("%w: missing sub or sid", ErrInvalidToken)
	}
	// The type decides what the token is: preview claims in an access token,
	// or a preview token without them, are someone's forgery or our bug.
	if preview := tok.Header["typ"] == PreviewTokenType; preview != (claims.Preview != nil) ||
		(preview && (claims.Org == "" || claims.Preview.Role == "" || claims.Preview.Membership == "")) {
		return nil, fmt.Errorf("%w: claims do not match typ %v", ErrInvalidToken, tok.Header["typ"])
	}
	t.verified.Add(token, claims)
	return &claims, nil
}

// key returns the verification key named by the token's kid. Keys come only
// from our own key set: jku, x5u and jwk headers would let the token choose
// the key that verifies it.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	// golang-jwt never looks at typ.
	if typ, _ := tok.Header["typ"].(string); typ != AccessTokenType && typ != PreviewTokenType {
		return nil, fmt.Errorf("typ %v, want %s or %s", tok.Header["typ"], AccessTokenType, PreviewTokenType)
	}
	kid, _ := tok.Header["kid"].(string)
	k, ok := t.Keys.PublicKey(kid)
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return k, nil
}

// newTokenID returns 128 random bits, base64url: a jti that never repeats.
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
