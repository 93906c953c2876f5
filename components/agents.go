package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

// AgentsArgs configures the Mesos agents.
type AgentsArgs struct {
	Node  NodeArgs
	Count int
	// Boot is every agent's boot configuration; ClusterID, Index and
	// FlockerFiles are filled in per agent.
	Boot               userdata.AgentInput
	ClusterID          pulumi.StringInput
	Zone               pulumi.StringInput // the recorded zone; replaces Boot.Zone (this run's look-up)
	FlockerClusterUUID pulumi.StringInput // flocker only: the tag on its volumes
	VolumeName         pulumi.StringInput // the app's Docker volume
	Account            string             // the stack's AWS account, checked by the volume clean-up
	Profile            string             // aws:profile, "" when unset: the volume clean-up's credentials
	Policy             pulumi.StringOutput
	NamePrefix         pulumi.StringInput // instance profile
	RolePrefix         pulumi.StringInput
	DependsOn          []pulumi.Resource // what agents read at boot (SSM secrets)
	Tags               Tags
}

// Agents are the Mesos agents, their instance profile, and the clean-up of
// the EBS volumes their volume driver creates at run time.
type Agents struct {
	pulumi.ResourceState

	InstanceIDs pulumi.StringArrayOutput
	PrivateIPs  pulumi.StringArrayOutput
	PublicIPs   pulumi.StringArrayOutput
	Instances   []*ec2.Instance
	// VolumeCleanup deletes the run-time volumes on destroy.
	VolumeCleanup *local.Command
}

// NewAgents creates the agents.
func NewAgents(ctx *pulumi.Context, name string, args *AgentsArgs, opts ...pulumi.ResourceOption) (*Agents, error) {
	a := &Agents{}
	if err := ctx.RegisterComponentResource(typeToken("Agents"), name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)

	// The volume driver creates the app's EBS volume at run time, outside
	// Pulumi's knowledge; the 2015 demo leaked one on every run. This
	// command does nothing on create; on destroy it deletes this cluster's
	// run-time volumes. Every agent depends on it, so Pulumi deletes it
	// (runs the clean-up) only after all agents are terminated and their
	// volumes detached. A changed selector (volumeDriver) replaces it, so
	// the old one deletes the old driver's volume (volumecleanup.go).
	cleanup, err := newVolumeCleanup(ctx, name+"-volume-cleanup", volumeCleanupArgs{
		Region: args.Boot.Region, Account: args.Account, Profile: args.Profile, Driver: args.Boot.VolumeDriver,
		ClusterID: args.ClusterID, FlockerClusterUUID: args.FlockerClusterUUID, VolumeName: args.VolumeName,
	}, parent)
	if err != nil {
		return nil, err
	}
	a.VolumeCleanup = cleanup

	roleTags := args.Tags.For(facts.RoleAgent, args.Tags.Stack+"-agents")
	role, err := newInstanceRole(ctx, name, args.Policy, args.RolePrefix, args.NamePrefix, roleTags, parent)
	if err != nil {
		return nil, err
	}
	deps := append([]pulumi.Resource{cleanup, role.Policy}, args.DependsOn...)

	var ids, privateIPs, publicIPs pulumi.StringArray
	for i := 1; i <= args.Count; i++ {
		index := i
		userData, err := keptUserData(ctx, fmt.Sprintf("%s-%d-user-data", name, index), pulumi.All(args.ClusterID, bootZone(args.Zone, args.Boot.Zone)).ApplyT(func(v []any) (string, error) {
			in := args.Boot
			in.Zone = v[1].(string)
			return agentUserData(in, v[0].(string), index)
		}).(pulumi.StringOutput), a)
		if err != nil {
			return nil, err
		}
		nodeName := fmt.Sprintf("%s-agent-%d", args.Tags.Stack, index)
		inst, err := ec2.NewInstance(ctx, fmt.Sprintf("%s-%d", name, index),
			args.Node.instanceArgs(userData, role.Profile.Name, false, args.Tags.For(facts.RoleAgent, nodeName)),
			args.Node.nodeOptions(a, deps)...)
		if err != nil {
			return nil, err
		}
		a.Instances = append(a.Instances, inst)
		ids = append(ids, inst.ID().ToStringOutput())
		privateIPs = append(privateIPs, inst.PrivateIp)
		publicIPs = append(publicIPs, inst.PublicIp)
	}
	a.InstanceIDs, a.PrivateIPs, a.PublicIPs = ids.ToStringArrayOutput(), privateIPs.ToStringArrayOutput(), publicIPs.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"instanceIds": a.InstanceIDs, "privateIps": a.PrivateIPs, "publicIps": a.PublicIPs,
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// agentUserData is the user data of agent index for cluster id: rendered,
// gzipped and base64-encoded, within EC2's limit (userdata.EncodeForEC2).
func agentUserData(in userdata.AgentInput, id string, index int) (string, error) {
	in.ClusterID, in.Index = id, index
	if in.VolumeDriver == facts.VolumeDriverFlocker {
		in.FlockerFiles = AgentSecretFiles(SSMPrefix(id, "agents"), index)
	}
	doc, err := userdata.RenderAgent(in)
	if err != nil {
		return "", err
	}
	return userdata.EncodeForEC2(doc)
}
