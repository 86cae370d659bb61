package organization

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"staffroom/ent"
	"staffroom/ent/membership"
	entorg "staffroom/ent/organization"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
)

// The member fields an organization may require (requiredMemberFields), each
// with the input field that carries it.
const (
	FieldPhone    = "PHONE"
	FieldLastName = "LAST_NAME"
)

var memberFieldInputs = map[string]string{FieldPhone: "phone", FieldLastName: "lastName"}

// Person is what the required fields are checked against.
type Person struct {
	LastName, Phone string
}

func (p Person) value(field string) string {
	if field == FieldPhone {
		return strings.TrimSpace(p.Phone)
	}
	return strings.TrimSpace(p.LastName)
}

// Missing returns the first of the required fields the person lacks, "" when
// none.
func (p Person) Missing(required []string) string {
	for _, f := range required {
		if p.value(f) == "" {
			return f
		}
	}
	return ""
}

// CheckRequired fails with BAD_USER_INPUT, naming the input field, when the
// person lacks a field the organization requires.
func CheckRequired(required []string, p Person) error {
	if f := p.Missing(required); f != "" {
		return errcode.Input(memberFieldInputs[f], "this organization requires a %s for every member",
			strings.ToLower(strings.ReplaceAll(f, "_", " ")))
	}
	return nil
}

// RequiredFields returns the member fields an organization requires. It reads
// in the system context: whoever joins or edits is held to them, whatever they
// may read.
func RequiredFields(ctx context.Context, tx *ent.Client, org pulid.ID) ([]string, error) {
	sys := access.SystemContext(ctx, "required member fields")
	o, err := tx.Organization.Query().Where(entorg.ID(org)).Select(entorg.FieldRequiredMemberFields).Only(sys)
	if err != nil {
		return nil, fmt.Errorf("organization: required fields: %w", err)
	}
	return o.RequiredMemberFields, nil
}

// CheckRequiredIn is CheckRequired against organization org's requirements.
func CheckRequiredIn(ctx context.Context, tx *ent.Client, org pulid.ID, p Person) error {
	required, err := RequiredFields(ctx, tx, org)
	if err != nil {
		return err
	}
	return CheckRequired(required, p)
}

// checkMemberFields validates a list of required member fields, without repeats.
func checkMemberFields(fields []string) ([]string, error) {
	out := []string{}
	for _, f := range fields {
		if _, ok := memberFieldInputs[f]; !ok {
			return nil, errcode.Input("requiredMemberFields", "unknown member field %q", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// RequiredForLogin returns the member fields that any organization of a
// login requires (removed memberships aside): a login's details are shared by
// all its organizations, so an edit keeps each one's requirements.
func RequiredForLogin(ctx context.Context, tx *ent.Client, userID pulid.ID) ([]string, error) {
	sys := access.SystemContext(ctx, "required member fields")
	ids, err := tx.Membership.Query().Where(membership.UserID(userID), membership.RemovedAtIsNil()).
		Select(membership.FieldOrganizationID).Strings(sys)
	if err != nil {
		return nil, fmt.Errorf("organization: required fields: %w", err)
	}
	orgIDs := make([]pulid.ID, len(ids))
	for i, id := range ids {
		orgIDs[i] = pulid.ID(id)
	}
	orgs, err := tx.Organization.Query().Where(entorg.IDIn(orgIDs...)).
		Select(entorg.FieldRequiredMemberFields).All(sys)
	if err != nil {
		return nil, fmt.Errorf("organization: required fields: %w", err)
	}
	var out []string
	for _, o := range orgs {
		for _, f := range o.RequiredMemberFields {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
