package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Scope is a stack's identity, read from its outputs (stackoutputs.Stack
// and stackoutputs.ClusterID). Only instances tagged with both, and with
// the role (facts.TagRole), are in scope.
type Scope struct {
	Stack, ClusterID string
	// Role is the instances' role tag: facts.RoleAgent when empty, or
	// facts.RoleMaster to act on the stack's masters.
	Role string
}

// role is the role tag instances in scope carry.
func (s Scope) role() string {
	if s.Role == "" {
		return facts.RoleAgent
	}
	return s.Role
}

func (s Scope) validate() error {
	var missing []string
	if s.Stack == "" {
		missing = append(missing, "stack")
	}
	if s.ClusterID == "" {
		missing = append(missing, "cluster id")
	}
	if len(missing) > 0 {
		return fmt.Errorf("scope lacks the %s: read them from the stack outputs (%q, %q) of a stack that finished `pulumi up`",
			strings.Join(missing, " and "), "stack", "clusterId")
	}
	return nil
}

// problems lists why tags do not put an instance in scope, or nothing.
func (s Scope) problems(tags map[string]string) []string {
	var out []string
	check := func(key, want string) {
		got, ok := tags[key]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("tag %s is missing (want %q)", key, want))
		case got != want:
			out = append(out, fmt.Sprintf("tag %s is %q (want %q)", key, got, want))
		}
	}
	check(facts.TagStack, s.Stack)
	check(facts.TagClusterID, s.ClusterID)
	check(facts.TagRole, s.role())
	return out
}

// ErrNotInScope is matched (errors.Is) by every *ScopeError.
var ErrNotInScope = errors.New("instance is not an agent of this stack")

// ErrNoInstance is returned when no live instance has the address asked for.
var ErrNoInstance = errors.New("no such instance")

// ScopeError is the refusal to act on an instance that does not carry the
// stack's tags: the tools only ever terminate the stack's own agents.
type ScopeError struct {
	InstanceID string
	Scope      Scope
	Problems   []string // one per missing or mismatched tag
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("refusing instance %s: it is not %s %s of stack %q, cluster %q: %s; marathon-ha acts only on instances it tagged, so check that the stack outputs and the region are the right ones",
		e.InstanceID, article(e.Scope.role()), e.Scope.role(), e.Scope.Stack, e.Scope.ClusterID, strings.Join(e.Problems, ", "))
}

// article is the indefinite article of a role name.
func article(role string) string {
	if strings.HasPrefix(role, "a") {
		return "an"
	}
	return "a"
}

// Is makes errors.Is(err, ErrNotInScope) true.
func (e *ScopeError) Is(target error) bool { return target == ErrNotInScope }

// Instance is what the tools need to know of an EC2 instance.
type Instance struct {
	ID, PrivateIP, State, Role string
	Tags                       map[string]string
	LaunchTime                 time.Time
	// VpcID and SecurityGroups (group ids, in EC2's order) are where the
	// instance sits; Interfaces counts its network interfaces.
	VpcID          string
	SecurityGroups []string
	Interfaces     int
}

func fromSDK(in types.Instance) Instance {
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	out := Instance{
		ID:         aws.ToString(in.InstanceId),
		PrivateIP:  aws.ToString(in.PrivateIpAddress),
		Role:       tags[facts.TagRole],
		Tags:       tags,
		LaunchTime: aws.ToTime(in.LaunchTime),
		VpcID:      aws.ToString(in.VpcId),
		Interfaces: len(in.NetworkInterfaces),
	}
	for _, g := range in.SecurityGroups {
		out.SecurityGroups = append(out.SecurityGroups, aws.ToString(g.GroupId))
	}
	if in.State != nil {
		out.State = string(in.State.Name)
	}
	return out
}

func (c *Client) describeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, doing string) ([]Instance, error) {
	var out []Instance
	p := ec2.NewDescribeInstancesPaginator(c.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("DescribeInstances", doing, err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				out = append(out, fromSDK(i))
			}
		}
	}
	return out, nil
}

