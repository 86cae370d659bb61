package messaging

import (
	"context"
	"fmt"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/delivery"
	"staffroom/ent/grouplink"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/outboxemail"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/sms"
)

// Reasons a delivery is SKIPPED.
const (
	SkipDisabled = "the member is disabled"
	SkipRemoved  = "the member was removed"
	// SkipUnderReview: the login's owner proved the address and has not yet
	// kept this membership, which grants nothing until they do.
	SkipUnderReview = "the membership waits for its owner's review"
	SkipNoEmail     = "no email address"
	SkipNoPhone     = "no mobile phone number"
	// SkipUnverifiedPhone: the organization requires verified numbers for SMS.
	SkipUnverifiedPhone = "the mobile number is not verified"
)

// insertChunk keeps a bulk insert under both databases' bind-parameter limits.
const insertChunk = 500

// content is what a message says, before it is filled in per recipient.
type content struct {
	channel       message.Channel
	subject, body string
	// templated: {{fields}} are filled in; a message typed by hand is sent as typed.
	templated bool
}

// FanOut is what fanning a message out wrote: one delivery per person reached.
type FanOut struct {
	Queued, Skipped int
}

// reach is how a person is reached, in the order that wins when several do:
// the least secret way, so that a person reached openly is never listed as BCC.
var reach = []delivery.Via{delivery.ViaDIRECT, delivery.ViaGROUP, delivery.ViaCC, delivery.ViaBCC}

// fanOut writes one delivery per person the message reaches — its groups'
// members at this moment, its direct recipients, CC and BCC, each person once —
// and queues in the outbox what can be sent. Disabled and removed members, and
// people without the channel's address, get a SKIPPED delivery with the reason.
// It runs in the transaction of the send or approval.
func fanOut(ctx context.Context, tx *ent.Client, m *ent.Message, c content) (FanOut, error) {
	// Group members and copies reach outside the sender's row scope by design;
	// every query is bound to the message's organization.
	sys := access.SystemContext(ctx, "message fan-out")
	inOrg := membership.OrganizationID(m.OrganizationID)
	groups, err := tx.Message.QueryGroups(m).IDs(sys)
	if err != nil {
		return FanOut{}, fmt.Errorf("messaging: fan-out: %w", err)
	}
	byVia := map[delivery.Via]*ent.MembershipQuery{
		delivery.ViaDIRECT: tx.Message.QueryRecipients(m),
		// A link that has ended reaches nobody, before the expiry job ends it too.
		delivery.ViaGROUP: tx.Membership.Query().Where(membership.HasGroupLinksWith(
			grouplink.GroupIDIn(groups...), access.LiveLink(time.Now()))),
		delivery.ViaCC:  tx.Message.QueryCc(m),
		delivery.ViaBCC: tx.Message.QueryBcc(m),
	}
	org, err := tx.Organization.Get(sys, m.OrganizationID)
	if err != nil {
		return FanOut{}, fmt.Errorf("messaging: fan-out: %w", err)
	}
	// verified is nil unless SMS needs verified numbers here.
	var verified map[pulid.ID]bool
	if c.channel == message.ChannelSMS {
		settings, err := Settings(sys, tx, m.OrganizationID)
		if err != nil {
			return FanOut{}, fmt.Errorf("messaging: fan-out: %w", err)
		}
		if settings.RequireVerifiedPhone {
			verified = map[pulid.ID]bool{}
		}
	}
	seen := map[pulid.ID]bool{}
	var deliveries []*ent.DeliveryCreate
	var items []outbox.Item
	var out FanOut
	for _, via := range reach {
		members, err := byVia[via].Where(inOrg).WithUser().Order(membership.ByID()).All(sys)
		if err != nil {
			return FanOut{}, fmt.Errorf("messaging: fan-out: %w", err)
		}
		if verified != nil {
			if err := addVerified(sys, tx, members, verified); err != nil {
				return FanOut{}, err
			}
		}
		for _, mem := range members {
			if seen[mem.ID] {
				continue
			}
			seen[mem.ID] = true
			id := pulid.New(pulid.DeliveryPrefix)
			d := tx.Delivery.Create().SetID(id).SetOrganizationID(m.OrganizationID).SetMessageID(m.ID).
				SetMembershipID(mem.ID).SetVia(via).SetChannel(delivery.Channel(c.channel))
			item, reason := itemFor(mem, org, c)
			if reason == "" && verified != nil && !verified[mem.UserID] {
				reason = SkipUnverifiedPhone
			}
			if reason != "" {
				out.Skipped++
				deliveries = append(deliveries, d.SetStatus(delivery.StatusSKIPPED).SetReason(reason))
				continue
			}
			out.Queued++
			item.SubjectID = string(id)
			items = append(items, item)
			deliveries = append(deliveries, d.SetStatus(delivery.StatusQUEUED))
		}
	}
	rows, err := outbox.EnqueueAll(ctx, tx, m.OrganizationID, items)
	if err != nil {
		return FanOut{}, err
	}
	// Link each queued delivery to its outbox row (items and rows are in order).
	outboxOf := make(map[string]pulid.ID, len(rows))
	for _, r := range rows {
		outboxOf[r.SubjectID] = r.ID
	}
	for _, d := range deliveries {
		id, _ := d.Mutation().ID()
		if e, ok := outboxOf[string(id)]; ok {
			d.SetOutboxEmailID(e)
		}
	}
	for start := 0; start < len(deliveries); start += insertChunk {
		chunk := deliveries[start:min(start+insertChunk, len(deliveries))]
		if err := tx.Delivery.CreateBulk(chunk...).Exec(sys); err != nil {
			return FanOut{}, fmt.Errorf("messaging: fan-out: %w", err)
		}
	}
	return out, nil
}

