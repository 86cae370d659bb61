// Package messaging provides sending and approving messages to groups and
// members, with the recipients a sender may reach; their fan-out to one
// delivery per person, sent through the outbox; and message templates.
package messaging

import (
	"context"
	"slices"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/group"
	"staffroom/ent/membership"
	"staffroom/ent/message"
	"staffroom/ent/predicate"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// SendInput is a message and its recipients.
type SendInput struct {
	Channel                   message.Channel
	Subject, Body             string
	GroupIDs, MemberIDs       []pulid.ID
	CCMemberIDs, BCCMemberIDs []pulid.ID
	// TemplateID names a template whose channel, subject and body replace the above.
	TemplateID pulid.ID
}

// Send records a message. With messages.send it is SENT and fanned out to its
// deliveries in the same transaction; with only messages.compose it waits for
// approval and reaches nobody yet. Groups and members must be ones the sender
// can see; CC may name any active member, guests included; BCC only staff. A
// template (any the sender may read) replaces the channel, subject and body.
func Send(ctx context.Context, client *ent.Client, in SendInput) (*ent.Message, error) {
	v := access.FromContext(ctx)
	c := content{channel: in.Channel, subject: strings.TrimSpace(in.Subject), body: in.Body}
	if in.TemplateID != "" {
		t, err := client.MessageTemplate.Get(ctx, in.TemplateID)
		if ent.IsNotFound(err) {
			return nil, errcode.New(errcode.NotFound, "templateId: template not found")
		}
		if err != nil {
			return nil, err
		}
		c = content{channel: message.Channel(t.Channel), subject: t.Subject, body: t.Body, templated: true}
	}
	if strings.TrimSpace(c.body) == "" {
		return nil, errcode.Input("body", "the message is empty")
	}
	if len(in.GroupIDs)+len(in.MemberIDs)+len(in.CCMemberIDs)+len(in.BCCMemberIDs) == 0 {
		return nil, errcode.Input("groupIds", "name at least one group or member")
	}
	var out *ent.Message
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		if err := visible(ctx, tx.Group.Query().Where(group.IDIn(in.GroupIDs...)).Count, in.GroupIDs, "groupIds"); err != nil {
			return err
		}
		if err := visible(ctx, tx.Membership.Query().Where(membership.IDIn(in.MemberIDs...), active()).Count, in.MemberIDs, "memberIds"); err != nil {
			return err
		}
		// CC and BCC reach members outside the sender's row scope by design; they are
		// still bound to the active organization.
		sys := access.SystemContext(ctx, "message copies")
		inOrg := membership.OrganizationID(v.OrgID)
		if err := visible(sys, tx.Membership.Query().Where(membership.IDIn(in.CCMemberIDs...), inOrg, active()).Count, in.CCMemberIDs, "ccMemberIds"); err != nil {
			return err
		}
		staff := membership.HasRoleWith(role.KeyNEQ("guest"))
		if err := visible(sys, tx.Membership.Query().Where(membership.IDIn(in.BCCMemberIDs...), inOrg, active(), staff).Count, in.BCCMemberIDs, "bccMemberIds"); err != nil {
			return err
		}
		create := tx.Message.Create().
			SetChannel(c.channel).SetSubject(c.subject).SetBody(c.body).
			SetAuthorID(v.MembershipID).
			AddGroupIDs(in.GroupIDs...).AddRecipientIDs(in.MemberIDs...).
			AddCcIDs(in.CCMemberIDs...).AddBccIDs(in.BCCMemberIDs...)
		if in.TemplateID != "" {
			create.SetTemplateID(in.TemplateID)
		}
		if v.Has(access.MessagesSend) {
			create.SetStatus(message.StatusSENT).SetSentAt(time.Now())
		} else {
			create.SetStatus(message.StatusPENDING_APPROVAL)
		}
		var err error
		if out, err = create.Save(ctx); err != nil || out.Status != message.StatusSENT {
			return err
		}
		return deliver(ctx, tx, out, c, "message.sent")
	})
	return out, err
}

// deliver fans a message out and records the event with its counts.
func deliver(ctx context.Context, tx *ent.Client, m *ent.Message, c content, action string) error {
	n, err := fanOut(ctx, tx, m, c)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, m.OrganizationID, audit.Event{
		Action: action, TargetType: "Message", TargetID: m.ID,
		Data: map[string]any{"channel": string(m.Channel), "queued": n.Queued, "skipped": n.Skipped},
	})
}

func active() predicate.Membership {
	return membership.And(access.ActiveAt(time.Now()), membership.RemovedAtIsNil())
}

// visible checks that every id names a row the count query can see.
func visible(ctx context.Context, count func(context.Context) (int, error), ids []pulid.ID, field string) error {
	if len(ids) == 0 {
		return nil
	}
	n, err := count(ctx)
	if err != nil {
		return err
	}
	if n != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return errcode.New(errcode.NotFound, "%s: a recipient was not found", field)
	}
	return nil
}

// Approve sends a message that waits for approval: it is fanned out to the
// people it reaches at this moment, in the same transaction. A message written
// from a template was stored with the template's text, which is filled in now.
func Approve(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.Message, error) {
	v := access.FromContext(ctx)
	var out *ent.Message
	err := store.InTx(ctx, client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.Message.Update().
			Where(message.ID(id), message.StatusEQ(message.StatusPENDING_APPROVAL)).
			SetStatus(message.StatusSENT).SetSentAt(time.Now()).SetApprovedByID(v.MembershipID).
			Save(ctx)
		if err != nil {
			return err
		}
		out, err = tx.Message.Get(ctx, id)
		if ent.IsNotFound(err) {
			return errcode.New(errcode.NotFound, "message not found")
		}
		if err == nil && n == 0 {
			return errcode.New(errcode.Conflict, "the message does not wait for approval")
		}
		if err != nil {
			return err
		}
		c := content{channel: out.Channel, subject: out.Subject, body: out.Body, templated: out.TemplateID != ""}
		return deliver(ctx, tx, out, c, "message.approved")
	})
	return out, err
}

// CheckCopies answers FORBIDDEN unless the viewer may read the message's CC and
// BCC: its author, and holders of messages.approve. The author is read from the
// database: a message loaded for a query may lack columns nobody selected.
func CheckCopies(ctx context.Context, client *ent.Client, m *ent.Message) error {
	v := access.FromContext(ctx)
	if v.SeesCopies() {
		return nil
	}
	author, err := client.Message.Query().Where(message.ID(m.ID)).Select(message.FieldAuthorID).String(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if err != nil || v == nil || pulid.ID(author) != v.MembershipID {
		return errcode.New(errcode.Forbidden, "only the author and holders of messages.approve see CC and BCC")
	}
	return nil
}
