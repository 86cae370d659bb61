package messaging

import (
	"context"
	"regexp"
	"strings"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// TemplateFields are the fields a template's subject and body may name, as
// {{firstName}}: the recipient's first, last and full name, and the
// organization's name.
var TemplateFields = []string{"firstName", "lastName", "fullName", "organizationName"}

// Person is what a template is filled in with.
type Person struct {
	FirstName, LastName, OrganizationName string
}

func (p Person) value(field string) string {
	switch field {
	case "firstName":
		return p.FirstName
	case "lastName":
		return p.LastName
	case "fullName":
		return strings.TrimSpace(p.FirstName + " " + p.LastName)
	case "organizationName":
		return p.OrganizationName
	}
	return ""
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z]*)\s*\}\}`)

// checkTemplate refuses a text whose {{…}} name no known field or are left
// open, naming the input field at fault.
func checkTemplate(field, text string) error {
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !isField(m[1]) {
			return errcode.Input(field, "unknown field {{%s}}: use one of %s", m[1], strings.Join(TemplateFields, ", "))
		}
	}
	if strings.Contains(placeholder.ReplaceAllString(text, ""), "{{") {
		return errcode.Input(field, "a {{ is not closed by }}")
	}
	return nil
}

func isField(name string) bool {
	for _, f := range TemplateFields {
		if f == name {
			return true
		}
	}
	return false
}

// render fills the fields in; text has passed checkTemplate.
func render(text string, p Person) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		return p.value(placeholder.FindStringSubmatch(m)[1])
	})
}

// ValidateTemplate checks a template's subject and body.
func ValidateTemplate(subject, body string) error {
	if strings.TrimSpace(body) == "" {
		return errcode.Input("body", "the template is empty")
	}
	if err := checkTemplate("subject", subject); err != nil {
		return err
	}
	return checkTemplate("body", body)
}

// Preview validates a template and renders it with the viewer's own details.
func Preview(ctx context.Context, client *ent.Client, subject, body string) (string, string, error) {
	if err := ValidateTemplate(subject, body); err != nil {
		return "", "", err
	}
	v := access.FromContext(ctx)
	u, err := client.User.Get(ctx, v.UserID)
	if err != nil {
		return "", "", err
	}
	org, err := client.Organization.Get(ctx, v.OrgID)
	if err != nil {
		return "", "", err
	}
	p := Person{FirstName: u.FirstName, LastName: u.LastName, OrganizationName: org.Name}
	return render(subject, p), render(body, p), nil
}

// CreateTemplate validates and saves a template, with its audit event.
func CreateTemplate(ctx context.Context, client *ent.Client, in ent.CreateMessageTemplateInput) (*ent.MessageTemplate, error) {
	if err := ValidateTemplate(deref(in.Subject), in.Body); err != nil {
		return nil, err
	}
	var out *ent.MessageTemplate
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if out, err = tx.MessageTemplate.Create().SetInput(in).Save(ctx); err != nil {
			return templateConflict(err)
		}
		return recordTemplate(ctx, tx, "message_template.created", out)
	})
	return out, err
}

// UpdateTemplate validates and saves a template's changes, with its audit event.
func UpdateTemplate(ctx context.Context, client *ent.Client, id pulid.ID, in ent.UpdateMessageTemplateInput) (*ent.MessageTemplate, error) {
	var out *ent.MessageTemplate
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if out, err = tx.MessageTemplate.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return templateConflict(err)
		}
		if err := ValidateTemplate(out.Subject, out.Body); err != nil {
			return err
		}
		return recordTemplate(ctx, tx, "message_template.updated", out)
	})
	return out, err
}

// DeleteTemplate deletes a template, with its audit event. Messages sent with
// it keep their text.
func DeleteTemplate(ctx context.Context, client *ent.Client, id pulid.ID) error {
	return store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		t, err := tx.MessageTemplate.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.MessageTemplate.DeleteOne(t).Exec(ctx); err != nil {
			return err
		}
		return recordTemplate(ctx, tx, "message_template.deleted", t)
	})
}

func recordTemplate(ctx context.Context, tx *ent.Client, action string, t *ent.MessageTemplate) error {
	return audit.Record(ctx, tx, t.OrganizationID, audit.Event{
		Action: action, TargetType: "MessageTemplate", TargetID: t.ID,
		Data: map[string]any{"name": t.Name, "channel": string(t.Channel)},
	})
}

func templateConflict(err error) error {
	if ent.IsConstraintError(err) {
		return errcode.New(errcode.Conflict, "a template of that name exists")
	}
	return err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
