package components

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
)

// ClusterArgs are the validated stack config, the stack's name, and what
// the preflight reads with the AWS SDK itself (preflight_imds.go).
type ClusterArgs struct {
	Config  config.Config
	Stack   string
	Account ec2ops.AccountSettings
}

// Cluster is a whole marathon-ha cluster: network, key pair, Flocker PKI
// (with the flocker driver), masters, agents, load balancer and the app.
type Cluster struct {
	pulumi.ResourceState

	ClusterID pulumi.StringOutput
	// Zone is the zone recorded in the stack's state on the first run
	// (recordZone): it moves only when availabilityZone changes.
	Zone       pulumi.StringOutput
	AMI        pulumi.StringInput
	VolumeName pulumi.StringOutput
	Network    *Network
	KeyPair    *KeyPair
	PKI        *FlockerPKI // nil unless the driver is flocker
	// AppHealthCheck is the deployed app definition's first Marathon
	// health check; HasAppHealthCheck is false when it has none.
	AppHealthCheck    manifest.HealthCheck
	HasAppHealthCheck bool
	Masters           *Masters
	Agents            *Agents
	LoadBalancer      *LoadBalancer
	App               *AppDeployment
	// MarathonURLs, MesosURLs and SSHMasters have one entry per master, in
	// order; MarathonURL, MesosURL and SSHMaster are the first master's.
	MarathonURLs pulumi.StringArrayOutput
	MesosURLs    pulumi.StringArrayOutput
	SSHMasters   pulumi.StringArrayOutput
	MarathonURL  pulumi.StringOutput
	MesosURL     pulumi.StringOutput
	AppURL       pulumi.StringOutput
	SSHMaster    pulumi.StringOutput
	SSHAgents    pulumi.StringArrayOutput
	FlockerUUID  pulumi.StringOutput
}

// NewCluster builds the cluster, one phase after another: look-ups, the
// account's preflight, the cluster's identity, network, secrets, masters,
// agents, load balancer and app. Data flows one way. The masters' addresses are fixed
// (facts.MasterPrivateIPs), so the network reserves them, the Flocker
// certificates and every node's user data name them, and nothing waits for
// a master to exist.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	b, err := newClusterBuild(ctx, name, args)
	if err != nil {
		return nil, err
	}
	if err := ctx.RegisterComponentResource(typeToken("Cluster"), name, b.c, opts...); err != nil {
		return nil, err
	}
	b.parent = pulumi.Parent(b.c)
	for _, phase := range []func() error{
		b.lookUps, b.preflight, b.identity, b.network, b.secrets, b.masters, b.loadBalancer, b.agents, b.app, b.outputs,
	} {
		if err := phase(); err != nil {
			return nil, err
		}
	}
	return b.c, nil
}

// clusterBuild carries what one phase of NewCluster hands to the next.
type clusterBuild struct {
	ctx    *pulumi.Context
	name   string
	cfg    config.Config
	stack  string
	sdk    ec2ops.AccountSettings
	c      *Cluster
	parent pulumi.ResourceOrInvokeOption
	// renderManifest renders and validates the app's definition.
	renderManifest func(zone, volume string) (string, error)

	// look-ups
	placement zoneChoice
	// zone is this run's pick, known at once; everything placed reads the
	// recorded c.Zone instead (recordZone).
	zone      string
	ami       amiChoice
	caller    *aws.GetCallerIdentityResult
	partition *aws.GetPartitionResult
	account   preflightResult

	// identity
	tags       Tags
	prefix     func(f func(stack, id, role string) string, role string) pulumi.StringInput
	namePrefix func(role string) pulumi.StringInput
	masterIPs  []string

	// secrets. ownTagKey and ownTagValue are the tag by which the volume
	// driver marks this cluster's volume: the agents' policy is scoped to
	// it (REX-Ray names the volume, Flocker tags its cluster UUID).
	masterSecrets, agentSecrets []pulumi.Resource
	ownTagKey                   string
	ownTagValue                 pulumi.StringOutput
	flockerUUID                 pulumi.StringInput
}

