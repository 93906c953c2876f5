package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

// MastersArgs configures the masters.
type MastersArgs struct {
	Node NodeArgs
	// Boot is every master's boot configuration, Boot.Masters its fixed
	// addresses (facts.MasterPrivateIPs), one master each; Index, ClusterID
	// and FlockerFiles are filled in per master.
	Boot      userdata.MasterInput
	ClusterID pulumi.StringInput
	// Zone is the recorded zone (recordZone); it replaces Boot.Zone, this
	// run's look-up, when the user data is rendered.
	Zone pulumi.StringInput
	// Policy is the instance profile's policy of the master that runs the
	// Flocker control service, which fences lost agents and reads its
	// certificates from SSM (MasterPolicy with secrets); FencerPolicy that
	// of every other master, which only fences (MasterPolicy without).
	Policy, FencerPolicy pulumi.StringOutput
	NamePrefix           func(role string) pulumi.StringInput
	RolePrefix           pulumi.StringInput
	// Reservations are the reservations of the masters' addresses, in
	// Boot.Masters' order, and of the addresses of masters a larger count
	// would add (Network.MasterAddresses).
	Reservations []*ec2.SubnetCidrReservation
	// Secrets are what the Flocker control master reads at boot (its SSM
	// parameters).
	Secrets []pulumi.Resource
	// FormerName is the name of the one Master component that earlier
	// versions made ("" if none): aliases keep its URNs, and those of its
	// instance and role, on this component and its first master, so
	// upgrading a one-master stack replaces nothing.
	FormerName string
	Tags       Tags
}

// Masters are the cluster's masters, each running ZooKeeper, a Mesos
// master and Marathon (and, with the flocker driver, the first of them
// the Flocker control service), on fixed private addresses. One master is
// the 2015 demo; three or five form a ZooKeeper ensemble, a Mesos quorum
// and a set of Marathons with an elected leader.
type Masters struct {
	pulumi.ResourceState

	// Instances are the masters in order: Instances[i] has address
	// Boot.Masters[i] and ZooKeeper id i+1.
	Instances   []*ec2.Instance
	InstanceIDs pulumi.StringArrayOutput
	PublicIPs   pulumi.StringArrayOutput
	PrivateIPs  pulumi.StringArrayOutput
}

// NewMasters creates the masters and, with the flocker driver, the
// instance profile of the Flocker control master.
func NewMasters(ctx *pulumi.Context, name string, args *MastersArgs, opts ...pulumi.ResourceOption) (*Masters, error) {
	n := len(args.Boot.Masters)
	if len(args.Reservations) < n {
		return nil, fmt.Errorf("masters %s: %d address reservations for %d masters", name, len(args.Reservations), n)
	}
	m := &Masters{}
	if args.FormerName != "" {
		opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(args.FormerName), Type: pulumi.String(typeToken("Master"))}}))
	}
	if err := ctx.RegisterComponentResource(typeToken("Masters"), name, m, opts...); err != nil {
		return nil, err
	}
	// Every master runs the fencer, which needs a role; the Flocker control
	// master's role (named as before the fencer, so an upgrade keeps it)
	// also reads its secrets. A master waits for its role's policy.
	tags := args.Tags.For(facts.RoleMaster, args.Tags.Stack+"-master")
	var controlRole, fencerRole *instanceRole
	for i := 1; i <= n; i++ {
		boot := args.Boot
		boot.Index = i
		var err error
		switch {
		case boot.RunsFlockerControl() && controlRole == nil:
			controlRole, err = newInstanceRole(ctx, name, args.Policy, args.RolePrefix, args.NamePrefix("master"), tags, pulumi.Parent(m))
		case !boot.RunsFlockerControl() && fencerRole == nil:
			fencerRole, err = newInstanceRole(ctx, name+"-fencer", args.FencerPolicy, args.RolePrefix, args.NamePrefix("master"), tags, pulumi.Parent(m))
		}
		if err != nil {
			return nil, err
		}
	}

	var ids, privateIPs, publicIPs pulumi.StringArray
	for i := 1; i <= n; i++ {
		boot := args.Boot
		boot.Index = i
		userData, err := keptUserData(ctx, fmt.Sprintf("%s-%d-user-data", name, i), pulumi.All(args.ClusterID, bootZone(args.Zone, boot.Zone)).ApplyT(func(v []any) (string, error) {
			in := boot
			in.Zone = v[1].(string)
			return masterUserData(in, v[0].(string))
		}).(pulumi.StringOutput), m)
		if err != nil {
			return nil, err
		}

		// "<stack>-master-<i>"; a one-master cluster's keeps the Name it had
		// before masters were counted, so its upgrade changes nothing.
		nodeName := fmt.Sprintf("%s-master-%d", args.Tags.Stack, i)
		if n == 1 {
			nodeName = args.Tags.Stack + "-master"
		}
		// A master reads its address's reservation and needs its instance
		// profile's policy; the Flocker control master also its secrets.
		deps := []pulumi.Resource{args.Reservations[i-1]}
		role := fencerRole
		if boot.RunsFlockerControl() {
			deps = append(deps, args.Secrets...)
			role = controlRole
		}
		deps = append(deps, role.Policy)
		instProfile := role.Profile.Name
		instArgs := args.Node.instanceArgs(userData, instProfile, true, args.Tags.For(facts.RoleMaster, nodeName))
		// A fixed address, so every node knows the masters before they
		// exist. The Network reserves it (facts.MasterAddressReservationOf),
		// so no agent or ELB interface can take it first; the master is
		// launched into it by address, which the reservation allows.
		instArgs.PrivateIp = pulumi.String(boot.Masters[i-1])
		// One address cannot be on two instances: a replacement must
		// terminate the old master before launching the new one.
		instOpts := append(args.Node.nodeOptions(m, deps), pulumi.DeleteBeforeReplace(true))
		if i == 1 && args.FormerName != "" {
			instOpts = append(instOpts, pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(args.FormerName)}}))
		}
		inst, err := ec2.NewInstance(ctx, fmt.Sprintf("%s-%d", name, i), instArgs, instOpts...)
		if err != nil {
			return nil, err
		}
		m.Instances = append(m.Instances, inst)
		ids = append(ids, inst.ID().ToStringOutput())
		privateIPs = append(privateIPs, inst.PrivateIp)
		publicIPs = append(publicIPs, inst.PublicIp)
	}
	m.InstanceIDs, m.PrivateIPs, m.PublicIPs = ids.ToStringArrayOutput(), privateIPs.ToStringArrayOutput(), publicIPs.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"instanceIds": m.InstanceIDs, "publicIps": m.PublicIPs, "privateIps": m.PrivateIPs,
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// masterUserData is a master's user data for cluster id: rendered,
// gzipped and base64-encoded, within EC2's limit (userdata.EncodeForEC2).
func masterUserData(in userdata.MasterInput, id string) (string, error) {
	in.ClusterID = id
	if in.RunsFlockerControl() {
		in.FlockerFiles = MasterSecretFiles(SSMPrefix(id, facts.RoleMaster))
	}
	doc, err := userdata.RenderMaster(in)
	if err != nil {
		return "", err
	}
	return userdata.EncodeForEC2(doc)
}
