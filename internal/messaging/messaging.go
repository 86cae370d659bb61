// Package messaging provides sending and approving messages to groups and
// members, with the recipients a sender may reach.
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
	"staffroom/internal/errcode"
	"staffroom/internal/store"
)

// SendInput is a message and its recipients.
type SendInput struct {
	Channel                   message.Channel
	Subject, Body             string
	GroupIDs, MemberIDs       []pulid.ID
	CCMemberIDs, BCCMemberIDs []pulid.ID
}

// Send records a message. With messages.send it is SENT; with only
// messages.compose it waits for approval. Groups and members must be ones the
// sender can see; CC may name any active member, guests included; BCC only staff.
func Send(ctx context.Context, client *ent.Client, in SendInput) (*ent.Message, error) {
	v := access.FromContext(ctx)
	if strings.TrimSpace(in.Body) == "" {
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
			SetChannel(in.Channel).SetSubject(strings.TrimSpace(in.Subject)).SetBody(in.Body).
			SetAuthorID(v.MembershipID).
			AddGroupIDs(in.GroupIDs...).AddRecipientIDs(in.MemberIDs...).
			AddCcIDs(in.CCMemberIDs...).AddBccIDs(in.BCCMemberIDs...)
		if v.Has(access.MessagesSend) {
			create.SetStatus(message.StatusSENT).SetSentAt(time.Now())
		} else {
			create.SetStatus(message.StatusPENDING_APPROVAL)
		}
		var err error
		out, err = create.Save(ctx)
		return err
	})
	return out, err
}

func active() predicate.Membership {
	return membership.And(membership.StatusEQ(membership.StatusACTIVE), membership.RemovedAtIsNil())
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

// Approve sends a message that waits for approval.
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
		return err
	})
	return out, err
}
