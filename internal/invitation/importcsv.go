package invitation

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"staffroom/ent"
	"staffroom/ent/role"
	"staffroom/internal/access"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// ImportRow is the outcome of one line of an import.
type ImportRow struct {
	Line  int
	Email string
	Sent  *Sent
	Err   error
}

// errDryRun rolls back a dry run after every row was tried.
var errDryRun = errors.New("dry run")

const maxImportRows = 500

// Import invites the people of a CSV (first_name,last_name,email,phone,role —
// the role by key). Every row is validated as a real invitation would be; a dry
// run tries them all in a transaction that is rolled back, so nothing is written
// and nothing is sent.
func (s *Service) Import(ctx context.Context, data string, dryRun bool) ([]ImportRow, error) {
	records, err := parseCSV(data)
	if err != nil {
		return nil, err
	}
	var rows []ImportRow
	run := func(ctx context.Context, tx *ent.Client) error {
		rows = s.importRows(ctx, tx, records)
		if dryRun {
			return errDryRun
		}
		return nil
	}
	// importMembers runs outside the operation's shared transaction (see graph),
	// so this transaction is its own and a dry run's rollback undoes only itself.
	err = store.InTx(ctx, s.client, run)
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return rows, nil
}

// importRows invites each record, each in a savepoint-free way: a failing row is
// reported and skipped. Duplicate emails within the file are refused.
func (s *Service) importRows(ctx context.Context, tx *ent.Client, records [][]string) []ImportRow {
	seen := map[string]int{}
	var rows []ImportRow
	for i, rec := range records {
		row := ImportRow{Line: i + 2, Email: strings.TrimSpace(rec[2])}
		email := strings.ToLower(row.Email)
		if first, dup := seen[email]; dup && email != "" {
			row.Err = errcode.Input("email", "duplicate of line %d", first)
			rows = append(rows, row)
			continue
		}
		seen[email] = row.Line
		r, err := tx.Role.Query().Where(role.Key(strings.TrimSpace(rec[4]))).Only(ctx)
		if ent.IsNotFound(err) {
			row.Err = errcode.Input("role", "unknown role %q", strings.TrimSpace(rec[4]))
			rows = append(rows, row)
			continue
		}
		if err != nil {
			row.Err = err
			rows = append(rows, row)
			continue
		}
		var phone *string
		if p := strings.TrimSpace(rec[3]); p != "" {
			phone = &p
		}
		row.Sent, row.Err = s.invite(ctx, tx, Input{
			Email: row.Email, FirstName: rec[0], LastName: rec[1], Phone: phone, RoleID: r.ID,
		})
		rows = append(rows, row)
	}
	return rows
}

func parseCSV(data string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, errcode.Input("csv", "the CSV is empty or malformed: %v", err)
	}
	want := []string{"first_name", "last_name", "email", "phone", "role"}
	for i, col := range want {
		if i >= len(header) || strings.ToLower(strings.TrimSpace(header[i])) != col {
			return nil, errcode.Input("csv", "the header must be %s", strings.Join(want, ","))
		}
	}
	var records [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errcode.Input("csv", "malformed CSV: %v", err)
		}
		for len(rec) < len(want) {
			rec = append(rec, "")
		}
		records = append(records, rec)
		if len(records) > maxImportRows {
			return nil, errcode.Input("csv", "import at most %d rows at once", maxImportRows)
		}
	}
	if len(records) == 0 {
		return nil, errcode.Input("csv", "the CSV has no rows")
	}
	return records, nil
}

// UpdateTemplate saves the organization's invitation email after validating it.
func UpdateTemplate(ctx context.Context, client *ent.Client, t Template) (*ent.Organization, error) {
	v := access.FromContext(ctx)
	if err := t.withDefaults().Validate(); err != nil {
		return nil, err
	}
	return client.Organization.UpdateOneID(v.OrgID).
		SetInvitationSubject(t.Subject).SetInvitationText(t.Text).SetInvitationHTML(t.HTML).
		Save(ctx)
}

func (t Template) withDefaults() Template {
	if strings.TrimSpace(t.Subject) == "" {
		t.Subject = defaultSubject
	}
	if strings.TrimSpace(t.Text) == "" {
		t.Text = defaultText
	}
	if strings.TrimSpace(t.HTML) == "" {
		t.HTML = defaultHTML
	}
	return t
}

// PreviewSample renders a template with sample values.
func PreviewSample(t Template) (Template, error) {
	m, err := t.withDefaults().Render(sample)
	if err != nil {
		return Template{}, err
	}
	return Template{Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}
