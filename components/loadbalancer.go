package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// LoadBalancerArgs configures the classic ELB.
type LoadBalancerArgs struct {
	Name            pulumi.StringInput // see ELBName: at most 32 characters
	SubnetID        pulumi.StringInput
	SecurityGroupID pulumi.StringInput
	AppPort         int
	// Agents are registered one attachment each: Flocker's fixed agents.
	// REX-Ray's Auto Scaling group registers its own (agents.go), and
	// they must not be attached as well: the provider's docs forbid mixing
	// the group's load_balancers with attachments
	// (website/docs/r/autoscaling_group.html.markdown), and an attachment
	// would pin one instance id in Pulumi's state. Fixed agents made
	// after the ELB are attached with AttachAgents.
	Agents []*ec2.Instance
	// DependsOn are what the ELB must wait for: the reservation of the
	// master's address, so the ELB's interfaces cannot take it.
	DependsOn []pulumi.Resource
	Tags      Tags
}

// LoadBalancer is the classic ELB that follows the app from agent to agent:
// every agent is registered, and only the one running the app passes the
// health check.
type LoadBalancer struct {
	pulumi.ResourceState

	DNSName pulumi.StringOutput
	ELB     *elb.LoadBalancer
	// Attachments register the agents, one each, in the order of Agents.
	Attachments []*elb.Attachment
	name        string // the component's name, which the attachments' derive from
}

// HealthCheckTarget is the ELB's health check: HTTP on the app port.
func HealthCheckTarget(appPort int) string {
	return fmt.Sprintf("HTTP:%d%s", appPort, facts.AppHealthPath)
}

// NewLoadBalancer creates the ELB.
func NewLoadBalancer(ctx *pulumi.Context, name string, args *LoadBalancerArgs, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	lb := &LoadBalancer{}
	if err := ctx.RegisterComponentResource(typeToken("LoadBalancer"), name, lb, opts...); err != nil {
		return nil, err
	}
	e, err := elb.NewLoadBalancer(ctx, name, &elb.LoadBalancerArgs{
		Name:           args.Name,
		Subnets:        pulumi.StringArray{args.SubnetID},
		SecurityGroups: pulumi.StringArray{args.SecurityGroupID},
		Listeners: elb.LoadBalancerListenerArray{&elb.LoadBalancerListenerArgs{
			LbPort:           pulumi.Int(facts.ELBListenerPort),
			LbProtocol:       pulumi.String("http"),
			InstancePort:     pulumi.Int(args.AppPort),
			InstanceProtocol: pulumi.String("http"),
		}},
		HealthCheck: &elb.LoadBalancerHealthCheckArgs{
			Target:             pulumi.String(HealthCheckTarget(args.AppPort)),
			Interval:           pulumi.Int(int(facts.ELBHealthInterval.Seconds())),
			Timeout:            pulumi.Int(int(facts.ELBHealthTimeout.Seconds())),
			HealthyThreshold:   pulumi.Int(facts.ELBHealthyThreshold),
			UnhealthyThreshold: pulumi.Int(facts.ELBUnhealthyThreshold),
		},
		// No `instances`: the agents are registered by attachments (below).
		// One subnet today; on in case a zone is ever added.
		CrossZoneLoadBalancing:    pulumi.Bool(true),
		ConnectionDraining:        pulumi.Bool(true),
		ConnectionDrainingTimeout: pulumi.Int(int(facts.ELBConnectionDrainingTimeout.Seconds())),
		Tags:                      args.Tags.For(facts.RoleLB, args.Tags.Stack+"-elb"),
		// An explicit name cannot exist twice: free it before a replacement.
	}, pulumi.Parent(lb), pulumi.DependsOn(args.DependsOn), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, err
	}
	lb.ELB = e
	lb.name = name
	if err := lb.AttachAgents(ctx, args.Agents); err != nil {
		return nil, err
	}
	lb.DNSName = e.DnsName
	if err := ctx.RegisterResourceOutputs(lb, pulumi.Map{"dnsName": lb.DNSName}); err != nil {
		return nil, err
	}
	return lb, nil
}

// AttachAgents registers fixed agents with the ELB, one attachment each,
// named as NewLoadBalancer always named them, so a stack keeps its
// attachments whichever of the ELB and the agents was made first.
func (lb *LoadBalancer) AttachAgents(ctx *pulumi.Context, agents []*ec2.Instance) error {
	e, name := lb.ELB, lb.name
	// One attachment per agent rather than the ELB's `instances` list, so an
	// agent that no longer exists touches only its own registration, never
	// the ELB: with the list, one RegisterInstancesWithLoadBalancer or
	// DeregisterInstancesFromLoadBalancer call carries every agent, and an
	// id it cannot use fails the whole call (error InvalidInstance, ELB API
	// reference), and with it an update or a re-creation of the ELB.
	// After a killed agent, `pulumi up --refresh` drops the attachment if
	// the ELB no longer lists the instance (terraform-provider-aws v5.x
	// internal/service/elb/attachment.go resourceAttachmentRead), or else
	// replaces it, deregistering the old id, when the new agent's id
	// arrives (`instance` forces a new attachment); either way the new
	// agent is registered. The ELB's `instances` is optional and computed,
	// so leaving it out keeps the attachments' registrations
	// (load_balancer.go; the two must not be mixed,
	// website/docs/r/elb_attachment.html.markdown).
	for i, inst := range agents {
		// `elb` takes the ELB's name and forces a new attachment when it
		// changes; taking it from the ELB makes a replacement of the ELB
		// (delete first, same name) replace the attachments too. DeletedWith:
		// deleting the ELB drops its registrations, so a destroy does not
		// deregister, and cannot fail on an instance that is already gone.
		a, err := elb.NewAttachment(ctx, fmt.Sprintf("%s-agent-%d", name, i+1), &elb.AttachmentArgs{
			Elb:      e.Name,
			Instance: inst.ID(),
		}, pulumi.Parent(lb), pulumi.DeletedWith(e))
		if err != nil {
			return err
		}
		lb.Attachments = append(lb.Attachments, a)
	}
	return nil
}
