package integrations

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"staffroom/ent"
	"staffroom/ent/membership"
	"staffroom/ent/outboxemail"
	"staffroom/ent/role"
	"staffroom/ent/schema/pulid"
	"staffroom/ent/webhookdelivery"
	"staffroom/ent/webhookendpoint"
	"staffroom/internal/access"
	"staffroom/internal/audit"
	"staffroom/internal/errcode"
	"staffroom/internal/mail"
	"staffroom/internal/outbox"
	"staffroom/internal/store"
	"staffroom/internal/webhook"
)

const (
	// MaxWebhookEndpoints bounds the endpoints of one organization.
	MaxWebhookEndpoints = 20
	// MaxSecretOverlapHours bounds how long a rotated secret keeps signing.
	MaxSecretOverlapHours = 72
	// DefaultSecretOverlapHours is how long it does when nobody says.
	DefaultSecretOverlapHours = 24
)

// EndpointInput is what createWebhookEndpoint and updateWebhookEndpoint take;
// nil fields are left as they are.
type EndpointInput struct {
	URL, Description *string
	EventTypes       []string
	// Permissions are what payloads may show: a subset of the creator's
	// catalog permissions, all of them when nil. Fixed once made.
	Permissions []string
}

// Webhooks manages an organization's webhook endpoints.
type Webhooks struct {
	Client *ent.Client
	// AllowPrivate accepts http URLs and any host: development and tests.
	AllowPrivate bool
}

// CreateEndpoint registers an endpoint of the viewer's organization and
// returns it with its secret, which is shown this once.
func (w Webhooks) CreateEndpoint(ctx context.Context, in EndpointInput) (*ent.WebhookEndpoint, string, error) {
	v := access.FromContext(ctx)
	url, err := webhook.CheckURL("url", deref(in.URL), w.AllowPrivate)
	if err != nil {
		return nil, "", err
	}
	types, err := webhook.ValidateEventTypes("eventTypes", in.EventTypes)
	if err != nil {
		return nil, "", err
	}
	perms, err := endpointPermissions(v, in.Permissions)
	if err != nil {
		return nil, "", err
	}
	secret := webhook.NewSecret()
	var ep *ent.WebhookEndpoint
	err = store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.WebhookEndpoint.Query().Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxWebhookEndpoints {
			return errcode.New(errcode.Conflict, "an organization has at most %d webhook endpoints", MaxWebhookEndpoints)
		}
		create := tx.WebhookEndpoint.Create().SetURL(url).SetDescription(strings.TrimSpace(deref(in.Description))).
			SetEventTypes(types).SetPermissions(perms).SetSecret(secret)
		if v.MembershipID != "" {
			create.SetCreatedByID(v.MembershipID)
		}
		if ep, err = create.Save(ctx); err != nil {
			return fmt.Errorf("integrations: create webhook endpoint: %w", err)
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "webhook.created", TargetType: "WebhookEndpoint", TargetID: ep.ID,
			Data: map[string]any{"url": url, "eventTypes": types, "permissions": perms}})
	})
	if err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// endpointPermissions checks what an endpoint's payloads may show: permissions
