package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/lib/pq"

	"staffroom/internal/access"
)

// floor answers the read scenarios the way a hand-written server would: net/http,
// database/sql with lib/pq and prepared statements on a pool of the server's
// size, encoding/json — no GraphQL, no token, no authorization layer. Its answers
// carry the same data as the GraphQL ones (checked before the run), so the
// difference between the two is what Staffroom's layers cost.
type floor struct {
	db         *sql.DB
	statements atomic.Int64
	stmts      map[string]*sql.Stmt
}

// floorQueries are the statements of the floor, by name.
var floorQueries = map[string]string{
	// viewer: the user with the membership and role in the active organization,
	// then every active membership for the switcher.
	"viewer": `SELECT u.id, u.first_name, u.last_name, o.id, o.name, r.key, r.permissions, m.grants, m.revokes
		FROM users u
		JOIN memberships m ON m.user_id = u.id AND m.organization_id = $2 AND m.status = 'ACTIVE' AND m.removed_at IS NULL
		JOIN organizations o ON o.id = m.organization_id
		JOIN roles r ON r.id = m.role_id
		WHERE u.id = $1`,
	"switcher": `SELECT o.name, r.key
		FROM memberships m
		JOIN organizations o ON o.id = m.organization_id
		JOIN roles r ON r.id = m.role_id
		WHERE m.user_id = $1 AND m.status = 'ACTIVE' AND m.removed_at IS NULL
		ORDER BY m.last_used_at DESC NULLS LAST, m.joined_at DESC`,
	// members: a page of members with user and role, then their groups.
	"members": `SELECT m.id, m.username, u.first_name, u.last_name, r.key
		FROM memberships m
		JOIN users u ON u.id = m.user_id
		JOIN roles r ON r.id = m.role_id
		WHERE m.organization_id = $1 AND m.removed_at IS NULL
		ORDER BY m.id LIMIT 50`,
	// The viewer's role may see no group of some kinds ($2) and only the
	// groups they are linked to ($4) of others ($3).
	"memberGroups": `SELECT l.membership_id, g.name
		FROM membership_groups l
		JOIN groups g ON g.id = l.group_id
		WHERE l.membership_id = ANY($1) AND g.kind <> ALL($2)
			AND (g.kind <> ALL($3) OR g.id IN (SELECT group_id FROM membership_groups WHERE membership_id = $4))
		ORDER BY g.id`,
	// instructor: the groups linked to the member, the messages they may read
	// (written by them, sent to their groups, naming them), and the groups of those
	// messages that they see.
	"linkedGroups": `SELECT g.id, g.name
		FROM groups g
		WHERE g.organization_id = $1 AND g.id IN (SELECT group_id FROM membership_groups WHERE membership_id = $2)
		ORDER BY g.id LIMIT 50`,
	"messages": `SELECT m.id, m.subject
		FROM messages m
		WHERE m.organization_id = $1 AND (
			m.author_id = $2
			OR m.id IN (SELECT t.message_id FROM message_groups t JOIN membership_groups l ON l.group_id = t.group_id WHERE l.membership_id = $2)
			OR m.id IN (SELECT message_id FROM message_recipients WHERE membership_id = $2)
			OR m.id IN (SELECT message_id FROM message_cc WHERE membership_id = $2)
			OR m.id IN (SELECT message_id FROM message_bcc WHERE membership_id = $2))
		ORDER BY m.id LIMIT 50`,
	"messageGroups": `SELECT t.message_id, g.name
		FROM message_groups t
		JOIN groups g ON g.id = t.group_id
		JOIN membership_groups l ON l.group_id = t.group_id AND l.membership_id = $2
		WHERE t.message_id = ANY($1)
		ORDER BY g.id`,
	// node: one member with their role.
	"node": `SELECT m.id, m.username, r.key FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.id = $1`,
}

// newFloor opens the floor's pool: as many connections as the server may open,
// all of them kept, as a hand-written server would size it.
func newFloor(ctx context.Context, url string, maxOpen int) (*floor, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	f := &floor{db: db, stmts: map[string]*sql.Stmt{}}
	for name, q := range floorQueries {
		if f.stmts[name], err = db.PrepareContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("bench: prepare %s: %w", name, err)
		}
	}
	return f, nil
}

func (f *floor) Close() error { return f.db.Close() }

// Handler serves the floor: /floor/<scenario>?parameters.
func (f *floor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /floor/viewer", f.serve(f.viewer))
	mux.HandleFunc("GET /floor/members", f.serve(f.members))
	mux.HandleFunc("GET /floor/instructor", f.serve(f.instructor))
	mux.HandleFunc("GET /floor/node", f.serve(f.node))
	return mux
}

func (f *floor) serve(read func(ctx context.Context, q func(string) string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := read(r.Context(), r.URL.Query().Get)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}
}

func (f *floor) query(ctx context.Context, name string, args ...any) (*sql.Rows, error) {
	f.statements.Add(1)
	return f.stmts[name].QueryContext(ctx, args...)
}

// The shapes of the GraphQL answers, for the floor's JSON.
type (
	named struct {
		Name string `json:"name"`
	}
	keyed struct {
		Key string `json:"key"`
	}
	edge[T any] struct {
		Node T `json:"node"`
	}
	connection[T any] struct {
		Edges []edge[T] `json:"edges"`
	}
)

