package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// AutoScalingAPI is the part of *autoscaling.Client the tools use: they
// read the REX-Ray agents' group (components/autoscaling.go) to know when
// it is back to full strength after a kill.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// WithAutoScaling gives the Client the Auto Scaling API, for AgentGroup
// and WaitFullStrength.
func WithAutoScaling(api AutoScalingAPI) Option { return func(c *Client) { c.asg = api } }

// ConnectAutoScaling returns the Auto Scaling API of region, with the
// credentials ConnectAs would use (AWS_ENDPOINT_URL_AUTO_SCALING points it
// at ec2test's stand-in in tests).
func ConnectAutoScaling(ctx context.Context, region, profile string) (AutoScalingAPI, error) {
	cfg, err := loadConfig(ctx, region, profile)
	if err != nil {
		return nil, err
	}
	return autoscaling.NewFromConfig(cfg), nil
}

// ErrNoGroup is returned when the stack's agents are not in an Auto
// Scaling group: a Flocker stack's fixed agents, or a stack made before
// the group.
var ErrNoGroup = errors.New("the stack's agents are not in an Auto Scaling group")

// AgentGroup is the agents' group as Auto Scaling describes it now.
type AgentGroup struct {
	Name    string
	Desired int
	// InService are the members InService and Healthy, Others the rest
	// (Pending, Terminating, Unhealthy), as "id lifecycle/health".
	InService []string
	Others    []string
}

// Full reports whether the group is back to its desired capacity, every
// member InService and healthy.
func (g AgentGroup) Full() bool { return len(g.InService) >= g.Desired && len(g.Others) == 0 }

func (g AgentGroup) String() string {
	s := fmt.Sprintf("group %s: %d of %d InService", g.Name, len(g.InService), g.Desired)
	if len(g.Others) > 0 {
		s += " (" + strings.Join(g.Others, ", ") + ")"
	}
	return s
}

// AgentGroup finds the agents' group of the stack in s by the tags it
// carries (facts.TagClusterID, facts.TagRole=agent, facts.TagStack), as
// every tool finds the agents themselves; ErrNoGroup when there is none
// or the Client has no Auto Scaling API.
func (c *Client) AgentGroup(ctx context.Context, s Scope) (AgentGroup, error) {
	if err := s.validate(); err != nil {
		return AgentGroup{}, err
	}
	if c.asg == nil {
		return AgentGroup{}, ErrNoGroup
	}
	doing := "finding the agents' Auto Scaling group of cluster " + s.ClusterID
	in := &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{
		{Name: aws.String("tag:" + facts.TagClusterID), Values: []string{s.ClusterID}},
		{Name: aws.String("tag:" + facts.TagRole), Values: []string{facts.RoleAgent}},
	}}
	var found []astypes.AutoScalingGroup
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c.asg, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return AgentGroup{}, fmt.Errorf("%s: autoscaling:DescribeAutoScalingGroups: %w", doing, err)
		}
		found = append(found, page.AutoScalingGroups...)
	}
	var groups []astypes.AutoScalingGroup
	for _, g := range found {
		tags := map[string]string{}
		for _, t := range g.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if len(s.problems(tags)) == 0 {
			groups = append(groups, g)
		}
	}
	switch len(groups) {
	case 0:
		return AgentGroup{}, fmt.Errorf("%s: %w", doing, ErrNoGroup)
	case 1:
	default:
		return AgentGroup{}, fmt.Errorf("%s: %d groups carry its tags; refusing to guess", doing, len(groups))
	}
	g := groups[0]
	out := AgentGroup{Name: aws.ToString(g.AutoScalingGroupName), Desired: int(aws.ToInt32(g.DesiredCapacity))}
	for _, m := range g.Instances {
		id, health := aws.ToString(m.InstanceId), aws.ToString(m.HealthStatus)
		if m.LifecycleState == astypes.LifecycleStateInService && health == "Healthy" {
			out.InService = append(out.InService, id)
			continue
		}
		out.Others = append(out.Others, fmt.Sprintf("%s %s/%s", id, m.LifecycleState, health))
	}
	return out, nil
}

// WaitFullStrength polls the agents' group until it is Full, writing a line
// to progress whenever what it lacks changes, and returns how long that
// took. It gives up when ctx ends or after the Client's wait timeout.
func (c *Client) WaitFullStrength(ctx context.Context, s Scope, progress io.Writer) (time.Duration, AgentGroup, error) {
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	last := ""
	var g AgentGroup
	err := c.pollUntil(ctx, func(ctx context.Context) (bool, error) {
		var err error
		if g, err = c.AgentGroup(ctx, s); err != nil {
			return false, err
		}
		if line := g.String(); line != last {
			fmt.Fprintf(progress, "%s (%s)\n", line, since(start))
			last = line
		}
		return g.Full(), nil
	}, func(err error) error {
		return fmt.Errorf("waiting for the agents' group to be back to full strength: still %s after %s: %w", g, since(start), err)
	})
	return time.Since(start), g, err
}

// LiveAgentAddresses are the private addresses of the running agents of
// cluster clusterID, found by tag, sorted: what the stack output
// agentPrivateIps held before the agents were a group's, whose instances
// no output can name.
func (c *Client) LiveAgentAddresses(ctx context.Context, clusterID string) ([]string, error) {
	live, err := c.LiveAgents(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, in := range live {
		if in.State == "running" && in.PrivateIP != "" {
			ips = append(ips, in.PrivateIP)
		}
	}
	slices.Sort(ips)
	return ips, nil
}
