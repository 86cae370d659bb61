// Package invoicing provides the life of an invoice after its creation:
// cancelling and refunding, each recorded in the audit log.
package invoicing

import (
	"context"

	"staffroom/ent"
	"staffroom/ent/invoice"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// Create records an invoice made at the point of sale.
func Create(ctx context.Context, client *ent.Client, in ent.CreateInvoiceInput) (*ent.Invoice, error) {
	v := access.FromContext(ctx)
	var out *ent.Invoice
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		out, err = tx.Invoice.Create().SetInput(in).SetCreatedByID(v.MembershipID).Save(ctx)
		if ent.IsConstraintError(err) {
			return errcode.Taken("number", "an invoice numbered %q exists", in.Number)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "invoice.created", TargetType: "Invoice", TargetID: out.ID,
			Data: map[string]any{"number": out.Number, "amountCents": out.AmountCents, "currency": out.Currency}})
	})
	return out, err
}

// Close moves an open invoice to CANCELLED or REFUNDED.
func Close(ctx context.Context, client *ent.Client, id pulid.ID, to invoice.Status) (*ent.Invoice, error) {
	v := access.FromContext(ctx)
	action := map[invoice.Status]string{invoice.StatusCANCELLED: "invoice.cancelled", invoice.StatusREFUNDED: "invoice.refunded"}[to]
	var out *ent.Invoice
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.Invoice.Update().Where(invoice.ID(id), invoice.StatusEQ(invoice.StatusOPEN)).SetStatus(to).Save(ctx)
		if err != nil {
			return err
		}
		out, err = tx.Invoice.Get(ctx, id)
		if ent.IsNotFound(err) {
			return errcode.New(errcode.NotFound, "invoice not found")
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errcode.New(errcode.Conflict, "the invoice is %s, not open", out.Status)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: action, TargetType: "Invoice", TargetID: id,
			Data: audit.Change(invoice.StatusOPEN, to)})
	})
	return out, err
}
