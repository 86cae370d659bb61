package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
)

// DevSigningKeyFile is the name of the signing key generated in the data
// directory when no signing key file is configured.
const DevSigningKeyFile = "signing-key.pem"

// KeySet holds the Ed25519 key that signs access tokens and the public keys,
// by key id, whose tokens are accepted: the signing key's own and those of keys
// being rotated out. A KeySet does not change once built.
type KeySet struct {
	kid     string
	signing ed25519.PrivateKey
	verify  map[string]ed25519.PublicKey
	jwks    []byte
}

// NewKeySet returns a key set that signs with signing and also accepts tokens
// signed by the private keys of verify.
func NewKeySet(signing ed25519.PrivateKey, verify ...ed25519.PublicKey) *KeySet {
	pub := signing.Public().(ed25519.PublicKey)
	ks := &KeySet{
		kid:     KeyID(pub),
		signing: signing,
		verify:  map[string]ed25519.PublicKey{KeyID(pub): pub},
	}
	for _, k := range verify {
		ks.verify[KeyID(k)] = k
	}
	ks.jwks = ks.encodeJWKS()
	return ks
}

// LoadKeySet reads the signing key from signingKeyFile, a PEM PKCS #8 Ed25519
// private key, and the still accepted public keys from verifyKeyFiles, PEM PKIX
// Ed25519 public keys. Without a signing key file, as in development, it uses
// the key in dataDir, generating it on first start.
func LoadKeySet(signingKeyFile string, verifyKeyFiles []string, dataDir string) (*KeySet, error) {
	if signingKeyFile == "" {
		if dataDir == "" {
			return nil, errors.New("auth: no signing key file and no data directory to keep a generated one")
		}
		signingKeyFile = filepath.Join(dataDir, DevSigningKeyFile)
		if err := generateSigningKey(signingKeyFile); err != nil {
			return nil, err
		}
	}
	signing, err := readPrivateKey(signingKeyFile)
	if err != nil {
		return nil, err
	}
	var verify []ed25519.PublicKey
	for _, f := range verifyKeyFiles {
		if f == "" {
			continue
		}
		k, err := readPublicKey(f)
		if err != nil {
			return nil, err
		}
		verify = append(verify, k)
	}
	return NewKeySet(signing, verify...), nil
}

// KeyID returns the RFC 7638 JWK thumbprint of an Ed25519 public key,
// base64url without padding: a key id that anyone holding the key can compute.
func KeyID(pub ed25519.PublicKey) string {
	// The thumbprint hashes the required members in lexicographic order, no spaces.
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SigningKey returns the key that signs new tokens and its key id.
func (ks *KeySet) SigningKey() (kid string, key ed25519.PrivateKey) {
	return ks.kid, ks.signing
}

// PublicKey returns the accepted public key with key id kid.
func (ks *KeySet) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := ks.verify[kid]
	return k, ok
}

// JWKS returns the accepted public keys as a JSON Web Key Set.
func (ks *KeySet) JWKS() []byte {
	return bytes.Clone(ks.jwks)
}

// JWKSHandler serves JWKS. Caches may keep it five minutes, so a new key must
// be added to the verify keys that long before it starts signing.
func (ks *KeySet) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(ks.jwks)
	})
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// encodeJWKS lists the signing key first, then the others by key id, so that
// the document is the same on every replica.
func (ks *KeySet) encodeJWKS() []byte {
	others := slices.DeleteFunc(slices.Sorted(maps.Keys(ks.verify)), func(kid string) bool { return kid == ks.kid })
	keys := make([]jwk, 0, len(ks.verify))
	for _, kid := range append([]string{ks.kid}, others...) {
		x := base64.RawURLEncoding.EncodeToString(ks.verify[kid])
		keys = append(keys, jwk{Kty: "OKP", Crv: "Ed25519", X: x, Kid: kid, Alg: "EdDSA", Use: "sig"})
	}
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
	if err != nil {
		panic(fmt.Sprintf("auth: encode JWKS: %v", err))
	}
	return b
}

// generateSigningKey writes a new private key to path unless a file is there.
// O_EXCL keeps two processes starting together from overwriting each other's key.
func generateSigningKey(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("auth: signing key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: create signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Close()
		return fmt.Errorf("auth: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		f.Close()
		return fmt.Errorf("auth: encode signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("auth: write signing key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("auth: write signing key %s: %w", path, err)
	}
	return nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("auth: signing key %s: %w", path, err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: signing key %s is a %T, want an Ed25519 private key", path, key)
	}
	return ed, nil
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("auth: verify key %s: %w", path, err)
	}
	ed, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("auth: verify key %s is a %T, want an Ed25519 public key", path, key)
	}
	return ed, nil
}

func readPEM(path, blockType string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("auth: key %s is not PEM", path)
	}
	if block.Type != blockType {
		return nil, fmt.Errorf("auth: key %s is a PEM %q block, want %q", path, block.Type, blockType)
	}
	return block.Bytes, nil
}