// of the catalog that the creator holds (no escalation); nil means all of them.
// Module permissions gate nothing Staffroom shows, so they are left out.
func endpointPermissions(v *access.Viewer, perms []string) ([]string, error) {
	if perms == nil {
		out := slices.DeleteFunc(v.Permissions(), access.IsModulePermission)
		slices.Sort(out)
		return out, nil
	}
	out := []string{}
	for _, p := range perms {
		if !access.Known(p) {
			return nil, errcode.Input("permissions", "unknown permission %q: an endpoint reads with permissions of the catalog", p)
		}
		if !v.Has(p) {
			return nil, errcode.New(errcode.Forbidden, "an endpoint's payloads show only what you may read; you lack %s", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// covers refuses a change that would hand an endpoint's payloads to someone
// new (another URL, a new secret) unless the viewer holds every permission
// the payloads are read with: otherwise retargeting an owner's endpoint
// would read what the viewer may not.
func covers(v *access.Viewer, ep *ent.WebhookEndpoint) error {
	for _, p := range ep.Permissions {
		if !v.Has(p) {
			return errcode.New(errcode.Forbidden, "this endpoint's payloads show what %s allows, which you do not hold", p)
		}
	}
	return nil
}

// UpdateEndpoint changes an endpoint's URL, description or event types.
func (w Webhooks) UpdateEndpoint(ctx context.Context, id pulid.ID, in EndpointInput) (*ent.WebhookEndpoint, error) {
	v := access.FromContext(ctx)
	return w.change(ctx, id, "webhook.updated", func(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint) (*ent.WebhookEndpointUpdateOne, map[string]any, error) {
		upd, data := tx.WebhookEndpoint.UpdateOne(ep), map[string]any{}
		if in.URL != nil {
			url, err := webhook.CheckURL("url", *in.URL, w.AllowPrivate)
			if err != nil {
				return nil, nil, err
			}
			if err := covers(v, ep); err != nil {
				return nil, nil, err
			}
			upd.SetURL(url)
			data["url"] = audit.Change(ep.URL, url)
		}
		if in.EventTypes != nil {
			types, err := webhook.ValidateEventTypes("eventTypes", in.EventTypes)
			if err != nil {
				return nil, nil, err
			}
			upd.SetEventTypes(types)
			data["eventTypes"] = audit.Change(ep.EventTypes, types)
		}
		if in.Description != nil {
			upd.SetDescription(strings.TrimSpace(*in.Description))
		}
		return upd, data, nil
	})
}

// SetEndpointEnabled turns an endpoint on or off. Turning it on again, after
// a person or Staffroom (SUSPENDED) turned it off, starts a new failure count;
// the deliveries that failed meanwhile are replayed one by one.
func (w Webhooks) SetEndpointEnabled(ctx context.Context, id pulid.ID, enabled bool) (*ent.WebhookEndpoint, error) {
	action, status := "webhook.disabled", webhookendpoint.StatusDISABLED
	if enabled {
		action, status = "webhook.enabled", webhookendpoint.StatusENABLED
	}
	return w.change(ctx, id, action, func(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint) (*ent.WebhookEndpointUpdateOne, map[string]any, error) {
		upd := tx.WebhookEndpoint.UpdateOne(ep).SetStatus(status)
		if enabled {
			upd.ClearFailingSince()
		}
		return upd, map[string]any{"status": audit.Change(ep.Status, status)}, nil
	})
}

// RotateSecret gives an endpoint a new secret, returned this once. The old
// one keeps signing beside it for overlapHours, so that the receiver can
// switch without losing an event.
func (w Webhooks) RotateSecret(ctx context.Context, id pulid.ID, overlapHours *int) (*ent.WebhookEndpoint, string, error) {
	hours := DefaultSecretOverlapHours
	if overlapHours != nil {
		hours = *overlapHours
	}
	if hours < 0 || hours > MaxSecretOverlapHours {
		return nil, "", errcode.Input("overlapHours", "the old secret signs for 0 to %d hours", MaxSecretOverlapHours)
	}
	v := access.FromContext(ctx)
	secret := webhook.NewSecret()
	ep, err := w.change(ctx, id, "webhook.secret_rotated", func(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint) (*ent.WebhookEndpointUpdateOne, map[string]any, error) {
		if err := covers(v, ep); err != nil {
			return nil, nil, err
		}
		upd := tx.WebhookEndpoint.UpdateOne(ep).SetSecret(secret)
		if hours == 0 {
			return upd.SetPreviousSecret("").ClearPreviousSecretExpiresAt(), map[string]any{"overlapHours": 0}, nil
		}
		until := time.Now().Add(time.Duration(hours) * time.Hour)
		return upd.SetPreviousSecret(ep.Secret).SetPreviousSecretExpiresAt(until), map[string]any{"overlapHours": hours}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// change applies an update to an endpoint of the viewer's organization and
// records it.
func (w Webhooks) change(ctx context.Context, id pulid.ID, action string,
	apply func(context.Context, *ent.Client, *ent.WebhookEndpoint) (*ent.WebhookEndpointUpdateOne, map[string]any, error)) (*ent.WebhookEndpoint, error) {
	v := access.FromContext(ctx)
	var out *ent.WebhookEndpoint
	err := store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		ep, err := tx.WebhookEndpoint.Get(ctx, id)
		if err != nil {
			return err
		}
		upd, data, err := apply(ctx, tx, ep)
		if err != nil {
			return err
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: action, TargetType: "WebhookEndpoint", TargetID: ep.ID, Data: data})
	})
	return out, err
}

// DeleteEndpoint removes an endpoint and its delivery log.
func (w Webhooks) DeleteEndpoint(ctx context.Context, id pulid.ID) error {
	v := access.FromContext(ctx)
	return store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		ep, err := tx.WebhookEndpoint.Get(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.WebhookDelivery.Delete().Where(webhookdelivery.EndpointID(ep.ID)).Exec(ctx); err != nil {
			return fmt.Errorf("integrations: delete deliveries: %w", err)
		}
		if err := tx.WebhookEndpoint.DeleteOne(ep).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "webhook.deleted", TargetType: "WebhookEndpoint", TargetID: ep.ID,
			Data: map[string]any{"url": ep.URL}})
	})
}

// Endpoints lists the organization's endpoints, oldest first.
func (w Webhooks) Endpoints(ctx context.Context) ([]*ent.WebhookEndpoint, error) {
	return store.Client(ctx, w.Client).WebhookEndpoint.Query().Order(ent.Asc(webhookendpoint.FieldID)).Limit(MaxWebhookEndpoints).All(ctx)
}

// Replay queues a delivery again for a new attempt with the same webhook-id
// and body; it is retried for a new retry period.
func (w Webhooks) Replay(ctx context.Context, id pulid.ID) (*ent.WebhookDelivery, error) {
	v := access.FromContext(ctx)
	var out *ent.WebhookDelivery
	err := store.InTx(ctx, w.Client, func(ctx context.Context, tx *ent.Client) error {
		d, err := tx.WebhookDelivery.Query().Where(webhookdelivery.ID(id)).WithEndpoint().Only(ctx)
		if err != nil {
			return err
		}
		if d.Status == webhookdelivery.StatusQUEUED {
			return errcode.New(errcode.Conflict, "the delivery is queued already")
		}
		if d.Edges.Endpoint.Status != webhookendpoint.StatusENABLED {
			return errcode.New(errcode.Conflict, "the endpoint is %s: enable it first", strings.ToLower(string(d.Edges.Endpoint.Status)))
		}
		now := time.Now().UTC()
		if out, err = tx.WebhookDelivery.UpdateOne(d).SetStatus(webhookdelivery.StatusQUEUED).
			SetQueuedAt(now).SetNextAttemptAt(now).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.OrgID, audit.Event{Action: "webhook.replayed", TargetType: "WebhookDelivery", TargetID: d.ID,
			Data: map[string]any{"endpoint": d.EndpointID, "eventType": d.EventType}})
	})
	return out, err
}

