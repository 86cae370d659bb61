package store

import (
	"fmt"
	"net/url"
)

// WithDatabase returns a PostgreSQL URL that names another database on the same server.
func WithDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("store: parse database URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
