package graph

import (
	"context"

	"staffroom/ent"
	"staffroom/internal/access"
	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/invitation"
)

// signedIn makes the new session's viewer the viewer of the rest of the request
// and returns the payload.
func signedIn(ctx context.Context, s *auth.Session, err error) (*AuthPayload, error) {
	if err != nil {
		return nil, err
	}
	access.Become(ctx, s.Viewer)
	return &AuthPayload{
		AccessToken:            s.AccessToken,
		RefreshToken:           s.RefreshToken,
		AccessTokenExpiresAt:   s.AccessTokenExpiresAt,
		Viewer:                 s.Viewer,
		PasswordChangeRequired: s.PasswordChangeRequired,
	}, nil
}

// canContact reports whether the viewer may read a user's email and phone:
// their own always, others' with members.contact.
func canContact(ctx context.Context, u *ent.User) bool {
	v := access.FromContext(ctx)
	return v != nil && (v.UserID == u.ID || v.Has(access.MembersContact))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func billingOf(o *ent.Organization) *Billing {
	b := &Billing{Plan: o.BillingPlan, Seats: o.BillingSeats, NextInvoiceAt: o.NextInvoiceAt}
	if o.BillingEmail != "" {
		b.BillingEmail = &o.BillingEmail
	}
	if o.PaymentMethodSummary != "" {
		b.PaymentMethodSummary = &o.PaymentMethodSummary
	}
	return b
}

// activeOrg reports whether an organization is the viewer's active one. Guarded
// fields of any other organization (reachable through the switcher) are null:
// the viewer's permissions hold only where they are active.
func activeOrg(ctx context.Context, o *ent.Organization) bool {
	v := access.FromContext(ctx)
	return v.Active() && v.OrgID == o.ID
}

func inviteInput(in *InviteMemberInput) invitation.Input {
	return invitation.Input{
		Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone,
		RoleID: in.RoleID, Grants: in.Grants, GroupIDs: in.GroupIds,
	}
}

// rowError reports a failed row of a bulk operation with its code; causes
// without one are reported as INTERNAL, never with their text.
func rowError(err error) *RowError {
	if err == nil {
		return nil
	}
	e, ok := errcode.As(err)
	if !ok {
		return &RowError{Code: string(errcode.Internal), Message: "internal error"}
	}
	out := &RowError{Code: string(e.Code), Message: e.Message}
	if e.Field != "" {
		out.Field = &e.Field
	}
	return out
}

func templateInput(in *InvitationTemplateInput) invitation.Template {
	if in == nil {
		return invitation.Template{}
	}
	return invitation.Template{Subject: deref(in.Subject), Text: deref(in.Text), HTML: deref(in.HTML)}
}

func emailPreview(t invitation.Template) *InvitationEmailPreview {
	return &InvitationEmailPreview{Subject: t.Subject, Text: t.Text, HTML: t.HTML}
}