// FindByPrivateIP returns the pending or running instance with the private
// address ip, provided it is an instance of the stack in s with its role
// (an agent unless s.Role says master). An instance found
// at that address without the stack's tags is refused with a *ScopeError
// (errors.Is ErrNotInScope). Private addresses can repeat across VPCs, so
// every live instance at the address is considered and exactly one must be
// in scope.
func (c *Client) FindByPrivateIP(ctx context.Context, s Scope, ip string) (Instance, error) {
	if err := s.validate(); err != nil {
		return Instance{}, err
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return Instance{}, fmt.Errorf("finding the instance with private IP %q: not an IP address (EC2 filters also take wildcards, so only an exact address is accepted)", ip)
	}
	doing := fmt.Sprintf("finding the instance with private IP %s", addr)
	found, err := c.describeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("private-ip-address"), Values: []string{addr.String()}},
		{Name: aws.String("instance-state-name"), Values: []string{string(types.InstanceStateNamePending), string(types.InstanceStateNameRunning)}},
	}}, doing)
	if err != nil {
		return Instance{}, err
	}
	var in []Instance
	var refusals []error
	for _, i := range found {
		if p := s.problems(i.Tags); len(p) > 0 {
			refusals = append(refusals, &ScopeError{InstanceID: i.ID, Scope: s, Problems: p})
			continue
		}
		in = append(in, i)
	}
	switch {
	case len(in) == 1:
		return in[0], nil
	case len(in) > 1:
		ids := make([]string, len(in))
		for k, i := range in {
			ids[k] = i.ID
		}
		return Instance{}, fmt.Errorf("%s: %d %ss of stack %q carry that address (%s); refusing to guess which one: terminate by instance id instead",
			doing, len(in), s.role(), s.Stack, strings.Join(ids, ", "))
	case len(refusals) > 0:
		return Instance{}, fmt.Errorf("%s: %w", doing, errors.Join(refusals...))
	}
	return Instance{}, fmt.Errorf("%s: %w: no pending or running instance has that address in this region; it may already be terminated, or the region is not the stack's", doing, ErrNoInstance)
}

// describeOne returns the instance with the given id.
func (c *Client) describeOne(ctx context.Context, id, doing string) (Instance, error) {
	found, err := c.describeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, doing)
	if err != nil {
		return Instance{}, err
	}
	if len(found) != 1 {
		return Instance{}, fmt.Errorf("%s: ec2:DescribeInstances returned %d instances for id %s, want 1", doing, len(found), id)
	}
	return found[0], nil
}

// TerminateOptions say how Terminate ends an instance.
type TerminateOptions struct {
	// SkipOSShutdown bypasses the graceful OS shutdown that
	// TerminateInstances performs by default (its SkipOsShutdown parameter,
	// "Specifies whether to bypass the graceful OS shutdown process when
	// the instance is terminated. Default: false": aws-sdk-go-v2
	// service/ec2 v1.344.2 api_op_TerminateInstances.go; EC2 User Guide,
	// "Methods for terminating an instance": "Terminate with skip OS
	// shutdown"). The instance stops like a crashed machine: nothing is
	// flushed, nothing is unmounted. False is the API default: systemd
	// stops the services, the file systems are flushed and unmounted, then
	// the instance stops, tens of seconds later.
	SkipOSShutdown bool
}

// Terminate terminates the instance id with the API's default graceful OS
// shutdown; see TerminateWith.
func (c *Client) Terminate(ctx context.Context, s Scope, id string) error {
	_, err := c.TerminateWith(ctx, s, id, TerminateOptions{})
	return err
}

// TerminateWith terminates the instance id after checking, again, that it
// is an agent of the stack in s: the id may come from anywhere, the tags
// decide. It returns the time taken just before the TerminateInstances
// request, which is when a failover starts. An instance already shutting
// down or terminated is left alone, and the time is zero.
func (c *Client) TerminateWith(ctx context.Context, s Scope, id string, o TerminateOptions) (requestedAt time.Time, err error) {
	if err := s.validate(); err != nil {
		return time.Time{}, err
	}
	doing := "terminating instance " + id
	in, err := c.describeOne(ctx, id, doing)
	if err != nil {
		return time.Time{}, err
	}
	if p := s.problems(in.Tags); len(p) > 0 {
		return time.Time{}, fmt.Errorf("%s: %w", doing, &ScopeError{InstanceID: id, Scope: s, Problems: p})
	}
	if in.State == string(types.InstanceStateNameShuttingDown) || in.State == string(types.InstanceStateNameTerminated) {
		return time.Time{}, nil
	}
	input := &ec2.TerminateInstancesInput{InstanceIds: []string{id}}
	if o.SkipOSShutdown {
		input.SkipOsShutdown = aws.Bool(true)
	}
	requestedAt = time.Now()
	out, err := c.api.TerminateInstances(ctx, input)
	if err != nil {
		return time.Time{}, callError("TerminateInstances", doing, err)
	}
	for _, ch := range out.TerminatingInstances {
		if aws.ToString(ch.InstanceId) == id {
			return requestedAt, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: ec2:TerminateInstances did not report the instance among those terminating; check it with `aws ec2 describe-instances --instance-ids %s`", doing, id)
}

// Volume is what the failover watch needs of an EBS volume: where it is
// attached and how far.
type Volume struct {
	ID    string
	State string // creating, available, in-use, ...
	// AttachedTo and AttachState describe its attachment, "" when none:
	// attaching, attached, detaching or busy (EC2 API reference,
	// VolumeAttachment).
	AttachedTo, AttachState string
	DeleteOnTermination     bool
	Tags                    map[string]string
}

func volumeFromSDK(v types.Volume) Volume {
	out := Volume{ID: aws.ToString(v.VolumeId), State: string(v.State), Tags: map[string]string{}}
	for _, t := range v.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if len(v.Attachments) > 0 {
		a := v.Attachments[0] // an EBS volume without Multi-Attach has at most one
		out.AttachedTo, out.AttachState = aws.ToString(a.InstanceId), string(a.State)
		out.DeleteOnTermination = aws.ToBool(a.DeleteOnTermination)
	}
	return out
}

// AttachedVolumes returns the volumes attached to the instance id.
func (c *Client) AttachedVolumes(ctx context.Context, id string) ([]Volume, error) {
	doing := "listing the volumes attached to instance " + id
	var out []Volume
	p := ec2.NewDescribeVolumesPaginator(c.api, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{id}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("DescribeVolumes", doing, err)
		}
		for _, v := range page.Volumes {
			out = append(out, volumeFromSDK(v))
		}
	}
	return out, nil
}

// DescribeVolume returns the volume id as EC2 describes it now.
func (c *Client) DescribeVolume(ctx context.Context, id string) (Volume, error) {
	doing := "reading the state of volume " + id
	out, err := c.api.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		return Volume{}, callError("DescribeVolumes", doing, err)
	}
	if len(out.Volumes) != 1 {
		return Volume{}, fmt.Errorf("%s: ec2:DescribeVolumes returned %d volumes, want 1", doing, len(out.Volumes))
	}
	return volumeFromSDK(out.Volumes[0]), nil
}