// NotifySuspended records that the worker suspended an endpoint and emails
// the organization's active owners, in the worker's transaction (it is the
// webhook.Worker's OnSuspended).
func NotifySuspended(ctx context.Context, tx *ent.Client, ep *ent.WebhookEndpoint, reason string) error {
	sys := access.SystemContext(ctx, "webhook endpoint suspended")
	org, err := tx.Organization.Get(sys, ep.OrganizationID)
	if err != nil {
		return fmt.Errorf("integrations: organization of %s: %w", ep.ID, err)
	}
	owners, err := tx.Membership.Query().Where(membership.OrganizationID(org.ID), membership.StatusEQ(membership.StatusACTIVE),
		membership.RemovedAtIsNil(), membership.HasRoleWith(role.Key(access.OwnerRole))).WithUser().All(sys)
	if err != nil {
		return fmt.Errorf("integrations: owners of %s: %w", org.ID, err)
	}
	text := fmt.Sprintf("Staffroom stopped sending the webhook events of %s to\n\n  %s\n\nbecause %s.\n\n"+
		"Once the receiver works again, someone with the integrations.manage permission enables the endpoint "+
		"(enableWebhookEndpoint) and replays the deliveries that failed meanwhile (replayWebhookDelivery); "+
		"the delivery log of the endpoint shows each attempt's answer.\n", org.Name, ep.URL, reason)
	var items []outbox.Item
	for _, m := range owners {
		items = append(items, outbox.Item{Channel: outboxemail.ChannelEMAIL, Message: mail.Message{To: m.Edges.User.Email,
			Subject: "Webhooks of " + org.Name + " were turned off", Text: text}})
	}
	if _, err := outbox.EnqueueAll(sys, tx, org.ID, items); err != nil {
		return err
	}
	return audit.Record(sys, tx, org.ID, audit.Event{Action: "webhook.suspended", TargetType: "WebhookEndpoint", TargetID: ep.ID,
		Data: map[string]any{"url": ep.URL, "reason": reason}})
}
