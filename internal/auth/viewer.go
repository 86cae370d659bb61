package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	lru "github.com/hashicorp/golang-lru/v2"

	"staffroom/ent/membership"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/session"
	"staffroom/ent/user"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/web"
)

var errSessionEnded = errcode.New(errcode.Unauthenticated, "the session has ended; log in again")

// LoadViewer reads, in one query, the user, their session and their membership in
// org with its role, and returns the viewer. A membership that is missing,
// disabled, removed or waiting for review leaves the viewer without an active organization; a
// revoked session or a deleted user is UNAUTHENTICATED.
func (s *Service) LoadViewer(ctx context.Context, userID, org, sessionID pulid.ID) (*access.Viewer, error) {
	sys := access.SystemContext(ctx, "load viewer")
	rows, err := s.client.QueryContext(sys, viewerQuery(s.settings.Dialect), string(org), string(userID), string(sessionID))
	if err != nil {
		return nil, fmt.Errorf("auth: load viewer: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("auth: load viewer: %w", err)
		}
		return nil, errSessionEnded
	}
	var (
		revokedAt, removedAt, verifiedAt, disabledUntil sql.NullTime
		unverifiedJoin, temporary                       sql.NullBool
		memID, status, grants, revokes, scope           sql.NullString
		grantExpiries                                   sql.NullString
		roleID, roleKey, rolePermissions, roleManages   sql.NullString
		roleGroupScopes                                 sql.NullString
	)
	if err := rows.Scan(&revokedAt, &verifiedAt, &unverifiedJoin, &temporary, &memID, &status, &disabledUntil, &removedAt,
		&grants, &grantExpiries, &revokes, &scope,
		&roleID, &roleKey, &rolePermissions, &roleManages, &roleGroupScopes); err != nil {
		return nil, fmt.Errorf("auth: load viewer: %w", err)
	}
	if revokedAt.Valid {
		return nil, errSessionEnded
	}
	// A membership joined without proof of the address waits, once the address
	// is proved, for its owner's review.
	underReview := verifiedAt.Valid && unverifiedJoin.Bool
	now := time.Now()
	// A disabled period counts only until it ends, whether or not the expiry
	// job has enabled the member yet.
	var until *time.Time
	if disabledUntil.Valid {
		until = &disabledUntil.Time
	}
	active := access.StatusAt(membership.Status(status.String), until, now) == membership.StatusACTIVE
	if !memID.Valid || !active || removedAt.Valid || !roleID.Valid || underReview {
		v := access.NewViewer(userID, sessionID, nil)
		v.PasswordChangeRequired = temporary.Bool
		return v, nil
	}
	// The membership's part of the viewer (its permissions, whom it manages, the
	// group scopes) depends only on the columns below and, through grants that
	// end, on the clock; deriving it took most of this function's time, so it is
	// remembered by their values (any change is a new key) until the next grant
	// ends.
	key := strings.Join([]string{string(org), memID.String, scope.String, grants.String, grantExpiries.String, revokes.String,
		roleID.String, roleKey.String, rolePermissions.String, roleManages.String, roleGroupScopes.String}, "\x00")
	d, ok := derivedViewers().Get(key)
	if !ok || (!d.until.IsZero() && !now.Before(d.until)) {
		expiries := jsonTimes(grantExpiries)
		d = derived{viewer: access.NewViewer("", "", &access.Membership{
			OrgID:           org,
			MembershipID:    pulid.ID(memID.String),
			RoleID:          pulid.ID(roleID.String),
			RoleKey:         roleKey.String,
			GroupScope:      scope.String,
			RolePermissions: jsonStrings(rolePermissions),
			Grants:          access.LiveGrants(jsonStrings(grants), expiries, now),
			Revokes:         jsonStrings(revokes),
			Manages:         jsonStrings(roleManages),
			GroupScopes:     jsonMap(roleGroupScopes),
		})}
		for _, t := range expiries {
			if t.After(now) && (d.until.IsZero() || t.Before(d.until)) {
				d.until = t
			}
		}
		derivedViewers().Add(key, d)
	}
	v := d.viewer.For(userID, sessionID)
	v.PasswordChangeRequired = temporary.Bool
	return v, nil
}

