package components

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// NetworkArgs configures the cluster's VPC.
type NetworkArgs struct {
	Zone             pulumi.StringInput // every node's availability zone
	OperatorCIDR     pulumi.StringInput // who may reach SSH and the UIs
	AppPort          int                // the agents' host port behind the ELB
	ExposeFlockerAPI bool               // open 4523 to the operator too
	// MasterIPs are the masters' fixed addresses (facts.MasterPrivateIPs):
	// with more than one the masters may talk to each other on the ports
	// their ensemble needs. Every address a master may ever have is
	// reserved, whatever the count (masterAddresses).
	MasterIPs  []string
	NamePrefix func(role string) pulumi.StringInput
	Tags       Tags
}

// Network is a VPC of the cluster's own with one public subnet and the
// security groups of the master, the agents and the ELB.
type Network struct {
	pulumi.ResourceState

	VpcID    pulumi.IDOutput
	SubnetID pulumi.IDOutput
	MasterSG pulumi.IDOutput
	AgentSG  pulumi.IDOutput
	ELBSG    pulumi.IDOutput
	// MasterAddresses reserve the masters' addresses in the subnet, one
	// per master in MasterIPs' order. Whatever EC2 gives an address to
	// (agents, the ELB) must depend on them all (Reservations).
	// Every address a master may have is reserved from the first `up`
	// (masterAddresses): the first n are those of n masters.
	MasterAddresses []*ec2.SubnetCidrReservation
	// Rules are the security group rules by logical name, for tests and
	// for resources that must wait for them.
	Rules []*ec2.SecurityGroupRule
}

// rule is one security group rule and the reason it exists.
type rule struct {
	name     string
	sg       pulumi.IDOutput
	egress   bool
	from, to int
	protocol string
	cidr     pulumi.StringInput // either cidr
	source   pulumi.IDOutput    // or a source (ingress) / destination (egress) group
	reason   string
}

