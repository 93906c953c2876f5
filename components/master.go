package components

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

// MasterArgs configures the master.
type MasterArgs struct {
	Node NodeArgs
	// Boot is the master's boot configuration; ClusterID and FlockerFiles
	// are filled in once the cluster id is known.
	Boot      userdata.MasterInput
	ClusterID pulumi.StringInput
	// Zone is the recorded zone (recordZone); it replaces Boot.Zone, this
	// run's look-up, when the user data is rendered.
	Zone pulumi.StringInput
	// Policy is the instance profile's policy (nil: no instance profile,
	// the master then calls no AWS API).
	Policy pulumi.StringOutput
	// NeedsProfile is true when Policy is set.
	NeedsProfile bool
	NamePrefix   func(role string) pulumi.StringInput
	RolePrefix   pulumi.StringInput
	// DependsOn are resources the master reads at boot (its SSM secrets) and
	// the reservation of its address.
	DependsOn []pulumi.Resource
	Tags      Tags
}

// Master is the node running ZooKeeper, the Mesos master, Marathon and the
// Flocker control service.
type Master struct {
	pulumi.ResourceState

	InstanceID pulumi.IDOutput
	PublicIP   pulumi.StringOutput
	PrivateIP  pulumi.StringOutput
	Instance   *ec2.Instance
}

// NewMaster creates the master's instance profile and instance.
func NewMaster(ctx *pulumi.Context, name string, args *MasterArgs, opts ...pulumi.ResourceOption) (*Master, error) {
	m := &Master{}
	if err := ctx.RegisterComponentResource(typeToken("Master"), name, m, opts...); err != nil {
		return nil, err
	}
	tags := args.Tags.For(facts.RoleMaster, args.Tags.Stack+"-master")
	deps := append([]pulumi.Resource{}, args.DependsOn...)
	var profile pulumi.StringInput
	if args.NeedsProfile {
		role, err := newInstanceRole(ctx, name, args.Policy, args.RolePrefix, args.NamePrefix("master"), tags, pulumi.Parent(m))
		if err != nil {
			return nil, err
		}
		profile = role.Profile.Name
		deps = append(deps, role.Policy)
	}
	userData := pulumi.All(args.ClusterID, bootZone(args.Zone, args.Boot.Zone)).ApplyT(func(v []any) (string, error) {
		in := args.Boot
		in.Zone = v[1].(string)
		return masterUserData(in, v[0].(string))
	}).(pulumi.StringOutput)

	instArgs := args.Node.instanceArgs(userData, profile, true, tags)
	// A fixed address, so the agents know the master before it exists. The
	// Network reserves it (facts.MasterAddressReservation), so no agent or
	// ELB interface can take it first; the master is launched into it by
	// address, which the reservation allows.
	instArgs.PrivateIp = pulumi.String(facts.MasterPrivateIP)
	// One address cannot be on two instances: a replacement must terminate
	// the old master before launching the new one.
	inst, err := ec2.NewInstance(ctx, name, instArgs, append(args.Node.nodeOptions(m, deps), pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return nil, err
	}
	m.Instance = inst
	m.InstanceID, m.PublicIP, m.PrivateIP = inst.ID(), inst.PublicIp, inst.PrivateIp
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"instanceId": m.InstanceID, "publicIp": m.PublicIP, "privateIp": m.PrivateIP,
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// masterUserData is the master's user data for cluster id: rendered, gzipped
// and base64-encoded, within EC2's limit (userdata.EncodeForEC2).
func masterUserData(in userdata.MasterInput, id string) (string, error) {
	in.ClusterID = id
	if in.VolumeDriver == facts.VolumeDriverFlocker {
		in.FlockerFiles = MasterSecretFiles(SSMPrefix(id, facts.RoleMaster))
	}
	doc, err := userdata.RenderMaster(in)
	if err != nil {
		return "", err
	}
	return userdata.EncodeForEC2(doc)
}
