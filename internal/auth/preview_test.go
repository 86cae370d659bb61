package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"staffroom/internal/auth"
)

func TestPreviewTokenLastsAtMostFifteenMinutes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ks := auth.NewKeySet(newKey(t))
	tokens := &auth.Tokens{Keys: ks, Issuer: issuer, Audience: audience, TTL: time.Hour, Now: func() time.Time { return now }}
	p := auth.PreviewClaims{Role: "rol_01", GroupScope: "LINKED", Groups: []string{"grp_01"}, Membership: "mem_02"}
	token, exp, err := tokens.IssuePreview("usr_01", "org_01", "ses_01", p)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(auth.MaxPreviewTTL)) {
		t.Errorf("expiresAt = %v; want %v", exp, now.Add(auth.MaxPreviewTTL))
	}
	header, _ := decodeParts(t, token)
	if header["typ"] != auth.PreviewTokenType {
		t.Errorf("typ = %v; want %s", header["typ"], auth.PreviewTokenType)
	}
	c, err := tokens.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Preview == nil || c.Preview.Role != "rol_01" || c.Preview.Membership != "mem_02" || len(c.Preview.Groups) != 1 {
		t.Errorf("preview claims = %+v", c.Preview)
	}

	short := newTokens(ks, func() time.Time { return now })
	short.TTL = 5 * time.Minute
	if _, exp, _ := short.IssuePreview("usr_01", "org_01", "ses_01", p); !exp.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("with 5-minute access tokens a preview expires at %v; want %v", exp, now.Add(5*time.Minute))
	}
}

// A preview token and an access token never pass for one another: the typ
// header and the preview claims must agree.
func TestPreviewTokenTypeAndClaimsAgree(t *testing.T) {
	ks := auth.NewKeySet(newKey(t))
	tokens := newTokens(ks, nil)
	forge := func(typ string, org string, preview *auth.PreviewClaims) string {
		now := time.Now()
		claims := auth.Claims{
			RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "usr_01", Audience: jwt.ClaimStrings{audience},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))},
			Org: org, SID: "ses_01", Preview: preview,
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		kid, key := ks.SigningKey()
		tok.Header["kid"], tok.Header["typ"] = kid, typ
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p := &auth.PreviewClaims{Role: "rol_01", GroupScope: "ALL", Membership: "mem_02"}
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"preview token", forge(auth.PreviewTokenType, "org_01", p), true},
		{"access token", forge(auth.AccessTokenType, "org_01", nil), true},
		{"access token with preview claims", forge(auth.AccessTokenType, "org_01", p), false},
		{"preview token without preview claims", forge(auth.PreviewTokenType, "org_01", nil), false},
		{"preview token without organization", forge(auth.PreviewTokenType, "", p), false},
		{"preview token without role", forge(auth.PreviewTokenType, "org_01", &auth.PreviewClaims{Membership: "mem_02"}), false},
	} {
		_, err := tokens.Verify(tc.token)
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v; want ErrInvalidToken", tc.name, err)
		}
	}
}
