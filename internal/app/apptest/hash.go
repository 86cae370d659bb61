package apptest

import (
	"sync"

	"staffroom/internal/auth"
)

// Every fixture user has the same password: hash it once.
var (
	hashOnce sync.Once
	hashed   string
	hashErr  error
)

func authHash(password string) (string, error) {
	hashOnce.Do(func() { hashed, hashErr = auth.HashPassword(password) })
	return hashed, hashErr
}