// viewerQuery returns LoadViewer's statement for the dialect, built once: its
// arguments are the organization, the user and the session.
func viewerQuery(dialect string) string {
	if q, ok := viewerQueries.Load(dialect); ok {
		return q.(string)
	}
	b := entsql.Dialect(dialect)
	u, sess := entsql.Table(user.Table).As("u"), entsql.Table(session.Table).As("s")
	m, r := entsql.Table(membership.Table).As("m"), entsql.Table(role.Table).As("r")
	q, args := b.Select(
		sess.C(session.FieldRevokedAt), u.C(user.FieldEmailVerifiedAt), m.C(membership.FieldUnverifiedJoin), u.C(user.FieldPasswordTemporary),
		m.C(membership.FieldID), m.C(membership.FieldStatus), m.C(membership.FieldDisabledUntil), m.C(membership.FieldRemovedAt),
		m.C(membership.FieldGrants), m.C(membership.FieldGrantExpiries), m.C(membership.FieldRevokes), m.C(membership.FieldGroupScope),
		r.C(role.FieldID), r.C(role.FieldKey), r.C(role.FieldPermissions), r.C(role.FieldManages), r.C(role.FieldGroupScopes),
	).From(u).
		Join(sess).On(sess.C(session.FieldUserID), u.C(user.FieldID)).
		LeftJoin(m).OnP(entsql.And(
		entsql.ColumnsEQ(m.C(membership.FieldUserID), u.C(user.FieldID)),
		entsql.EQ(m.C(membership.FieldOrganizationID), "org"),
	)).
		LeftJoin(r).On(r.C(role.FieldID), m.C(membership.FieldRoleID)).
		Where(entsql.And(entsql.EQ(u.C(user.FieldID), "user"), entsql.EQ(sess.C(session.FieldID), "session"))).
		Query()
	if !slices.Equal(args, []any{"org", "user", "session"}) {
		panic(fmt.Sprintf("auth: the viewer statement takes its arguments in another order: %v", args))
	}
	viewerQueries.Store(dialect, q)
	return q
}

var viewerQueries sync.Map // dialect → statement

// derived is the membership's part of a viewer, valid until until (zero: as
// long as the columns it comes from do not change).
type derived struct {
	viewer *access.Viewer
	until  time.Time
}

// derivedViewers holds the membership parts of recent viewers: 1,024 entries
// of a few kilobytes each.
var derivedViewers = sync.OnceValue(func() *lru.Cache[string, derived] {
	c, _ := lru.New[string, derived](1024)
	return c
})

func jsonStrings(s sql.NullString) []string {
	var out []string
	if s.Valid {
		_ = json.Unmarshal([]byte(s.String), &out) // written by ent as a JSON array
	}
	return out
}

func jsonTimes(s sql.NullString) map[string]time.Time {
	var out map[string]time.Time
	if s.Valid {
		_ = json.Unmarshal([]byte(s.String), &out) // written by ent as a JSON object
	}
	return out
}

func jsonMap(s sql.NullString) map[string]string {
	out := map[string]string{}
	if s.Valid {
		_ = json.Unmarshal([]byte(s.String), &out) // written by ent as a JSON object
	}
	return out
}

// Middleware turns the bearer token of a request into its viewer. A request
// without a token is anonymous; a bad, expired or revoked token is refused with
// 401 and UNAUTHENTICATED before any resolver runs.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r.WithContext(access.NewContext(r.Context(), nil)))
			return
		}
		v, err := s.authenticate(r.Context(), header)
		if err != nil {
			e, ok := errcode.As(err)
			if !ok {
				s.log.ErrorContext(r.Context(), "authenticate", "err", err)
				web.WriteError(w, http.StatusInternalServerError, string(errcode.Internal), "internal error")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			web.WriteError(w, http.StatusUnauthorized, string(e.Code), e.Message)
			return
		}
		next.ServeHTTP(w, r.WithContext(access.NewContext(r.Context(), v)))
	})
}

func (s *Service) authenticate(ctx context.Context, header string) (*access.Viewer, error) {
	invalid := errcode.New(errcode.Unauthenticated, "the access token is invalid or expired")
	if len(header) > MaxTokenBytes+len("Bearer ") {
		return nil, invalid
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, invalid
	}
	if token = strings.TrimSpace(token); strings.HasPrefix(token, APIKeyPrefix) {
		return s.verifyAPIKey(ctx, token)
	}
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return nil, invalid
	}
	if claims.Preview != nil {
		return s.loadPreview(ctx, claims)
	}
	return s.LoadViewer(ctx, claims.UserID(), claims.OrgID(), claims.SessionID())
}
