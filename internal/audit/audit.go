// Package audit provides the audit log: each change of access, membership,
// roles, settings, billing or invoices records an event in the transaction of
// the change, with who did it, to what, and from where. Recording an event
// also queues the webhook events it causes, in the same transaction.
package audit

import (
	"context"
	"fmt"
	"maps"
	"time"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/internal/access"
	"staffroom/internal/requestmeta"
	"staffroom/internal/webhook"
)

// Event is one change to record.
type Event struct {
	// Action is <entity>.<past-tense verb>, for example member.role_changed.
	Action     string
	TargetType string
	TargetID   pulid.ID
	// Data holds what changed: before and after values, never secrets.
	Data map[string]any
	// Actor is the membership that acted when it is not the viewer's in org
	// (the owner membership that creating an organization makes).
	Actor pulid.ID
}

// Record writes the event with tx, the client of the change's transaction. The
// actor is the viewer's membership; org is the organization the event belongs to.
func Record(ctx context.Context, tx *ent.Client, org pulid.ID, e Event) error {
	meta := requestmeta.FromContext(ctx)
	now := time.Now()
	create := tx.AuditEvent.Create().
		SetOrganizationID(org).
		SetAction(e.Action).
		SetTargetType(e.TargetType).SetTargetID(string(e.TargetID)).
		SetIP(meta.IP).SetUserAgent(truncate(meta.UserAgent, 512)).SetRequestID(meta.ID).
		SetCreatedAt(now)
	v := access.FromContext(ctx)
	if v.IsAPIKey() && v.OrgID == org {
		// A key has no membership to name as the actor: the event names the key.
		e.Data = maps.Clone(e.Data)
		if e.Data == nil {
			e.Data = map[string]any{}
		}
		e.Data["apiKey"] = string(v.APIKeyID)
	}
	if e.Data != nil {
		create.SetData(e.Data)
	}
	if e.Actor == "" && v.Active() && v.OrgID == org {
		e.Actor = v.MembershipID
	}
	if e.Actor != "" {
		create.SetActorID(e.Actor)
	}
	if err := create.Exec(ctx); err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return webhook.Enqueue(ctx, tx, org, e.Action, e.TargetType, e.TargetID, e.Data, now)
}

// Change returns the data of an event that changed one value.
func Change(before, after any) map[string]any {
	return map[string]any{"before": before, "after": after}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
