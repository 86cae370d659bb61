package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"staffroom/internal/errcode"
)

// Argon2id parameters of new hashes: the OWASP minimum of 19 MiB and 2 passes,
// which costs about 19 ms of one core per log-in. Old hashes keep the parameters
// stored in them, so these can be raised without a migration.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters a stored hash may ask for, so that a corrupt or
// planted hash cannot make one log-in take gigabytes or minutes.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 16
	minArgonSalt   = 8
	minArgonKey    = 16
	maxArgonKey    = 64
)

// Password length limits, in characters. The upper one only bounds hashing work.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// hashing admits Argon2id computations on half the cores (GOMAXPROCS), at
// least one. Each holds its 19 MiB for its whole run, so without a bound 64
// concurrent log-ins take 1.2 GiB and finish no sooner than if they had
// queued. Half, not all: a hash in flight when the collector marks is live
// heap, and the heap grows to twice the live heap before the next collection.
// On 2 cores, 64 concurrent log-ins peaked at 172-177 MB resident with two at
// once and at 112-117 MB with one, which answers about 53 log-ins a second
// instead of 84-89 (docs/operations.md); the other core stays free for the
// rest of the server. The waiting is fair: blocked senders on a channel are
// served in order.
var hashing = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// SetHashConcurrency lets n hashes run at once instead of half the cores; n <=
// 0 keeps the default. The bound is the process's, as its memory is: call it
// at start-up, before the first request.
func SetHashConcurrency(n int) {
	if n > 0 && n != cap(hashing) {
		hashing = make(chan struct{}, n)
	}
}

// hashWaiting counts the callers waiting for a turn to hash; tests wait on it
// to know a check is queued.
var hashWaiting atomic.Int64

// argon2id computes an Argon2id key within the bound on concurrent hashing. A
// caller whose context ends before its turn leaves the queue with the
// context's error: its client has gone or its time is up, and a hash for
// nobody would only delay the log-ins queued behind it.
func argon2id(ctx context.Context, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	// Checked first: select picks at random when a slot is free too.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hashWaiting.Add(1)
	select {
	case hashing <- struct{}{}:
		hashWaiting.Add(-1)
	case <-ctx.Done():
		hashWaiting.Add(-1)
		return nil, ctx.Err()
	}
	defer func() { <-hashing }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
}

// ErrMalformedHash is returned by verifyPassword for a stored hash it cannot read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// HashPassword returns the Argon2id hash of password as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	// Only password checks leave the queue early; a new password waits its turn.
	key, err := argon2id(context.Background(), []byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return encodePHC(phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt, key: key}), nil
}

// verifyPassword reports whether password matches the PHC string encoded,
// hashing with the parameters stored in it. A malformed hash is an error
// (ErrMalformedHash), and so is ctx ending while the check waits for its turn
// (ctx's error: no password was checked). It stays unexported: the one caller
// is Service.CheckPassword, which also honours the lock, counts failures and
// limits each address.
func verifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	h, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	key, err := argon2id(ctx, []byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// dummyHash is hashed on first use rather than at start-up, so that commands
// which never log anyone in do not pay for it.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("staffroom dummy password")
	if err != nil {
		panic(err)
	}
	return h
})

// verifyDummyPassword does the work of verifyPassword against a hash that
// matches nothing, so that a log-in with an unknown email takes as long as one
// with a wrong password and does not reveal which addresses have accounts. It
// returns ctx's error when ctx ended before the hash's turn.
func verifyDummyPassword(ctx context.Context, password string) error {
	_, err := verifyPassword(ctx, dummyHash(), password)
	return err
}

// CheckPasswordPolicy returns a BAD_USER_INPUT error on field (the argument
// the client named it by) when password is too short, too long or among the
// most common passwords. There are no composition rules: they push people to
// predictable patterns.
func CheckPasswordPolicy(field, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return errcode.Input(field, "the password must be at least %d characters long", MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return errcode.Input(field, "the password must be at most %d characters long", MaxPasswordLength)
	}
	if _, common := commonPasswords()[normalizePassword(password)]; common {
		return errcode.Input(field, "this password is one of the most common and easily guessed; choose another")
	}
	return nil
}

// commonPasswordList is the 10,000 most frequent passwords of the zxcvbn 4.4.2
// npm package (MIT), less those under 8 characters, one a line;
// COMMON-PASSWORDS.md records its source and how to rebuild it.
//
//go:embed common-passwords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonPasswordList, "\n")+1)
	for line := range strings.Lines(commonPasswordList) {
		if p := normalizePassword(line); p != "" {
			set[p] = struct{}{}
		}
	}
	return set
})

func normalizePassword(p string) string {
	return strings.ToLower(strings.TrimSpace(p))
}

// phc is a decoded Argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var b64 = base64.RawStdEncoding

func encodePHC(h phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

func decodePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	var h phc
	// Sscanf accepts leading signs and spaces: re-encoding and comparing keeps
	// the parameter segment to the one canonical form.
	_, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads)
	if err != nil || parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, h.threads) {
		return phc{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	if h.memory < 8*uint32(h.threads) || h.memory > maxArgonMemory || h.time < 1 || h.time > maxArgonTime || h.threads < 1 {
		return phc{}, fmt.Errorf("%w: parameters out of range %q", ErrMalformedHash, parts[3])
	}
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < minArgonSalt {
		return phc{}, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < minArgonKey || len(h.key) > maxArgonKey {
		return phc{}, fmt.Errorf("%w: hash", ErrMalformedHash)
	}
	return h, nil
}