// newClusterBuild refuses a bad app manifest and user data over EC2's limit
// before any resource is registered.
func newClusterBuild(ctx *pulumi.Context, name string, args *ClusterArgs) (*clusterBuild, error) {
	cfg := args.Config
	base := apps.MobyCounter
	if cfg.AppManifestPath != "" {
		doc, err := os.ReadFile(cfg.AppManifestPath)
		if err != nil {
			return nil, fmt.Errorf("reading %s:%s: %w", facts.Project, config.KeyAppManifest, err)
		}
		base = doc
	}
	dockerDriver := facts.DockerVolumeDriverName[cfg.VolumeDriver]
	renderManifest := func(zone, volume string) (string, error) {
		doc, err := manifest.Render(base, manifest.Params{
			AppID: facts.AppID, Image: cfg.Images.App, HostPort: cfg.AppPort,
			VolumeDriver: dockerDriver, VolumeName: volume, Zone: zone,
		})
		if err == nil {
			err = manifest.Validate(doc)
		}
		if err != nil {
			return "", fmt.Errorf("app manifest (%s:%s): %w", facts.Project, config.KeyAppManifest, err)
		}
		return string(doc), nil
	}
	if _, err := renderManifest("us-east-1a", VolumeName("mha-00000000")); err != nil {
		return nil, err
	}
	// The real documents wait for the random cluster id, which a new
	// stack's preview does not know.
	if err := checkUserData(cfg); err != nil {
		return nil, err
	}
	c := &Cluster{}
	var err error
	if c.AppHealthCheck, c.HasAppHealthCheck, err = manifest.HealthCheckOf(base); err != nil {
		return nil, fmt.Errorf("app manifest (%s:%s): %w", facts.Project, config.KeyAppManifest, err)
	}
	return &clusterBuild{ctx: ctx, name: name, cfg: cfg, stack: args.Stack, sdk: args.Account, c: c, renderManifest: renderManifest}, nil
}

// lookUps asks AWS where the cluster goes, which image it boots and whose
// account it is in, and checks a named key pair exists.
func (b *clusterBuild) lookUps() error {
	var err error
	if b.placement, err = lookupZone(b.ctx, b.cfg, b.c); err != nil {
		return err
	}
	b.zone = b.placement.Zone
	if b.ami, err = pickAMI(b.ctx, b.cfg, b.c); err != nil {
		return err
	}
	b.c.AMI = pulumi.String(b.ami.ID)
	if b.caller, err = aws.GetCallerIdentity(b.ctx, &aws.GetCallerIdentityArgs{}, b.parent); err != nil {
		return fmt.Errorf("asking AWS who we are (are credentials configured?): %w", err)
	}
	if b.partition, err = aws.GetPartition(b.ctx, &aws.GetPartitionArgs{}, b.parent); err != nil {
		return fmt.Errorf("looking up the AWS partition: %w", err)
	}
	if b.cfg.KeyName != "" {
		return LookupKeyPairName(b.ctx, b.cfg.KeyName)
	}
	return nil
}

// preflight asks the account what would fail later (preflight.go).
func (b *clusterBuild) preflight() error {
	var err error
	b.account, err = preflight(b.ctx, b.cfg, b.stack, b.c, sdkAccount{b.sdk, b.caller.AccountId})
	return err
}

// identity records the zone (looked up on every run, recorded once:
// placement.go) and draws the cluster id, which names and tags everything
// after it. The id is random and kept in state: two stacks never share it,
// even stacks of the same name in different backends.
func (b *clusterBuild) identity() error {
	c := b.c
	var err error
	if c.Zone, err = recordZone(b.ctx, b.name, b.cfg, b.placement, c); err != nil {
		return err
	}
	rid, err := random.NewRandomId(b.ctx, b.name+"-id", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, b.parent)
	if err != nil {
		return err
	}
	// Everything carries the cluster id: a refused driver switch stops it.
	driver, err := guardDriverSwitch(b.ctx, b.name, b.cfg, c)
	if err != nil {
		return err
	}
	// So does a refusal of the existing nodes' checks (preflight_nodes.go).
	ownID := rid.Hex.ApplyT(func(hex string) string { return "mha-" + hex }).(pulumi.StringOutput)
	nodes := guardNodes(b.ctx, b.name, b.cfg, b.stack, ownID, c)
	c.ClusterID = pulumi.All(ownID, driver, nodes).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
	c.VolumeName = c.ClusterID.ApplyT(VolumeName).(pulumi.StringOutput)
	stack := b.stack
	b.tags = Tags{Stack: stack, ClusterID: c.ClusterID}
	b.prefix = func(f func(stack, id, role string) string, role string) pulumi.StringInput {
		return c.ClusterID.ApplyT(func(id string) string { return f(stack, id, role) }).(pulumi.StringOutput)
	}
	b.namePrefix = func(role string) pulumi.StringInput { return b.prefix(NamePrefix, role) }
	b.masterIPs = facts.MasterPrivateIPs(b.cfg.MasterCount)
	return nil
}