// NewNetwork creates the VPC, subnet, routing and security groups.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource(typeToken("Network"), name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tags := func(suffix string) pulumi.StringMap {
		return args.Tags.For(facts.RoleNetwork, args.Tags.Stack+"-"+suffix)
	}

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(facts.VPCCIDR),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags("vpc"),
	}, parent)
	if err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags("igw"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Public subnet: the nodes pull images and reach the AWS APIs directly,
	// which avoids a NAT gateway's hourly cost.
	subnet, err := ec2.NewSubnet(ctx, name+"-public", &ec2.SubnetArgs{
		VpcId:               vpc.ID(),
		CidrBlock:           pulumi.String(facts.SubnetCIDR),
		AvailabilityZone:    args.Zone,
		MapPublicIpOnLaunch: pulumi.Bool(true),
		Tags:                tags("public"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Each master's fixed address, out of the range EC2 assigns from
	// (facts.MasterAddressReservation; one /32 each:
	// facts.MasterAddressReservationOf). Reservations in a VPC may not
	// overlap, so a replacement must delete the old one first. The resource
	// takes no tags (terraform-provider-aws aws_ec2_subnet_cidr_reservation).
	// The first keeps the name a one-master stack's reservation has.
	for i, ip := range masterAddresses() {
		resName := name + "-master-address"
		if i > 0 {
			resName = fmt.Sprintf("%s-%d", resName, i+1)
		}
		r, err := ec2.NewSubnetCidrReservation(ctx, resName, &ec2.SubnetCidrReservationArgs{
			SubnetId:        subnet.ID(),
			CidrBlock:       pulumi.String(facts.MasterAddressReservationOf(ip)),
			ReservationType: pulumi.String("explicit"),
			Description:     pulumi.String("marathon-ha master private address " + ip),
		}, parent, pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return nil, err
		}
		n.MasterAddresses = append(n.MasterAddresses, r)
	}
	rt, err := ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: tags("public-rt"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, name+"-public-rta", &ec2.RouteTableAssociationArgs{
		SubnetId:     subnet.ID(),
		RouteTableId: rt.ID(),
	}, parent); err != nil {
		return nil, err
	}

	sg := func(role, description string) (*ec2.SecurityGroup, error) {
		return ec2.NewSecurityGroup(ctx, name+"-"+role, &ec2.SecurityGroupArgs{
			VpcId:       vpc.ID(),
			NamePrefix:  args.NamePrefix(role),
			Description: pulumi.String(description),
			Tags:        tags(role + "-sg"),
		}, parent)
	}
	master, err := sg("master", "marathon-ha master: ZooKeeper, Mesos master, Marathon, Flocker control")
	if err != nil {
		return nil, err
	}
	agents, err := sg("agents", "marathon-ha agents: Mesos agent, volume driver, the app")
	if err != nil {
		return nil, err
	}
	elb, err := sg("elb", "marathon-ha classic ELB in front of the agents")
	if err != nil {
		return nil, err
	}

	op := args.OperatorCIDR
	world := pulumi.String("0.0.0.0/0")
	rules := []rule{
		{"master-ssh", master.ID(), false, facts.SSHPort, facts.SSHPort, "tcp", op, pulumi.IDOutput{}, "operator SSH to the master"},
		{"master-mesos-ui", master.ID(), false, facts.MesosMasterPort, facts.MesosMasterPort, "tcp", op, pulumi.IDOutput{}, "operator to the Mesos master UI and API"},
		{"master-marathon", master.ID(), false, facts.MarathonPort, facts.MarathonPort, "tcp", op, pulumi.IDOutput{}, "operator (and the deploy step of pulumi up) to the Marathon UI and API"},
		{"master-zk-from-agents", master.ID(), false, facts.ZooKeeperClientPort, facts.ZooKeeperClientPort, "tcp", nil, agents.ID(), "Mesos agents find the leading master through ZooKeeper"},
		{"master-mesos-from-agents", master.ID(), false, facts.MesosMasterPort, facts.MesosMasterPort, "tcp", nil, agents.ID(), "Mesos agents register with and answer pings of the master"},
		{"master-flocker-api-from-agents", master.ID(), false, facts.FlockerControlAPIPort, facts.FlockerControlAPIPort, "tcp", nil, agents.ID(), "the Flocker Docker plugin calls the control service REST API"},
		{"master-flocker-agent-from-agents", master.ID(), false, facts.FlockerControlAgentPort, facts.FlockerControlAgentPort, "tcp", nil, agents.ID(), "the Flocker dataset agents connect to the control service"},
		{"master-egress", master.ID(), true, 0, 0, "-1", world, pulumi.IDOutput{}, "image pulls, SSM Parameter Store, package mirrors"},
		{"agents-ssh", agents.ID(), false, facts.SSHPort, facts.SSHPort, "tcp", op, pulumi.IDOutput{}, "operator SSH to the agents"},
		{"agents-mesos-from-operator", agents.ID(), false, facts.MesosAgentPort, facts.MesosAgentPort, "tcp", op, pulumi.IDOutput{}, "the Mesos UI in the browser of the operator reads task sandboxes from the agents"},
		{"agents-mesos-from-master", agents.ID(), false, facts.MesosAgentPort, facts.MesosAgentPort, "tcp", nil, master.ID(), "the Mesos master pings agents and sends them tasks"},
		{"agents-tasks-from-master", agents.ID(), false, facts.AgentPortRangeStart, facts.AgentPortRangeEnd, "tcp", nil, master.ID(), "Marathon HTTP health checks reach tasks on their host ports"},
		{"agents-tasks-from-agents", agents.ID(), false, facts.AgentPortRangeStart, facts.AgentPortRangeEnd, "tcp", nil, agents.ID(), "Docker tasks on one agent reach published host ports on another"},
		{"agents-app-from-elb", agents.ID(), false, args.AppPort, args.AppPort, "tcp", nil, elb.ID(), "the ELB forwards and health-checks the app port"},
		{"agents-egress", agents.ID(), true, 0, 0, "-1", world, pulumi.IDOutput{}, "image pulls, EC2 and SSM APIs for the volume driver and secrets"},
		{"elb-http", elb.ID(), false, facts.ELBListenerPort, facts.ELBListenerPort, "tcp", world, pulumi.IDOutput{}, "the app is public: the ELB listener is open to the world"},
		{"elb-to-agents", elb.ID(), true, args.AppPort, args.AppPort, "tcp", nil, agents.ID(), "the ELB reaches only the app port of the agents"},
	}
	if len(args.MasterIPs) > 1 {
		// Several masters talk to each other: the master group is its own
		// source, so only masters are let in.
		between := func(rname string, port int, reason string) rule {
			return rule{rname, master.ID(), false, port, port, "tcp", nil, master.ID(), reason}
		}
		rules = append(rules,
			between("masters-zk-peer", facts.ZooKeeperPeerPort, "ZooKeeper followers connect to the ensemble leader (zookeeperAdmin.md server.x)"),
			between("masters-zk-election", facts.ZooKeeperElectionPort, "ZooKeeper servers elect the ensemble leader (zookeeperAdmin.md server.x)"),
			between("masters-zk-client", facts.ZooKeeperClientPort, "Mesos masters and Marathons use every ZooKeeper of the ensemble"),
			between("masters-mesos", facts.MesosMasterPort, "the replicated log replicas on each Mesos master; Marathon registers with the leading Mesos master"),
			between("masters-marathon", facts.MarathonPort, "a Marathon that is not the leader proxies every request to the leader (LeaderProxyFilter)"),
			between("masters-marathon-libprocess", facts.MarathonLibprocessPort, "the leading Mesos master calls back the scheduler driver of the leading Marathon (LIBPROCESS_PORT)"),
			// Only ZooKeeper knows its own leader (srvr's Mode:), and only
			// several masters have one to find. ZooKeeper has no auth here,
			// but Marathon's 8080 and Mesos's 5050 are open to the same
			// CIDR without auth and steer the same cluster: no new class
			// of exposure.
			rule{"master-zk-from-operator", master.ID(), false, facts.ZooKeeperClientPort, facts.ZooKeeperClientPort, "tcp", op, pulumi.IDOutput{},
				"operator (kill-node, the rehearsal) asks each ZooKeeper which leads the ensemble (the four-letter word srvr)"},
		)
	}
	if args.ExposeFlockerAPI {
		rules = append(rules, rule{"master-flocker-api", master.ID(), false, facts.FlockerControlAPIPort, facts.FlockerControlAPIPort, "tcp", op, pulumi.IDOutput{}, "operator to the Flocker control API (exposeFlockerApi)"})
	}
	for _, r := range rules {
		ruleArgs := &ec2.SecurityGroupRuleArgs{
			SecurityGroupId: r.sg,
			Type:            pulumi.String(map[bool]string{false: "ingress", true: "egress"}[r.egress]),
			FromPort:        pulumi.Int(r.from),
			ToPort:          pulumi.Int(r.to),
			Protocol:        pulumi.String(r.protocol),
			Description:     pulumi.String(r.reason),
		}
		if r.cidr != nil {
			ruleArgs.CidrBlocks = pulumi.StringArray{r.cidr}
		} else {
			ruleArgs.SourceSecurityGroupId = r.source
		}
		res, err := ec2.NewSecurityGroupRule(ctx, fmt.Sprintf("%s-%s", name, r.name), ruleArgs, parent)
		if err != nil {
			return nil, err
		}
		n.Rules = append(n.Rules, res)
	}

	n.VpcID, n.SubnetID = vpc.ID(), subnet.ID()
	n.MasterSG, n.AgentSG, n.ELBSG = master.ID(), agents.ID(), elb.ID()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VpcID, "subnetId": n.SubnetID,
		"masterSecurityGroupId": n.MasterSG, "agentSecurityGroupId": n.AgentSG, "elbSecurityGroupId": n.ELBSG,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// masterAddresses are the addresses of the largest cluster
// (facts.MasterCounts), all reserved whatever masterCount is. Reserving only
// the masters of the current count would leave the others to EC2's own
// picks: an agent or one of the ELB's interfaces could take one, and a later
// rise of masterCount would fail at RunInstances (InvalidIPAddress.InUse)
// after the other masters were already replaced. A reservation does not
// free an address already in use (facts.MasterAddressReservation), which is
// why they must exist before anything else takes an address: the agents and
// the ELB depend on every one (Reservations). Four addresses of the
// subnet's 251 stay unused on a one-master stack.
func masterAddresses() []string {
	return facts.MasterPrivateIPs(slices.Max(facts.MasterCounts))
}

// Reservations are the masters' address reservations as resources to wait
// for.
func (n *Network) Reservations() []pulumi.Resource {
	out := make([]pulumi.Resource, len(n.MasterAddresses))
	for i, r := range n.MasterAddresses {
		out[i] = r
	}
	return out
}
