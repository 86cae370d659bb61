package invitation

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"staffroom/ent"
	"staffroom/internal/errcode"
	"staffroom/internal/mail"
)

// Fields are the placeholders of an invitation email template.
type Fields struct {
	Organization string
	Inviter      string
	Role         string
	Link         string
	ExpiresAt    string
}

// The built-in template, used for every part an organization leaves empty.
const (
	defaultSubject = `{{.Inviter}} invites you to join {{.Organization}} on Staffroom`
	defaultText    = `Hello,

{{.Inviter}} invites you to join {{.Organization}} as {{.Role}}.

Accept the invitation here:
{{.Link}}

The link is valid until {{.ExpiresAt}}. If you did not expect this email, ignore it.
`
	defaultHTML = `<p>Hello,</p>
<p>{{.Inviter}} invites you to join <strong>{{.Organization}}</strong> as {{.Role}}.</p>
<p><a href="{{.Link}}">Accept the invitation</a></p>
<p>The link is valid until {{.ExpiresAt}}. If you did not expect this email, ignore it.</p>
`
)

// Template is an organization's invitation email.
type Template struct {
	Subject, Text, HTML string
}

// TemplateOf returns an organization's template, built-in parts filling the gaps.
func TemplateOf(org *ent.Organization) Template {
	return Template{Subject: org.InvitationSubject, Text: org.InvitationText, HTML: org.InvitationHTML}.withDefaults()
}

var sample = Fields{Organization: "Sample Club", Inviter: "Alex Admin", Role: "Instructor",
	Link: "https://example.com/invitation?token=sample", ExpiresAt: "1 January 2030"}

// Validate parses and renders each part with sample values; an unknown
// placeholder or a syntax error is BAD_USER_INPUT naming the part and the reason.
func (t Template) Validate() error {
	if _, err := t.Render(sample); err != nil {
		return err
	}
	return nil
}

// Render fills the template in. The HTML part escapes every value.
func (t Template) Render(f Fields) (mail.Message, error) {
	subject, err := renderText("subject", t.Subject, f)
	if err != nil {
		return mail.Message{}, err
	}
	text, err := renderText("text", t.Text, f)
	if err != nil {
		return mail.Message{}, err
	}
	tmpl, err := htmltemplate.New("html").Option("missingkey=error").Parse(t.HTML)
	if err != nil {
		return mail.Message{}, errcode.Input("html", "the HTML template does not parse: %v", err)
	}
	var html bytes.Buffer
	if err := tmpl.Execute(&html, f); err != nil {
		return mail.Message{}, errcode.Input("html", "the HTML template fails: %v", err)
	}
	return mail.Message{Subject: strings.TrimSpace(subject), Text: text, HTML: html.String()}, nil
}

func renderText(field, src string, f Fields) (string, error) {
	tmpl, err := texttemplate.New(field).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", errcode.Input(field, "the template does not parse: %v", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, f); err != nil {
		return "", errcode.Input(field, "the template fails: %v", err)
	}
	return b.String(), nil
}

func formatExpiry(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2 January 2006 15:04 MST")
}