// network builds the VPC, subnet, security groups and master address
// reservations, and the SSH key pair.
func (b *clusterBuild) network() error {
	c, cfg := b.c, b.cfg
	var err error
	c.Network, err = NewNetwork(b.ctx, b.name+"-network", &NetworkArgs{
		Zone: c.Zone, OperatorCIDR: pulumi.String(cfg.OperatorCIDR), AppPort: cfg.AppPort,
		ExposeFlockerAPI: cfg.ExposeFlockerAPI, MasterIPs: b.masterIPs, NamePrefix: b.namePrefix, Tags: b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	c.KeyPair, err = NewKeyPair(b.ctx, b.name+"-ssh", &KeyPairArgs{
		Name: cfg.KeyName, PublicKey: cfg.PublicKey, NamePrefix: b.namePrefix("ssh"), Tags: b.tags,
	}, b.parent)
	return err
}

// secrets draws Flocker's cluster and node UUIDs and issues its
// certificates into SSM; with REX-Ray there are none, and the volume is
// known by its name.
func (b *clusterBuild) secrets() error {
	c, cfg := b.c, b.cfg
	b.ownTagKey, b.ownTagValue = facts.TagName, c.VolumeName
	if cfg.VolumeDriver != facts.VolumeDriverFlocker {
		return nil
	}
	cu, err := random.NewRandomUuid(b.ctx, b.name+facts.FlockerClusterUUIDResource, &random.RandomUuidArgs{}, b.parent)
	if err != nil {
		return err
	}
	c.FlockerUUID = cu.Result
	b.flockerUUID = cu.Result
	b.ownTagKey, b.ownTagValue = facts.TagFlockerClusterID, cu.Result
	var nodes []pulumi.StringInput
	for i := 1; i <= cfg.AgentCount; i++ {
		nu, err := random.NewRandomUuid(b.ctx, fmt.Sprintf("%s-flocker-node-%d-uuid", b.name, i), &random.RandomUuidArgs{}, b.parent)
		if err != nil {
			return err
		}
		nodes = append(nodes, nu.Result)
	}
	c.PKI, err = NewFlockerPKI(b.ctx, b.name+"-flocker-pki", &FlockerPKIArgs{
		ClusterName: facts.Project + "-" + b.stack, ClusterUUID: cu.Result, NodeUUIDs: nodes,
		ControlHost:  b.masterIPs[facts.FlockerControlMaster-1],
		MasterPrefix: c.ClusterID.ApplyT(func(id string) string { return SSMPrefix(id, facts.RoleMaster) }).(pulumi.StringOutput),
		AgentsPrefix: c.ClusterID.ApplyT(func(id string) string { return SSMPrefix(id, "agents") }).(pulumi.StringOutput),
		Tags:         b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	b.masterSecrets, b.agentSecrets = c.PKI.MasterParameters, c.PKI.AgentParameters
	return nil
}

// fencerRole is the role of the masters other than Flocker's control
// master: it only fences, while the control master's role also reads its
// secrets.
const fencerRole = "master-fencer"

// policy is the IAM policy of a role (facts.RoleMaster, fencerRole or
// "agents"), scoped to this cluster, its zone and its volume.
func (b *clusterBuild) policy(role string) pulumi.StringOutput {
	cfg, partition, caller, ownTagKey, ebsKey := b.cfg, b.partition, b.caller, b.ownTagKey, b.account.EBSKeyARN
	return pulumi.All(b.c.ClusterID, b.ownTagValue, b.c.Zone).ApplyT(func(v []any) (string, error) {
		id, volumeTagValue, zone := v[0].(string), v[1].(string), v[2].(string)
		s := PolicyScope{Partition: partition.Partition, Region: cfg.Region, Account: caller.AccountId, Zone: zone, ClusterID: id,
			SSMPrefix: SSMPrefix(id, facts.RoleMaster), VolumeTagKey: ownTagKey, VolumeTagValue: volumeTagValue}
		switch role {
		case facts.RoleMaster:
			return MasterPolicy(s, true).json()
		case fencerRole:
			return MasterPolicy(s, false).json()
		}
		s.SSMPrefix, s.EBSKeyARN = SSMPrefix(id, role), ebsKey
		return AgentPolicy(cfg.VolumeDriver, s).json()
	}).(pulumi.StringOutput)
}

// node is what every instance of a role shares.
func (b *clusterBuild) node(instanceType string, sg pulumi.IDOutput) NodeArgs {
	c := b.c
	return NodeArgs{AMI: c.AMI, KeepAMI: b.ami.FromLookup, RootDeviceName: b.ami.RootDeviceName, InstanceType: instanceType, SubnetID: c.Network.SubnetID, SecurityGroupID: sg,
		KeyName: c.KeyPair.KeyName, RootVolumeGiB: b.cfg.RootVolumeGiB}
}

// masters starts the masters at their reserved addresses.
func (b *clusterBuild) masters() error {
	c, cfg := b.c, b.cfg
	var err error
	c.Masters, err = NewMasters(b.ctx, b.name+"-masters", &MastersArgs{
		Node:      b.node(cfg.MasterInstanceType, c.Network.MasterSG),
		Boot:      masterBoot(cfg, b.zone),
		ClusterID: c.ClusterID, Zone: c.Zone, Policy: b.policy(facts.RoleMaster), FencerPolicy: b.policy(fencerRole),
		NamePrefix: b.namePrefix, RolePrefix: b.prefix(RoleNamePrefix, facts.RoleMaster),
		Reservations: c.Network.MasterAddresses, Secrets: b.masterSecrets,
		FormerName: b.name + "-master", Tags: b.tags,
	}, b.parent)
	return err
}

// agents starts the agents, after the master addresses are reserved and
// their secrets stored.
func (b *clusterBuild) agents() error {
	c, cfg := b.c, b.cfg
	var err error
	c.Agents, err = NewAgents(b.ctx, b.name+"-agents", &AgentsArgs{
		Node:      b.node(cfg.AgentInstanceType, c.Network.AgentSG),
		Count:     cfg.AgentCount,
		Boot:      agentBoot(cfg, b.zone),
		ClusterID: c.ClusterID, Zone: c.Zone, FlockerClusterUUID: b.flockerUUID, VolumeName: c.VolumeName,
		Account: b.caller.AccountId, Profile: cfg.Profile,
		Policy: b.policy("agents"), NamePrefix: b.namePrefix("agents"), RolePrefix: b.prefix(RoleNamePrefix, "agents"),
		DependsOn: append(c.Network.Reservations(), b.agentSecrets...), LoadBalancer: c.LoadBalancer.ELB.Name, Tags: b.tags,
	}, b.parent)
	if err == nil {
		err = c.LoadBalancer.AttachAgents(b.ctx, c.Agents.Instances)
	}
	if err != nil {
		return err
	}
	c.SSHAgents = formatEach(c.Agents.PublicIPs, "ssh "+facts.SSHUser+"@%s")
	return nil
}

// loadBalancer puts the classic ELB in front of the agents.
func (b *clusterBuild) loadBalancer() error {
	c, stack := b.c, b.stack
	var err error
	c.LoadBalancer, err = NewLoadBalancer(b.ctx, b.name+"-elb", &LoadBalancerArgs{
		Name:     c.ClusterID.ApplyT(func(id string) string { return ELBName(stack, id) }).(pulumi.StringOutput),
		SubnetID: c.Network.SubnetID, SecurityGroupID: c.Network.ELBSG, AppPort: b.cfg.AppPort,
		DependsOn: c.Network.Reservations(), Tags: b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	c.AppURL = pulumi.Sprintf("http://%s", c.LoadBalancer.DNSName)
	return nil
}

// app deploys the app to Marathon once every node is up.
func (b *clusterBuild) app() error {
	c, cfg := b.c, b.cfg
	perMaster := func(format string) pulumi.StringArrayOutput { return formatEach(c.Masters.PublicIPs, format) }
	c.MarathonURLs = perMaster(fmt.Sprintf("http://%%s:%d", facts.MarathonPort))
	c.MesosURLs = perMaster(fmt.Sprintf("http://%%s:%d", facts.MesosMasterPort))
	c.SSHMasters = perMaster("ssh " + facts.SSHUser + "@%s")
	c.MarathonURL, c.MesosURL, c.SSHMaster = c.MarathonURLs.Index(pulumi.Int(0)), c.MesosURLs.Index(pulumi.Int(0)), c.SSHMasters.Index(pulumi.Int(0))
	nodes := append(instancesOf(c.Masters.Instances), c.Agents.Resources()...)
	var err error
	c.App, err = NewAppDeployment(b.ctx, b.name+"-app", &AppDeploymentArgs{
		MarathonURLs: c.MarathonURLs,
		AppID:        facts.AppID,
		Manifest: pulumi.All(c.Zone, c.VolumeName).ApplyT(func(v []any) (string, error) {
			return b.renderManifest(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
		DependsOn:     nodes,
		BootInstances: BootInstances(c.Masters.Instances, c.Agents.Instances), AgentsOf: c.Agents.FoundByTag(c.ClusterID),
		Region: cfg.Region, Profile: cfg.Profile, VolumeDriver: cfg.VolumeDriver,
	}, b.parent)
	return err
}

// outputs registers the component's outputs, last.
func (b *clusterBuild) outputs() error {
	c := b.c
	return b.ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterId": c.ClusterID, "marathonUrl": c.MarathonURL, "mesosUrl": c.MesosURL, "marathonUrls": c.MarathonURLs, "appUrl": c.AppURL,
	})
}

// formatEach formats every address with format.
func formatEach(ips pulumi.StringArrayOutput, format string) pulumi.StringArrayOutput {
	return ips.ApplyT(func(ips []string) []string {
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = fmt.Sprintf(format, ip)
		}
		return out
	}).(pulumi.StringArrayOutput)
}

func instancesOf(instances []*ec2.Instance) []pulumi.Resource {
	out := make([]pulumi.Resource, len(instances))
	for i, inst := range instances {
		out[i] = inst
	}
	return out
}