// InstanceState returns the instance's state name (pending, running,
// shutting-down, terminated, stopping, stopped).
func (c *Client) InstanceState(ctx context.Context, id string) (string, error) {
	in, err := c.describeOne(ctx, id, "reading the state of instance "+id)
	if err != nil {
		return "", err
	}
	return in.State, nil
}

// WaitState polls the instance until it is in state, writing a line to
// progress (if not nil) whenever the state changes. It gives up when ctx
// ends or after the Client's wait timeout. A terminated instance that has
// vanished from the API (AWS keeps it visible for about an hour) counts as
// terminated.
func (c *Client) WaitState(ctx context.Context, id, state string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	last, got := "", ""
	return c.pollUntil(ctx, func(ctx context.Context) (bool, error) {
		var err error
		got, err = c.InstanceState(ctx, id)
		if err != nil {
			if state == string(types.InstanceStateNameTerminated) && errorCode(err) == "InvalidInstanceID.NotFound" {
				fmt.Fprintf(progress, "instance %s: gone from the API, so terminated (%s)\n", id, since(start))
				return true, nil
			}
			if ctx.Err() != nil {
				return false, fmt.Errorf("waiting for instance %s to be %s: still %s after %s: %w", id, state, orUnknown(last), since(start), ctx.Err())
			}
			return false, err
		}
		if got != last {
			fmt.Fprintf(progress, "instance %s: %s (%s)\n", id, got, since(start))
			last = got
		}
		if got == state {
			return true, nil
		}
		if got == string(types.InstanceStateNameTerminated) {
			return false, fmt.Errorf("waiting for instance %s to be %s: it is terminated and will never be %s", id, state, state)
		}
		return false, nil
	}, func(err error) error {
		return fmt.Errorf("waiting for instance %s to be %s: still %s after %s: %w; look at it with `aws ec2 describe-instances --instance-ids %s`",
			id, state, got, since(start), err, id)
	})
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// liveStates are the instance states in which an instance still exists for
// its owner: everything but shutting-down and terminated (EC2 API
// reference, InstanceState).
var liveStates = []string{string(types.InstanceStateNamePending), string(types.InstanceStateNameRunning),
	string(types.InstanceStateNameStopping), string(types.InstanceStateNameStopped)}

// LiveAgents returns the agents of cluster clusterID (tags facts.TagClusterID
// and facts.TagRole=agent) that are not shutting down or terminated. At
// `pulumi destroy` there are none left by the time the volume clean-up runs:
// every agent depends on it, so Pulumi deletes them first.
func (c *Client) LiveAgents(ctx context.Context, clusterID string) ([]Instance, error) {
	if clusterID == "" || strings.ContainsAny(clusterID, `*?\`) {
		return nil, fmt.Errorf("listing the live agents of a cluster: cluster id %q is empty or an EC2 filter wildcard", clusterID)
	}
	return c.describeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		tagFilter(facts.TagClusterID, clusterID),
		tagFilter(facts.TagRole, facts.RoleAgent),
		{Name: aws.String("instance-state-name"), Values: liveStates},
	}}, "listing the live agents of cluster "+clusterID)
}