// addVerified marks the members' users whose current phone is verified.
func addVerified(ctx context.Context, tx *ent.Client, members []*ent.Membership, into map[pulid.ID]bool) error {
	ids := make([]pulid.ID, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	ok, err := VerifiedPhones(ctx, tx, ids)
	if err != nil {
		return fmt.Errorf("messaging: fan-out: %w", err)
	}
	for id := range ok {
		into[id] = true
	}
	return nil
}

// itemFor is the outbox item for one member, or why they are skipped.
func itemFor(mem *ent.Membership, org *ent.Organization, c content) (outbox.Item, string) {
	switch {
	case mem.RemovedAt != nil:
		return outbox.Item{}, SkipRemoved
	case access.StatusAt(mem.Status, mem.DisabledUntil, time.Now()) != membership.StatusACTIVE:
		return outbox.Item{}, SkipDisabled
	case mem.UnverifiedJoin && mem.Edges.User.EmailVerifiedAt != nil:
		return outbox.Item{}, SkipUnderReview
	}
	u := mem.Edges.User
	subject, body := c.subject, c.body
	if c.templated {
		p := Person{FirstName: u.FirstName, LastName: u.LastName, OrganizationName: org.Name}
		subject, body = render(subject, p), render(body, p)
	}
	if c.channel == message.ChannelSMS {
		if strings.TrimSpace(u.Phone) == "" {
			return outbox.Item{}, SkipNoPhone
		}
		return outbox.Item{Channel: outboxemail.ChannelSMS, Message: mail.Message{To: u.Phone, Text: body}}, ""
	}
	if strings.TrimSpace(u.Email) == "" {
		return outbox.Item{}, SkipNoEmail
	}
	if subject == "" {
		subject = "A message from " + org.Name
	}
	return outbox.Item{Channel: outboxemail.ChannelEMAIL, Message: mail.Message{To: u.Email, Subject: subject, Text: body}}, ""
}

// RecordOutcome stores the outbox's final outcome on the delivery an outbox
// row carries (subjectID is the delivery's id): SENT, or FAILED with the
// provider's reason, the address taken out of it (the reader may not be
// allowed to see it). Rows that carry no delivery are ignored.
func RecordOutcome(ctx context.Context, client *ent.Client, e *ent.OutboxEmail) error {
	id := pulid.ID(e.SubjectID)
	if id.Prefix() != pulid.DeliveryPrefix {
		return nil
	}
	sys := access.SystemContext(ctx, "delivery outcome")
	upd := client.Delivery.Update().Where(delivery.ID(id), delivery.StatusEQ(delivery.StatusQUEUED))
	switch e.Status {
	case outboxemail.StatusSENT:
		sent := time.Now()
		if e.SentAt != nil {
			sent = *e.SentAt
		}
		upd.SetStatus(delivery.StatusSENT).SetSentAt(sent)
	case outboxemail.StatusFAILED:
		upd.SetStatus(delivery.StatusFAILED).SetReason(withoutAddress(e.LastError, e.ToAddress))
	default:
		return nil
	}
	return upd.Exec(sys)
}

// ApplyReceipt stores a provider's delivery receipt on the delivery of the
// outbox row it names: a confirmed delivery sets deliveredAt; a failure after
// the provider accepted the message turns SENT into FAILED with its reason.
func ApplyReceipt(ctx context.Context, client *ent.Client, r sms.Receipt) error {
	sys := access.SystemContext(ctx, "delivery receipt")
	where := delivery.OutboxEmailID(pulid.ID(r.Ref))
	switch {
	case r.Delivered:
		return client.Delivery.Update().Where(where, delivery.DeliveredAtIsNil(),
			delivery.StatusIn(delivery.StatusQUEUED, delivery.StatusSENT)).
			SetStatus(delivery.StatusSENT).SetDeliveredAt(time.Now()).Exec(sys)
	case r.Failed:
		return client.Delivery.Update().Where(where, delivery.StatusIn(delivery.StatusQUEUED, delivery.StatusSENT)).
			SetStatus(delivery.StatusFAILED).SetReason(r.Reason).Exec(sys)
	}
	return nil
}

func withoutAddress(reason, address string) string {
	if address == "" {
		return reason
	}
	return strings.ReplaceAll(reason, address, "[recipient]")
}
