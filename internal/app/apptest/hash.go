package apptest

import (
	"sync"

	"staffroom/internal/auth"
)

// Every fixture user has the same password: it is hashed once (argon2id is
// deliberately slow).
var fixtureHash = sync.OnceValues(func() (string, error) { return auth.HashPassword(Password) })
