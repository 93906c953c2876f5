package facts

// Names shared by the program and the tools.
const (
	// Project is the Pulumi project name (Pulumi.yaml) and the prefix of
	// every type token and tag key.
	Project = "marathon-ha"
	// AppID is the Marathon id of Moby Counter; the group mirrors the demo's
	// "/marathon-ha-demo/moby-counter".
	AppID = "/marathon-ha/moby-counter"
)

// Tag keys every AWS resource carries. The operator tools trust nothing that
// lacks the stack and cluster id tags.
const (
	TagProject   = "marathon-ha:project"
	TagStack     = "marathon-ha:stack"
	TagClusterID = "marathon-ha:cluster-id"
	TagRole      = "marathon-ha:role"
)

// Roles, the values of TagRole.
const (
	RoleMaster  = "master"
	RoleAgent   = "agent"
	RoleNetwork = "network"
	RoleLB      = "load-balancer"
	RoleAccess  = "access"
)
