package auth

import (
	"context"
	"fmt"
	"slices"

	entsql "entgo.io/ent/dialect/sql"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/organization"
	"staffroom/ent/predicate"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
)

// Columns says which columns of each membership, organization and role a
// list of memberships with their organization and role loads; nil loads
// every column. These lists are read under the system context, where field
// collection must not run (its eager loads would escape privacy), so the
// GraphQL layer says what its selection reads.
type Columns struct {
	Membership, Organization, Role []string
}

// The columns a switcher entry usually shows, which one statement joining
// the membership, its organization and its role loads.
var (
	joinedOrganization = []string{organization.FieldID, organization.FieldName, organization.FieldSlug}
	joinedRole         = []string{role.FieldID, role.FieldKey, role.FieldName}
)

// joinable reports whether the selection reads of each membership nothing but
// its organization and role, and of those no more than joinedOrganization and
// joinedRole.
func (c Columns) joinable() bool {
	within := func(cols, of []string) bool {
		return cols != nil && !slices.ContainsFunc(cols, func(col string) bool { return !slices.Contains(of, col) })
	}
	return slices.Equal(c.Membership, []string{membership.FieldID}) && within(c.Organization, joinedOrganization) && within(c.Role, joinedRole)
}

// listMemberships returns the memberships that match where, in order, with
// their organization and role, under ctx (a system context: these lists cross
// organizations). When the selection is joinable, one statement joins the
// three tables: it applies no less privacy than the three statements it
// replaces, which the system context bypasses too.
func (s *Service) listMemberships(ctx context.Context, cols Columns, where []predicate.Membership, order ...membership.OrderOption) ([]*ent.Membership, error) {
	if !cols.joinable() {
		q := s.client.Membership.Query().Where(where...).Order(order...)
		if cols.Membership != nil {
			q.Select(slices.Compact(slices.Sorted(slices.Values(append(cols.Membership,
				membership.FieldID, membership.FieldOrganizationID, membership.FieldRoleID))))...)
		}
		return q.WithOrganization(func(q *ent.OrganizationQuery) {
			if cols.Organization != nil {
				q.Select(cols.Organization...)
			}
		}).WithRole(func(q *ent.RoleQuery) {
			if cols.Role != nil {
				q.Select(cols.Role...)
			}
		}).All(ctx)
	}
	m := entsql.Table(membership.Table)
	o, r := entsql.Table(organization.Table).As("o"), entsql.Table(role.Table).As("r")
	sel := entsql.Dialect(s.settings.Dialect).
		Select(m.C(membership.FieldID), m.C(membership.FieldOrganizationID), m.C(membership.FieldRoleID),
			o.C(organization.FieldName), o.C(organization.FieldSlug), r.C(role.FieldKey), r.C(role.FieldName)).
		From(m).
		Join(o).On(m.C(membership.FieldOrganizationID), o.C(organization.FieldID)).
		Join(r).On(m.C(membership.FieldRoleID), r.C(role.FieldID))
	for _, p := range where {
		p(sel)
	}
	for _, f := range order {
		f(sel)
	}
	query, args := sel.Query()
	rows, err := s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: memberships: %w", err)
	}
	defer rows.Close()
	var out []*ent.Membership
	for rows.Next() {
		var id, orgID, roleID pulid.ID
		var org ent.Organization
		var rl ent.Role
		if err := rows.Scan(&id, &orgID, &roleID, &org.Name, &org.Slug, &rl.Key, &rl.Name); err != nil {
			return nil, fmt.Errorf("auth: memberships: %w", err)
		}
		org.ID, rl.ID = orgID, roleID
		mem := &ent.Membership{ID: id, OrganizationID: orgID, RoleID: roleID}
		mem.Edges.Organization, mem.Edges.Role = &org, &rl
		out = append(out, mem)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: memberships: %w", err)
	}
	return out, nil
}
