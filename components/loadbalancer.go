package components

import (
	"fmt"

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
	Instances       pulumi.StringArrayInput // the agents
	Tags            Tags
}

// LoadBalancer is the classic ELB that follows the app from agent to agent:
// every agent is registered, and only the one running the app passes the
// health check.
type LoadBalancer struct {
	pulumi.ResourceState

	DNSName pulumi.StringOutput
	ELB     *elb.LoadBalancer
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
		Instances: args.Instances,
		// One subnet today; on in case a zone is ever added.
		CrossZoneLoadBalancing:    pulumi.Bool(true),
		ConnectionDraining:        pulumi.Bool(true),
		ConnectionDrainingTimeout: pulumi.Int(int(facts.ELBConnectionDrainingTimeout.Seconds())),
		Tags:                      args.Tags.For(facts.RoleLB, args.Tags.Stack+"-elb"),
		// An explicit name cannot exist twice: free it before a replacement.
	}, pulumi.Parent(lb), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, err
	}
	lb.ELB = e
	lb.DNSName = e.DnsName
	if err := ctx.RegisterResourceOutputs(lb, pulumi.Map{"dnsName": lb.DNSName}); err != nil {
		return nil, err
	}
	return lb, nil
}
