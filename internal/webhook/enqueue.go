package webhook

import (
	"context"
	"fmt"
	"time"

	"staffroom/ent"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/webhookendpoint"
	"staffroom/internal/access"
)

// Enqueue queues the webhook events that an audit action causes: one delivery
// per enabled endpoint of org that subscribes to each. tx is the client of the
// change's transaction, so the deliveries exist exactly when the change
// commits. The payload is built later, when the delivery is first sent.
func Enqueue(ctx context.Context, tx *ent.Client, org pulid.ID, action, targetType string, targetID pulid.ID,
	data map[string]any, at time.Time) error {
	events := eventsOf(action, targetType, string(targetID), data)
	if len(events) == 0 || org == "" {
		return nil
	}
	// The change's viewer may not read endpoints (an instructor's own change,
	// an invitation accepted by someone signed out): the system looks them up.
	sys := access.SystemContext(ctx, "queue webhook events")
	endpoints, err := tx.WebhookEndpoint.Query().
		Where(webhookendpoint.OrganizationID(org), webhookendpoint.StatusEQ(webhookendpoint.StatusENABLED)).
		Select(webhookendpoint.FieldEventTypes).All(sys)
	if err != nil {
		return fmt.Errorf("webhook: endpoints: %w", err)
	}
	at = at.UTC()
	var rows []*ent.WebhookDeliveryCreate
	for _, ev := range events {
		for _, ep := range endpoints {
			if !Subscribed(ep.EventTypes, ev.Type) {
				continue
			}
			rows = append(rows, tx.WebhookDelivery.Create().SetOrganizationID(org).SetEndpointID(ep.ID).
				SetEventType(ev.Type).SetTargetType(ev.TargetType).SetTargetID(ev.TargetID).
				SetOccurredAt(at).SetQueuedAt(at).SetNextAttemptAt(at).SetCreatedAt(at))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.WebhookDelivery.CreateBulk(rows...).Exec(sys); err != nil {
		return fmt.Errorf("webhook: queue %s: %w", action, err)
	}
	return nil
}
