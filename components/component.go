// Package components holds the Pulumi ComponentResources of a marathon-ha
// cluster: Network, KeyPair, FlockerPKI, Masters, Agents, LoadBalancer and
// AppDeployment, tied together by Cluster.
package components

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// typeToken names a component type: "marathon-ha:index:<Type>".
func typeToken(t string) string { return facts.Project + ":index:" + t }

// Tags are the tags every AWS resource of the cluster carries. The operator
// tools refuse to touch anything without the stack and cluster id tags.
type Tags struct {
	Stack     string
	ClusterID pulumi.StringInput
}

// For returns the tags of a resource in a role, with its Name tag.
func (t Tags) For(role, name string) pulumi.StringMap {
	return pulumi.StringMap{
		"Name":             pulumi.String(name),
		facts.TagProject:   pulumi.String(facts.Project),
		facts.TagStack:     pulumi.String(t.Stack),
		facts.TagClusterID: t.ClusterID,
		facts.TagRole:      pulumi.String(role),
	}
}
