package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
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
	// LoadBalancer is the classic ELB's name (from the ELB, so the group
	// waits for it). With REX-Ray the agents are an Auto Scaling group that
	// registers its instances with it; Flocker's fixed agents are
	// registered by the LoadBalancer's attachments instead.
	LoadBalancer pulumi.StringInput
	Tags         Tags
}

// InGroup reports whether agents of driver run in an Auto Scaling group:
// REX-Ray's do. Flocker's keep fixed instances, because each one's node
// certificate is issued by Pulumi for that node (flockerpki.go) and an
// instance the group launches could not have one without the CA key on the
// nodes (docs/agents.md).
func InGroup(driver string) bool { return driver == facts.VolumeDriverRexRay }

// Agents are the Mesos agents, their instance profile, and the clean-up of
// the EBS volumes their volume driver creates at run time.
type Agents struct {
	pulumi.ResourceState

	InstanceIDs pulumi.StringArrayOutput
	PrivateIPs  pulumi.StringArrayOutput
	PublicIPs   pulumi.StringArrayOutput
	Instances   []*ec2.Instance // fixed agents (Flocker); none in a group
	// LaunchTemplate and Group are the REX-Ray agents' (InGroup); nil for
	// fixed agents. The group's instances are not Pulumi's: InstanceIDs,
	// PrivateIPs and PublicIPs are then empty, and the tools find the
	// agents by their tags (ec2ops).
	LaunchTemplate *ec2.LaunchTemplate
	Group          *autoscaling.Group
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

	if InGroup(args.Boot.VolumeDriver) {
		return a, a.group(ctx, name, args, role.Profile.Name, deps)
	}
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

// group makes the agents an Auto Scaling group of one launch template.
// The group depends on the clean-up, as each fixed agent does: on destroy
// Pulumi deletes the group first, and the provider drains it (desired 0)
// and waits for its instances to be terminated before it deletes the group
// (terraform-provider-aws internal/service/autoscaling/group.go,
// resourceGroupDelete, drainGroup and waitGroupDrained, unless
// force_delete); only then does the clean-up run and find the volume
// detached.
func (a *Agents) group(ctx *pulumi.Context, name string, args *AgentsArgs, profile pulumi.StringInput, deps []pulumi.Resource) error {
	// One user data for every agent: an agent is no longer numbered
	// (index 0, node name "agent"), and nothing in it names its address.
	// Kept by the document's digest, like a fixed agent's: new gzip bytes
	// alone would make a new template version and an instance refresh.
	userData, err := keptUserData(ctx, name+"-user-data", pulumi.All(args.ClusterID, bootZone(args.Zone, args.Boot.Zone)).ApplyT(func(v []any) (string, error) {
		in := args.Boot
		in.Zone = v[1].(string)
		return agentUserData(in, v[0].(string), 0)
	}).(pulumi.StringOutput), a)
	if err != nil {
		return err
	}
	lt, group, err := newAgentGroup(ctx, name, agentGroupArgs{
		Node: args.Node, Count: args.Count, UserData: userData, Profile: profile,
		LoadBalancer: args.LoadBalancer, NamePrefix: args.NamePrefix, Tags: args.Tags,
	}, pulumi.Parent(a), pulumi.DependsOn(deps))
	if err != nil {
		return err
	}
	a.LaunchTemplate, a.Group = lt, group
	empty := pulumi.StringArray{}.ToStringArrayOutput()
	a.InstanceIDs, a.PrivateIPs, a.PublicIPs = empty, empty, empty
	return ctx.RegisterResourceOutputs(a, pulumi.Map{"groupName": group.Name, "launchTemplateId": lt.ID()})
}

// Resources are what the agents are made of for a resource that must wait
// for them (the app's deployment): the instances, or the group.
func (a *Agents) Resources() []pulumi.Resource {
	if a.Group != nil {
		return []pulumi.Resource{a.Group}
	}
	return instancesOf(a.Instances)
}

// FoundByTag is clusterID when the agents are a group's, whose instances
// the tools find by the cluster's tags; nil for fixed agents.
func (a *Agents) FoundByTag(clusterID pulumi.StringInput) pulumi.StringInput {
	if a.Group == nil {
		return nil
	}
	return clusterID
}

// agentUserData is the user data of agent index (0: any agent of the
// group) for cluster id: rendered,
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
