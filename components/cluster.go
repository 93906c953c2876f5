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
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
)

// ClusterArgs are the validated stack config and the stack's name.
type ClusterArgs struct {
	Config config.Config
	Stack  string
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

// NewCluster builds the cluster. Data flows one way: config, then look-ups,
// then the network, secrets, nodes, load balancer and app. The masters'
// addresses are fixed (facts.MasterPrivateIPs), so the network reserves
// them, the Flocker certificates and every node's user data name them, and
// nothing waits for a master to exist.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	cfg := args.Config
	base := apps.MobyCounter
	if cfg.AppManifestPath != "" {
		b, err := os.ReadFile(cfg.AppManifestPath)
		if err != nil {
			return nil, fmt.Errorf("reading %s:%s: %w", facts.Project, config.KeyAppManifest, err)
		}
		base = b
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
	// Reject a bad manifest before any resource is registered.
	if _, err := renderManifest("us-east-1a", VolumeName("mha-00000000")); err != nil {
		return nil, err
	}
	// And user data over EC2's limit: the real documents wait for the
	// random cluster id, which a new stack's preview does not know.
	if err := checkUserData(cfg); err != nil {
		return nil, err
	}

	c := &Cluster{}
	var err error
	if c.AppHealthCheck, c.HasAppHealthCheck, err = manifest.HealthCheckOf(base); err != nil {
		return nil, fmt.Errorf("app manifest (%s:%s): %w", facts.Project, config.KeyAppManifest, err)
	}
	if err := ctx.RegisterComponentResource(typeToken("Cluster"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	placement, err := lookupZone(ctx, cfg, c)
	if err != nil {
		return nil, err
	}
	// zone is this run's pick, known at once; everything placed reads the
	// recorded c.Zone instead (recordZone, below).
	zone := placement.Zone
	ami, err := pickAMI(ctx, cfg, c)
	if err != nil {
		return nil, err
	}
	c.AMI = pulumi.String(ami.ID)
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("asking AWS who we are (are credentials configured?): %w", err)
	}
	partition, err := aws.GetPartition(ctx, &aws.GetPartitionArgs{}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("looking up the AWS partition: %w", err)
	}
	if cfg.KeyName != "" {
		if err := LookupKeyPairName(ctx, cfg.KeyName); err != nil {
			return nil, err
		}
	}

	// Looked up on every run, the zone is recorded once (placement.go).
	c.Zone, err = recordZone(ctx, name, cfg, placement, c)
	if err != nil {
		return nil, err
	}
	// The cluster id is random and kept in state: two stacks never share it,
	// even stacks of the same name in different backends.
	rid, err := random.NewRandomId(ctx, name+"-id", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, parent)
	if err != nil {
		return nil, err
	}
	// Everything carries the cluster id: a refused driver switch stops it.
	driver, err := guardDriverSwitch(ctx, name, cfg, c)
	if err != nil {
		return nil, err
	}
	c.ClusterID = pulumi.All(rid.Hex, driver).ApplyT(func(v []any) string { return "mha-" + v[0].(string) }).(pulumi.StringOutput)
	c.VolumeName = c.ClusterID.ApplyT(VolumeName).(pulumi.StringOutput)
	stack := args.Stack
	tags := Tags{Stack: stack, ClusterID: c.ClusterID}
	prefix := func(f func(stack, id, role string) string, role string) pulumi.StringInput {
		return c.ClusterID.ApplyT(func(id string) string { return f(stack, id, role) }).(pulumi.StringOutput)
	}
	namePrefix := func(role string) pulumi.StringInput { return prefix(NamePrefix, role) }

	masterIPs := facts.MasterPrivateIPs(cfg.MasterCount)
	c.Network, err = NewNetwork(ctx, name+"-network", &NetworkArgs{
		Zone: c.Zone, OperatorCIDR: pulumi.String(cfg.OperatorCIDR), AppPort: cfg.AppPort,
		ExposeFlockerAPI: cfg.ExposeFlockerAPI, MasterIPs: masterIPs, NamePrefix: namePrefix, Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	c.KeyPair, err = NewKeyPair(ctx, name+"-ssh", &KeyPairArgs{
		Name: cfg.KeyName, PublicKey: cfg.PublicKey, NamePrefix: namePrefix("ssh"), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	flocker := cfg.VolumeDriver == facts.VolumeDriverFlocker
	var masterSecrets, agentSecrets []pulumi.Resource
	// The tag by which the volume driver marks this cluster's volume: the
	// agents' policy is scoped to it (REX-Ray names the volume, Flocker tags
	// its cluster UUID).
	ownTagKey := facts.TagName
	var ownTagValue pulumi.StringOutput = c.VolumeName
	var flockerUUID pulumi.StringInput
	if flocker {
		cu, err := random.NewRandomUuid(ctx, name+facts.FlockerClusterUUIDResource, &random.RandomUuidArgs{}, parent)
		if err != nil {
			return nil, err
		}
		c.FlockerUUID = cu.Result
		flockerUUID = cu.Result
		ownTagKey, ownTagValue = facts.TagFlockerClusterID, cu.Result
		var nodes []pulumi.StringInput
		for i := 1; i <= cfg.AgentCount; i++ {
			nu, err := random.NewRandomUuid(ctx, fmt.Sprintf("%s-flocker-node-%d-uuid", name, i), &random.RandomUuidArgs{}, parent)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, nu.Result)
		}
		c.PKI, err = NewFlockerPKI(ctx, name+"-flocker-pki", &FlockerPKIArgs{
			ClusterName: facts.Project + "-" + stack, ClusterUUID: cu.Result, NodeUUIDs: nodes,
			ControlHost:  masterIPs[facts.FlockerControlMaster-1],
			MasterPrefix: c.ClusterID.ApplyT(func(id string) string { return SSMPrefix(id, facts.RoleMaster) }).(pulumi.StringOutput),
			AgentsPrefix: c.ClusterID.ApplyT(func(id string) string { return SSMPrefix(id, "agents") }).(pulumi.StringOutput),
			Tags:         tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		masterSecrets, agentSecrets = c.PKI.MasterParameters, c.PKI.AgentParameters
	}

	// The Flocker control master's role reads its secrets; the other
	// masters' (fencerRole) only fences.
	const fencerRole = "master-fencer"
	scope := func(role string) func(id, volumeTagValue, zone string) (string, error) {
		return func(id, volumeTagValue, zone string) (string, error) {
			s := PolicyScope{Partition: partition.Partition, Region: cfg.Region, Account: caller.AccountId, Zone: zone, ClusterID: id,
				SSMPrefix: SSMPrefix(id, facts.RoleMaster), VolumeTagKey: ownTagKey, VolumeTagValue: volumeTagValue}
			switch role {
			case facts.RoleMaster:
				return MasterPolicy(s, true).json()
			case fencerRole:
				return MasterPolicy(s, false).json()
			}
			s.SSMPrefix = SSMPrefix(id, role)
			return AgentPolicy(cfg.VolumeDriver, s).json()
		}
	}
	policy := func(role string) pulumi.StringOutput {
		f := scope(role)
		return pulumi.All(c.ClusterID, ownTagValue, c.Zone).ApplyT(func(v []any) (string, error) { return f(v[0].(string), v[1].(string), v[2].(string)) }).(pulumi.StringOutput)
	}

	node := func(instanceType string, sg pulumi.IDOutput) NodeArgs {
		return NodeArgs{AMI: c.AMI, KeepAMI: ami.FromLookup, InstanceType: instanceType, SubnetID: c.Network.SubnetID, SecurityGroupID: sg,
			KeyName: c.KeyPair.KeyName, RootVolumeGiB: cfg.RootVolumeGiB}
	}
	c.Masters, err = NewMasters(ctx, name+"-masters", &MastersArgs{
		Node:      node(cfg.MasterInstanceType, c.Network.MasterSG),
		Boot:      masterBoot(cfg, zone),
		ClusterID: c.ClusterID, Zone: c.Zone, Policy: policy(facts.RoleMaster), FencerPolicy: policy(fencerRole),
		NamePrefix: namePrefix, RolePrefix: prefix(RoleNamePrefix, facts.RoleMaster),
		Reservations: c.Network.MasterAddresses, Secrets: masterSecrets,
		FormerName: name + "-master", Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	c.Agents, err = NewAgents(ctx, name+"-agents", &AgentsArgs{
		Node:      node(cfg.AgentInstanceType, c.Network.AgentSG),
		Count:     cfg.AgentCount,
		Boot:      agentBoot(cfg, zone),
		ClusterID: c.ClusterID, Zone: c.Zone, FlockerClusterUUID: flockerUUID, VolumeName: c.VolumeName,
		Account: caller.AccountId, Profile: cfg.Profile,
		Policy: policy("agents"), NamePrefix: namePrefix("agents"), RolePrefix: prefix(RoleNamePrefix, "agents"),
		DependsOn: append(c.Network.Reservations(), agentSecrets...), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	c.LoadBalancer, err = NewLoadBalancer(ctx, name+"-elb", &LoadBalancerArgs{
		Name:     c.ClusterID.ApplyT(func(id string) string { return ELBName(stack, id) }).(pulumi.StringOutput),
		SubnetID: c.Network.SubnetID, SecurityGroupID: c.Network.ELBSG, AppPort: cfg.AppPort,
		Agents: c.Agents.Instances, DependsOn: c.Network.Reservations(), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}

	perMaster := func(format string) pulumi.StringArrayOutput {
		return c.Masters.PublicIPs.ApplyT(func(ips []string) []string {
			out := make([]string, len(ips))
			for i, ip := range ips {
				out[i] = fmt.Sprintf(format, ip)
			}
			return out
		}).(pulumi.StringArrayOutput)
	}
	c.MarathonURLs = perMaster(fmt.Sprintf("http://%%s:%d", facts.MarathonPort))
	c.MesosURLs = perMaster(fmt.Sprintf("http://%%s:%d", facts.MesosMasterPort))
	c.SSHMasters = perMaster("ssh " + facts.SSHUser + "@%s")
	c.MarathonURL, c.MesosURL, c.SSHMaster = c.MarathonURLs.Index(pulumi.Int(0)), c.MesosURLs.Index(pulumi.Int(0)), c.SSHMasters.Index(pulumi.Int(0))
	c.AppURL = pulumi.Sprintf("http://%s", c.LoadBalancer.DNSName)
	nodes := append(instancesOf(c.Masters.Instances), instancesOf(c.Agents.Instances)...)
	c.App, err = NewAppDeployment(ctx, name+"-app", &AppDeploymentArgs{
		MarathonURLs: c.MarathonURLs,
		AppID:        facts.AppID,
		Manifest: pulumi.All(c.Zone, c.VolumeName).ApplyT(func(v []any) (string, error) {
			return renderManifest(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
		DependsOn:     nodes,
		BootInstances: BootInstances(c.Masters.Instances, c.Agents.Instances),
		Region:        cfg.Region, Profile: cfg.Profile, VolumeDriver: cfg.VolumeDriver,
	}, parent)
	if err != nil {
		return nil, err
	}

	c.SSHAgents = c.Agents.PublicIPs.ApplyT(func(ips []string) []string {
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = fmt.Sprintf("ssh %s@%s", facts.SSHUser, ip)
		}
		return out
	}).(pulumi.StringArrayOutput)

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterId": c.ClusterID, "marathonUrl": c.MarathonURL, "mesosUrl": c.MesosURL, "marathonUrls": c.MarathonURLs, "appUrl": c.AppURL,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func instancesOf(instances []*ec2.Instance) []pulumi.Resource {
	out := make([]pulumi.Resource, len(instances))
	for i, inst := range instances {
		out[i] = inst
	}
	return out
}
