// Package auth provides Staffroom's identity: passwords, access tokens, refresh
// sessions, lockout and the HTTP middleware that turns a bearer token into the viewer.
package auth