func fullName(first, last string) string { return strings.TrimSpace(first + " " + last) }

func (f *floor) viewer(ctx context.Context, q func(string) string) (any, error) {
	type membership struct {
		Organization named `json:"organization"`
		Role         keyed `json:"role"`
	}
	var (
		v struct {
			User struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"user"`
			Organization struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"organization"`
			Permissions []string     `json:"permissions"`
			Memberships []membership `json:"memberships"`
		}
		first, last, roleKey   string
		perms, grants, revokes jsonStrings
	)
	rows, err := f.query(ctx, "viewer", q("user"), q("org"))
	if err != nil {
		return nil, err
	}
	if err := scanOne(rows, &v.User.ID, &first, &last, &v.Organization.ID, &v.Organization.Name, &roleKey, &perms, &grants, &revokes); err != nil {
		return nil, err
	}
	v.User.Name = fullName(first, last)
	v.Permissions = access.Effective(roleKey, perms, grants, revokes)
	rows, err = f.query(ctx, "switcher", q("user"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v.Memberships = []membership{}
	for rows.Next() {
		var m membership
		if err := rows.Scan(&m.Organization.Name, &m.Role.Key); err != nil {
			return nil, err
		}
		v.Memberships = append(v.Memberships, m)
	}
	return map[string]any{"viewer": v}, rows.Err()
}

func (f *floor) members(ctx context.Context, q func(string) string) (any, error) {
	type node struct {
		ID       string  `json:"id"`
		Username string  `json:"username"`
		User     named   `json:"user"`
		Role     keyed   `json:"role"`
		Groups   []named `json:"groups"`
	}
	rows, err := f.query(ctx, "members", q("org"))
	if err != nil {
		return nil, err
	}
	var (
		page  connection[*node]
		ids   []string
		index = map[string]*node{}
	)
	for rows.Next() {
		n := &node{Groups: []named{}}
		var first, last string
		if err := rows.Scan(&n.ID, &n.Username, &first, &last, &n.Role.Key); err != nil {
			rows.Close()
			return nil, err
		}
		n.User.Name = fullName(first, last)
		page.Edges = append(page.Edges, edge[*node]{n})
		ids = append(ids, n.ID)
		index[n.ID] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	hidden, linked := strings.Split(q("hidden"), ","), strings.Split(q("linked"), ",")
	rows, err = f.query(ctx, "memberGroups", pq.Array(ids), pq.Array(hidden), pq.Array(linked), q("member"))
	if err != nil {
		return nil, err
	}
	err = eachGroup(rows, func(id, name string) { index[id].Groups = append(index[id].Groups, named{name}) })
	return map[string]any{"viewer": map[string]any{"organization": map[string]any{"members": page}}}, err
}

// eachGroup hands each (owner id, group name) row to add, and closes rows.
func eachGroup(rows *sql.Rows, add func(id, name string)) error {
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		add(id, name)
	}
	return rows.Err()
}

func (f *floor) instructor(ctx context.Context, q func(string) string) (any, error) {
	type group struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type msg struct {
		ID      string  `json:"id"`
		Subject string  `json:"subject"`
		Groups  []named `json:"groups"`
	}
	org, me := q("org"), q("member")
	var groups connection[group]
	rows, err := f.query(ctx, "linkedGroups", org, me)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var g group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			rows.Close()
			return nil, err
		}
		groups.Edges = append(groups.Edges, edge[group]{g})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var (
		messages connection[*msg]
		ids      []string
		index    = map[string]*msg{}
	)
	if rows, err = f.query(ctx, "messages", org, me); err != nil {
		return nil, err
	}
	for rows.Next() {
		m := &msg{Groups: []named{}}
		if err := rows.Scan(&m.ID, &m.Subject); err != nil {
			rows.Close()
			return nil, err
		}
		messages.Edges = append(messages.Edges, edge[*msg]{m})
		ids = append(ids, m.ID)
		index[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = f.query(ctx, "messageGroups", pq.Array(ids), me); err != nil {
		return nil, err
	}
	err = eachGroup(rows, func(id, name string) { index[id].Groups = append(index[id].Groups, named{name}) })
	scoped := map[string]any{"groups": groups, "messages": messages}
	return map[string]any{"viewer": map[string]any{"organization": scoped}}, err
}

func (f *floor) node(ctx context.Context, q func(string) string) (any, error) {
	var n struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     keyed  `json:"role"`
	}
	rows, err := f.query(ctx, "node", q("id"))
	if err != nil {
		return nil, err
	}
	if err := scanOne(rows, &n.ID, &n.Username, &n.Role.Key); err != nil {
		return nil, err
	}
	return map[string]any{"node": n}, nil
}

// scanOne scans the one row of rows and closes them.
func scanOne(rows *sql.Rows, dest ...any) error {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// jsonStrings scans a JSON array of strings (jsonb).
type jsonStrings []string

func (s *jsonStrings) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, s)
	case string:
		return json.Unmarshal([]byte(v), s)
	case nil:
		*s = nil
		return nil
	}
	return fmt.Errorf("bench: cannot scan %T into strings", src)
}
