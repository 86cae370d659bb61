package auth

import (
	"context"

	"staffroom/internal/access"
	"staffroom/internal/errcode"
)

// APIKeyPrefix starts every organization API key, so that a key tells itself
// apart from an access token here, and secret scanners recognise a leaked one.
const APIKeyPrefix = "sr_live_"

// APIKeyVerifier returns the viewer of a presented API key, or
// UNAUTHENTICATED for a key that is unknown, expired or revoked.
type APIKeyVerifier func(ctx context.Context, key string) (*access.Viewer, error)

// VerifyAPIKeysWith makes the middleware accept API keys checked by f; without
// it every token with APIKeyPrefix is refused.
func (s *Service) VerifyAPIKeysWith(f APIKeyVerifier) { s.apiKeys = f }

var errInvalidAPIKey = errcode.New(errcode.Unauthenticated, "the API key is invalid, expired or revoked")

func (s *Service) verifyAPIKey(ctx context.Context, key string) (*access.Viewer, error) {
	if s.apiKeys == nil {
		return nil, errInvalidAPIKey
	}
	return s.apiKeys(ctx, key)
}
