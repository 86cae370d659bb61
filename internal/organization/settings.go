package organization

import (
	"context"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// UpdateInput changes an organization's settings; nil fields stay as they are.
type UpdateInput struct {
	Name, Timezone, Phone, InstructorMessage *string
	// RequiredMemberFields replaces the required member fields when not nil.
	RequiredMemberFields []string
}

// Update changes the active organization's settings and records the change.
func Update(ctx context.Context, client *ent.Client, in UpdateInput) (*ent.Organization, error) {
	v := access.FromContext(ctx)
	var out *ent.Organization
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		org, err := tx.Organization.Get(ctx, v.OrgID)
		if err != nil {
			return err
		}
		upd := tx.Organization.UpdateOne(org)
		data := map[string]any{}
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" || len(name) > 200 {
				return errcode.Input("name", "the name must have 1 to 200 characters")
			}
			upd.SetName(name)
			data["name"] = audit.Change(org.Name, name)
		}
		if in.Timezone != nil {
			if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "" {
				return errcode.Input("timezone", "unknown time zone %q", *in.Timezone)
			}
			upd.SetTimezone(*in.Timezone)
			data["timezone"] = audit.Change(org.Timezone, *in.Timezone)
		}
		if in.Phone != nil {
			upd.SetPhone(strings.TrimSpace(*in.Phone))
			data["phone"] = audit.Change(org.Phone, strings.TrimSpace(*in.Phone))
		}
		if in.InstructorMessage != nil {
			if len(*in.InstructorMessage) > 4000 {
				return errcode.Input("instructorMessage", "the message has at most 4000 characters")
			}
			upd.SetInstructorMessage(*in.InstructorMessage)
			data["instructorMessage"] = audit.Change(org.InstructorMessage, *in.InstructorMessage)
		}
		if in.RequiredMemberFields != nil {
			fields, err := checkMemberFields(in.RequiredMemberFields)
			if err != nil {
				return err
			}
			upd.SetRequiredMemberFields(fields)
			data["requiredMemberFields"] = audit.Change(org.RequiredMemberFields, fields)
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "organization.updated", TargetType: "Organization", TargetID: org.ID, Data: data})
	})
	return out, err
}

// BillingInput changes billing; nil fields stay as they are.
type BillingInput struct {
	BillingEmail, Plan, PaymentMethodSummary *string
	Seats                                    *int
}

// UpdateBilling changes the active organization's billing and records the
// change. billing.manage changes the billing email; the plan, the seats and
// the payment method commit the organization to pay, so only an owner — the
// account holder, answerable for it — changes them.
func UpdateBilling(ctx context.Context, client *ent.Client, in BillingInput) (*ent.Organization, error) {
	v := access.FromContext(ctx)
	if !v.Has(access.BillingManage) {
		return nil, errcode.New(errcode.Forbidden, "this needs the %s permission", access.BillingManage)
	}
	if (in.Plan != nil || in.Seats != nil || in.PaymentMethodSummary != nil) && !v.Owner() {
		return nil, errcode.New(errcode.Forbidden, "only an owner changes the plan, the seats or the payment method")
	}
	var out *ent.Organization
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		org, err := tx.Organization.Get(ctx, v.OrgID)
		if err != nil {
			return err
		}
		upd := tx.Organization.UpdateOne(org)
		data := map[string]any{}
		if in.BillingEmail != nil {
			email := strings.ToLower(strings.TrimSpace(*in.BillingEmail))
			if email != "" && !strings.Contains(email, "@") {
				return errcode.Input("billingEmail", "%q is not a valid email address", *in.BillingEmail)
			}
			upd.SetBillingEmail(email)
			data["billingEmail"] = audit.Change(org.BillingEmail, email)
		}
		if in.Plan != nil {
			upd.SetBillingPlan(*in.Plan)
			data["plan"] = audit.Change(org.BillingPlan, *in.Plan)
		}
		if in.Seats != nil {
			if *in.Seats < 0 {
				return errcode.Input("seats", "seats cannot be negative")
			}
			upd.SetBillingSeats(*in.Seats)
			data["seats"] = audit.Change(org.BillingSeats, *in.Seats)
		}
		if in.PaymentMethodSummary != nil {
			upd.SetPaymentMethodSummary(*in.PaymentMethodSummary)
			data["paymentMethodSummary"] = audit.Change(org.PaymentMethodSummary, *in.PaymentMethodSummary)
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "billing.updated", TargetType: "Organization", TargetID: org.ID, Data: data})
	})
	return out, err
}
