package access

import (
	"entgo.io/ent"

	"staffroom/ent/privacy"
)

// APIKeyPolicy: API keys are listed, made and revoked by holders of
// integrations.manage. Checking a presented key and counting its use run in
// the system context, before any viewer exists.
func APIKeyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{denyWithout(IntegrationsManage)},
		Mutation: scopedMutationPolicy(without(IntegrationsManage), IntegrationsManage),
	}
}

// ModulePermissionPolicy: every member reads the organization's module
// permissions (they are its catalog); integrations.manage defines them.
func ModulePermissionPolicy() ent.Policy {
	return privacy.Policy{Mutation: mutationPolicy(IntegrationsManage)}
}
