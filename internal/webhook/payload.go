package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"staffroom/ent"
	"staffroom/internal/access"
)

// RenderFunc runs a read-only GraphQL query as the viewer in ctx and returns
// its data. The app wires it to the schema, so a payload shows exactly what
// the same query through the API would show that viewer.
type RenderFunc func(ctx context.Context, query string, vars map[string]any) (json.RawMessage, error)

// selections are the fields a payload's data holds for each kind of entity,
// as GraphQL names them. Guarded fields the endpoint may not read come back
// null; an entity it may not read, or one deleted since, is its id alone.
var selections = map[string]string{
	"Membership": `... on Membership { username title status groupScope joinedAt removedAt grants revokes permissions
		role { id key name } user { id firstName lastName email phone } groups { id name kind } }`,
	"Invitation": `... on Invitation { email firstName lastName phone status expiresAt acceptedAt role { id key name } }`,
	"Role":       `... on Role { key name description builtin permissions }`,
	"Group":      `... on Group { name kind description }`,
}

// Payload is the body of a webhook request, in the Standard Webhooks shape.
type Payload struct {
	Type           string          `json:"type"`
	Timestamp      time.Time       `json:"timestamp"`
	OrganizationID string          `json:"organizationId"`
	Data           json.RawMessage `json:"data"`
}

// render builds a delivery's body by reading the entity it is about as an
// API key of the organization with the endpoint's permissions would.
func render(ctx context.Context, r RenderFunc, ep *ent.WebhookEndpoint, d *ent.WebhookDelivery) ([]byte, error) {
	if access.IsSystem(ctx) {
		// The system context would lift the privacy the payload is read under.
		return nil, fmt.Errorf("webhook: payload of %s: read in the system context", d.ID)
	}
	viewer := access.NewKeyViewer(ep.ID, ep.OrganizationID, ep.Permissions)
	data := json.RawMessage(nil)
	if sel, ok := selections[d.TargetType]; ok {
		out, err := r(access.NewContext(ctx, viewer), `query($id: ID!) { node(id: $id) { __typename id `+sel+` } }`,
			map[string]any{"id": d.TargetID})
		if err != nil {
			return nil, fmt.Errorf("webhook: payload of %s: %w", d.ID, err)
		}
		var answer struct {
			Node json.RawMessage `json:"node"`
		}
		if err := json.Unmarshal(out, &answer); err != nil {
			return nil, fmt.Errorf("webhook: payload of %s: %w", d.ID, err)
		}
		if len(answer.Node) > 0 && string(answer.Node) != "null" {
			data = answer.Node
		}
	}
	if data == nil {
		data, _ = json.Marshal(map[string]string{"__typename": d.TargetType, "id": d.TargetID})
	}
	return json.Marshal(Payload{Type: d.EventType, Timestamp: d.OccurredAt.UTC(), OrganizationID: string(d.OrganizationID), Data: data})
}
