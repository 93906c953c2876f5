package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The partition drill cuts an agent off from the masters through the EC2
// API alone: its security groups are swapped for a drill group that admits
// the ELB on the app port (the ELB's traffic and its health checks) and
// lets nothing out, so the Mesos master's pings, ZooKeeper and the volume
// driver's calls all fail while the ELB still reaches the app. Security
// groups are stateful, so the answers to the ELB's requests leave although
// no egress rule exists (Amazon VPC User Guide, "Security group rules":
// "responses to allowed inbound traffic are allowed to leave").
//
// The swap uses ModifyInstanceAttribute with GroupId.N, which replaces the
// groups of the instance's network interface and needs only the instance
// id and ec2:ModifyInstanceAttribute. ModifyNetworkInterfaceAttribute does
// the same per interface and is what an instance with several interfaces
// needs (API reference, ModifyInstanceAttribute: "can result in an error if
// the instance has more than one ENI"); marathon-ha's agents have one
// (components/instance.go sets only VpcSecurityGroupIds), so the drill
// stays on the instance call and refuses an instance with more than one
// interface rather than guess which to cut.
//
// The ELB's own group lets traffic out only to the agents' group
// (components/network.go, rule elb-to-agents; the AWS provider removes a
// new group's default allow-all egress), and an egress rule that names a
// group matches only its members, so the isolated instance, in the drill
// group alone, would be out of the ELB's reach too. The drill therefore
// also lets the ELB's group out to the drill group on the app port, and
// revokes that rule before deleting the drill group (a rule that names a
// group keeps it from being deleted: API reference, DeleteSecurityGroup).
//
// The drill group records the instance, its original groups and the ELB's
// group in its own tags (facts.TagDrillInstance,
// facts.TagDrillOriginalGroups, facts.TagDrillELBGroup), written when the
// group is created, before the swap: a run that dies mid-drill leaves a
// group that says how to undo it, which the sweep reads (SweepPartitions).

// GroupsAPI is the part of *ec2.Client the partition drill uses on top of
// EC2API.
type GroupsAPI interface {
	CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// groupsOf returns api's security-group calls, or why it has none.
func groupsOf(api EC2API) (GroupsAPI, error) {
	g, ok := api.(GroupsAPI)
	if !ok {
		return nil, fmt.Errorf("the EC2 client %T cannot manage security groups: the partition drill needs an *ec2.Client", api)
	}
	return g, nil
}

// PartitionSpec is what the drill group lets in: TCP on AppPort from the
// ELB's security group (the stack outputs appPort and elbSecurityGroupId).
type PartitionSpec struct {
	AppPort    int
	ELBGroupID string
}

func (p PartitionSpec) validate() error {
	var bad []string
	if p.AppPort < 1 || p.AppPort > 65535 {
		bad = append(bad, fmt.Sprintf("app port %d (stack output appPort)", p.AppPort))
	}
	if !strings.HasPrefix(p.ELBGroupID, "sg-") {
		bad = append(bad, fmt.Sprintf("ELB security group %q (stack output elbSecurityGroupId)", p.ELBGroupID))
	}
	if len(bad) > 0 {
		return fmt.Errorf("partitioning: %s: run `pulumi up` with this version of marathon-ha so the stack exports them", strings.Join(bad, " and "))
	}
	return nil
}

// Isolation is one isolated instance: its drill group, the groups it had,
// and when each step was seen done. Restore puts the groups back; it is
// safe to call more than once and from several goroutines.
type Isolation struct {
	InstanceID     string   `json:"instanceId"`
	VpcID          string   `json:"vpcId"`
	GroupID        string   `json:"drillGroupId"`
	OriginalGroups []string `json:"originalGroups"`
	// ELBGroupID is the ELB's group, let out to the drill group on AppPort
	// while the drill lasts.
	ELBGroupID string `json:"elbGroupId"`
	AppPort    int    `json:"appPort"`
	// SwapRequestedAt is just before the ModifyInstanceAttribute that cut
	// the instance off; SwappedAt when DescribeInstances first showed the
	// drill group alone.
	SwapRequestedAt time.Time `json:"swapRequestedAt"`
	SwappedAt       time.Time `json:"swappedAt"`
	// RestoredAt is when DescribeInstances first showed the original
	// groups again (zero if the instance was gone by then: Gone);
	// GroupDeletedAt when the drill group was deleted.
	RestoredAt time.Time `json:"restoredAt,omitzero"`
	// Gone says the instance was shutting down, terminated or unlisted
	// when the restore looked (GoneAt): its interface, and so its groups,
	// went with it.
	Gone           bool      `json:"instanceGone,omitempty"`
	GoneAt         time.Time `json:"goneAt,omitzero"`
	GroupDeletedAt time.Time `json:"groupDeletedAt,omitzero"`

	c        *Client
	progress io.Writer
	mu       sync.Mutex
	done     bool
}

// drillGroupName is the drill group's name: unique per instance, within
// CreateSecurityGroup's charset and 255 characters.
func drillGroupName(stack, instanceID string) string {
	return fmt.Sprintf("%s-%s-drill-%s", stack, facts.DrillPartition, instanceID)
}

// Isolate cuts the instance id, which must be a running agent of the stack
// in s, off from everything but the ELB. It creates the drill group (or
// reuses the one a dead run left for the same instance), lets in TCP on
// spec.AppPort from spec.ELBGroupID only, revokes the default allow-all
// egress, checks the group holds exactly that, swaps the instance's
// groups for it and checks DescribeInstances shows the swap. If anything
// fails after the group exists, what was done is undone before it returns
// (the error says if that failed too); on success the caller must Restore.
func (c *Client) Isolate(ctx context.Context, s Scope, id string, spec PartitionSpec, progress io.Writer) (iso *Isolation, err error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	api, err := groupsOf(c.api)
	if err != nil {
		return nil, err
	}
	doing := "isolating instance " + id
	in, err := c.describeOne(ctx, id, doing)
	if err != nil {
		return nil, err
	}
	if p := s.problems(in.Tags); len(p) > 0 {
		return nil, fmt.Errorf("%s: %w", doing, &ScopeError{InstanceID: id, Scope: s, Problems: p})
	}
	switch {
	case in.State != string(types.InstanceStateNameRunning):
		return nil, fmt.Errorf("%s: it is %s, not running: there is nothing to cut off", doing, orUnknown(in.State))
	case in.Interfaces > 1:
		return nil, fmt.Errorf("%s: it has %d network interfaces; ModifyInstanceAttribute would change only one, so the drill refuses it (cut it off by hand with ModifyNetworkInterfaceAttribute)", doing, in.Interfaces)
	case in.VpcID == "" || len(in.SecurityGroups) == 0:
		return nil, fmt.Errorf("%s: DescribeInstances shows no VPC or no security group for it", doing)
	}

	g, err := c.findDrillGroup(ctx, api, s, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	iso = &Isolation{InstanceID: id, VpcID: in.VpcID, OriginalGroups: in.SecurityGroups, ELBGroupID: spec.ELBGroupID, AppPort: spec.AppPort, c: c, progress: progress}
	if g != nil {
		// A dead run's group: its record of the original groups wins, as the
		// instance may still sit in the drill group.
		iso.GroupID, iso.OriginalGroups = aws.ToString(g.GroupId), originalGroups(tagMap(g.Tags))
		fmt.Fprintf(progress, "partition: reusing drill group %s left by an earlier run (original groups %s)\n", iso.GroupID, strings.Join(iso.OriginalGroups, ","))
		if len(iso.OriginalGroups) == 0 {
			return nil, fmt.Errorf("%s: drill group %s lacks the tag %s: restore the instance's groups by hand and delete the group", doing, iso.GroupID, facts.TagDrillOriginalGroups)
		}
	}
	defer func() {
		if err != nil {
			if uerr := iso.Restore(context.WithoutCancel(ctx)); uerr != nil {
				err = fmt.Errorf("%w; undoing it failed too: %w", err, uerr)
			}
			iso = nil
		}
	}()
	if g == nil {
		if iso.GroupID, err = c.createDrillGroup(ctx, api, s, in, spec); err != nil {
			return iso, fmt.Errorf("%s: %w", doing, err)
		}
		fmt.Fprintf(progress, "partition: created drill group %s in %s (original groups %s)\n", iso.GroupID, in.VpcID, strings.Join(iso.OriginalGroups, ","))
	}
	if err := c.shapeDrillGroup(ctx, api, iso.GroupID, spec); err != nil {
		return iso, fmt.Errorf("%s: %w", doing, err)
	}
	if _, err := api.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(spec.ELBGroupID),
		IpPermissions: []types.IpPermission{appFrom(spec.AppPort, iso.GroupID)}}); err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
		return iso, callError("AuthorizeSecurityGroupEgress", fmt.Sprintf("%s: letting the ELB's group %s out to %s on port %d", doing, spec.ELBGroupID, iso.GroupID, spec.AppPort), err)
	}
	iso.SwapRequestedAt = time.Now()
	if _, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{iso.GroupID}}); err != nil {
		return iso, callError("ModifyInstanceAttribute", doing+": swapping its security groups for "+iso.GroupID, err)
	}
	now, err := c.waitGroups(ctx, id, []string{iso.GroupID})
	if err != nil {
		return iso, fmt.Errorf("%s: %w", doing, err)
	}
	iso.SwappedAt = now
	fmt.Fprintf(progress, "partition: instance %s is in %s alone: cut off from the masters, reachable from the ELB on port %d\n", id, iso.GroupID, spec.AppPort)
	return iso, nil
}

// findDrillGroup returns the drill group a run left for the instance, by
// its tags, or nil.
func (c *Client) findDrillGroup(ctx context.Context, api GroupsAPI, s Scope, id string) (*types.SecurityGroup, error) {
	groups, err := drillGroups(ctx, api, []types.Filter{
		tagFilter(facts.TagStack, s.Stack), tagFilter(facts.TagClusterID, s.ClusterID), tagFilter(facts.TagDrillInstance, id)})
	if err != nil {
		return nil, err
	}
	switch len(groups) {
	case 0:
		return nil, nil
	case 1:
		return &groups[0], nil
	}
	return nil, fmt.Errorf("%d drill groups are tagged for instance %s; run the teardown sweep (rehearsal --destroy-run) or delete all but one by hand", len(groups), id)
}

// drillGroups lists the partition drill groups matching filters (and
// re-checks the drill tag the API filtered on).
func drillGroups(ctx context.Context, api GroupsAPI, filters []types.Filter) ([]types.SecurityGroup, error) {
	filters = append(filters, tagFilter(facts.TagDrill, facts.DrillPartition))
	var out []types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("DescribeSecurityGroups", "listing the partition drill's security groups", err)
		}
		for _, g := range page.SecurityGroups {
			if tagMap(g.Tags)[facts.TagDrill] == facts.DrillPartition {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func (c *Client) createDrillGroup(ctx context.Context, api GroupsAPI, s Scope, in Instance, spec PartitionSpec) (string, error) {
	tags := map[string]string{
		facts.TagProject: facts.Project, facts.TagStack: s.Stack, facts.TagClusterID: s.ClusterID,
		facts.TagName: drillGroupName(s.Stack, in.ID), facts.TagDrill: facts.DrillPartition,
		facts.TagDrillInstance: in.ID, facts.TagDrillOriginalGroups: strings.Join(in.SecurityGroups, ","),
		facts.TagDrillELBGroup: spec.ELBGroupID, facts.TagDrillAppPort: strconv.Itoa(spec.AppPort),
	}
	var sdkTags []types.Tag
	for _, k := range sortedKeys(tags) {
		sdkTags = append(sdkTags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(drillGroupName(s.Stack, in.ID)),
		Description:       aws.String(fmt.Sprintf("marathon-ha partition drill: %s cut off from the masters, open to the ELB on %d", in.ID, spec.AppPort)),
		VpcId:             aws.String(in.VpcID),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: sdkTags}},
	})
	if err != nil {
		return "", callError("CreateSecurityGroup", "creating the drill group in "+in.VpcID, err)
	}
	return aws.ToString(out.GroupId), nil
}

// shapeDrillGroup makes the group hold exactly one ingress rule (TCP on the
// app port from the ELB's group) and no egress rule, whatever it held
// before, and checks it.
func (c *Client) shapeDrillGroup(ctx context.Context, api GroupsAPI, id string, spec PartitionSpec) error {
	g, err := describeGroup(ctx, api, id)
	if err != nil {
		return err
	}
	want := appFrom(spec.AppPort, spec.ELBGroupID)
	if !hasRule(g.IpPermissions, spec) {
		if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{want}}); err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return callError("AuthorizeSecurityGroupIngress", fmt.Sprintf("letting the ELB's group %s into %s on port %d", spec.ELBGroupID, id, spec.AppPort), err)
		}
	}
	if len(g.IpPermissionsEgress) > 0 {
		if _, err := api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: g.IpPermissionsEgress}); err != nil {
			return callError("RevokeSecurityGroupEgress", "removing the egress rules of "+id, err)
		}
	}
	g, err = describeGroup(ctx, api, id)
	if err != nil {
		return err
	}
	extra := len(g.IpPermissions) != 1 || len(g.IpPermissions[0].UserIdGroupPairs)+len(g.IpPermissions[0].IpRanges)+len(g.IpPermissions[0].Ipv6Ranges)+len(g.IpPermissions[0].PrefixListIds) != 1
	if !hasRule(g.IpPermissions, spec) || extra || len(g.IpPermissionsEgress) > 0 {
		return fmt.Errorf("drill group %s does not hold exactly TCP %d from %s in and nothing out: ingress %s, egress %s; delete it by hand and run again",
			id, spec.AppPort, spec.ELBGroupID, describePerms(g.IpPermissions), describePerms(g.IpPermissionsEgress))
	}
	return nil
}

// appFrom is TCP on the app port with group as the peer.
func appFrom(port int, group string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(int32(port)), ToPort: aws.Int32(int32(port)),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(group)}}}
}

func hasRule(perms []types.IpPermission, spec PartitionSpec) bool {
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) != int32(spec.AppPort) || aws.ToInt32(p.ToPort) != int32(spec.AppPort) {
			continue
		}
		for _, pair := range p.UserIdGroupPairs {
			if aws.ToString(pair.GroupId) == spec.ELBGroupID {
				return true
			}
		}
	}
	return false
}

func describePerms(perms []types.IpPermission) string {
	if len(perms) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range perms {
		var peers []string
		for _, r := range p.IpRanges {
			peers = append(peers, aws.ToString(r.CidrIp))
		}
		for _, g := range p.UserIdGroupPairs {
			peers = append(peers, aws.ToString(g.GroupId))
		}
		parts = append(parts, fmt.Sprintf("%s %d-%d %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), strings.Join(peers, ",")))
	}
	return strings.Join(parts, "; ")
}

func describeGroup(ctx context.Context, api GroupsAPI, id string) (types.SecurityGroup, error) {
	out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		return types.SecurityGroup{}, callError("DescribeSecurityGroups", "reading security group "+id, err)
	}
	if len(out.SecurityGroups) != 1 {
		return types.SecurityGroup{}, fmt.Errorf("reading security group %s: DescribeSecurityGroups returned %d groups, want 1", id, len(out.SecurityGroups))
	}
	return out.SecurityGroups[0], nil
}

// errInstanceGone marks an instance that is shutting down, terminated or
// no longer listed: its network interface, and its groups, go with it.
var errInstanceGone = errors.New("the instance is gone")

// waitGroups polls DescribeInstances until the instance shows exactly
// want (in any order) and returns when it first did, or when it was first
// seen gone (errInstanceGone), within the Client's wait timeout.
func (c *Client) waitGroups(ctx context.Context, id string, want []string) (time.Time, error) {
	start := time.Now()
	var at time.Time
	var last []string
	err := c.pollUntil(ctx, func(ctx context.Context) (bool, error) {
		in, err := c.describeOne(ctx, id, "reading the security groups of instance "+id)
		at = time.Now()
		switch {
		case errorCode(err) == "InvalidInstanceID.NotFound":
			return true, errInstanceGone
		case err != nil:
			return true, err
		case in.State == string(types.InstanceStateNameShuttingDown) || in.State == string(types.InstanceStateNameTerminated):
			return true, errInstanceGone
		}
		last = in.SecurityGroups
		return sameSet(in.SecurityGroups, want), nil
	}, func(err error) error {
		return fmt.Errorf("instance %s still shows groups %v, not %v, after %s: %w", id, last, want, since(start), err)
	})
	switch {
	case errors.Is(err, errInstanceGone):
		return at, err
	case err != nil:
		return time.Time{}, err
	}
	return at, nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}

// Restore puts the instance's original groups back, checks
// DescribeInstances shows exactly them, then deletes the drill group,
// retrying while EC2 says it is still in use (a fenced instance holds it
// until it is terminated), all within facts.PartitionRestoreTimeout of ctx
// (whose cancellation it ignores: restoring is what an interrupt asks
// for). An instance that is shutting down or gone has nothing to restore.
// A second call after a successful one does nothing.
func (iso *Isolation) Restore(ctx context.Context) error {
	iso.mu.Lock()
	defer iso.mu.Unlock()
	if iso.done {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), facts.PartitionRestoreTimeout)
	defer cancel()
	c := iso.c
	api, err := groupsOf(c.api)
	if err != nil {
		return err
	}
	if iso.RestoredAt.IsZero() && !iso.Gone {
		if err := c.restoreGroups(ctx, api, iso); err != nil {
			return err
		}
	}
	if iso.GroupID != "" && iso.GroupDeletedAt.IsZero() {
		if err := revokeELBEgress(ctx, api, iso); err != nil {
			return err
		}
		if err := c.deleteDrillGroup(ctx, api, iso.GroupID, iso.progress); err != nil {
			return err
		}
		iso.GroupDeletedAt = time.Now()
	}
	iso.done = true
	return nil
}

func (c *Client) restoreGroups(ctx context.Context, api GroupsAPI, iso *Isolation) error {
	doing := fmt.Sprintf("restoring the security groups %s of instance %s", strings.Join(iso.OriginalGroups, ","), iso.InstanceID)
	in, err := c.describeOne(ctx, iso.InstanceID, doing)
	switch {
	case errorCode(err) == "InvalidInstanceID.NotFound" || err == nil && (in.State == string(types.InstanceStateNameShuttingDown) || in.State == string(types.InstanceStateNameTerminated)):
		iso.Gone, iso.GoneAt = true, time.Now()
		fmt.Fprintf(iso.progress, "partition: instance %s is %s: no groups to restore\n", iso.InstanceID, orUnknown(in.State))
		return nil
	case err != nil:
		return err
	}
	if !sameSet(in.SecurityGroups, iso.OriginalGroups) {
		_, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(iso.InstanceID), Groups: iso.OriginalGroups})
		if err != nil {
			if errorCode(err) == "IncorrectInstanceState" || errorCode(err) == "InvalidInstanceID.NotFound" {
				iso.Gone, iso.GoneAt = true, time.Now()
				return nil
			}
			return callError("ModifyInstanceAttribute", doing, err)
		}
	}
	at, err := c.waitGroups(ctx, iso.InstanceID, iso.OriginalGroups)
	switch {
	case errors.Is(err, errInstanceGone):
		iso.Gone, iso.GoneAt = true, at
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", doing, err)
	}
	iso.RestoredAt = at
	fmt.Fprintf(iso.progress, "partition: instance %s is back in %s\n", iso.InstanceID, strings.Join(iso.OriginalGroups, ","))
	return nil
}

// revokeELBEgress takes back the ELB group's rule to the drill group; a
// rule or group already gone is fine.
func revokeELBEgress(ctx context.Context, api GroupsAPI, iso *Isolation) error {
	if iso.ELBGroupID == "" || iso.AppPort == 0 {
		return nil
	}
	_, err := api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(iso.ELBGroupID),
		IpPermissions: []types.IpPermission{appFrom(iso.AppPort, iso.GroupID)}})
	if err != nil && errorCode(err) != "InvalidGroup.NotFound" && errorCode(err) != "InvalidPermission.NotFound" {
		return callError("RevokeSecurityGroupEgress", fmt.Sprintf("taking back the ELB group %s's egress to drill group %s", iso.ELBGroupID, iso.GroupID), err)
	}
	return nil
}

// deleteDrillGroup deletes the group, retrying on DependencyViolation until
// ctx ends; a group already gone is fine.
func (c *Client) deleteDrillGroup(ctx context.Context, api GroupsAPI, id string, progress io.Writer) error {
	start := time.Now()
	for {
		_, err := api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		switch {
		case err == nil:
			fmt.Fprintf(progress, "partition: deleted drill group %s\n", id)
			return nil
		case errorCode(err) == "InvalidGroup.NotFound":
			return nil
		case errorCode(err) != "DependencyViolation":
			return callError("DeleteSecurityGroup", "deleting drill group "+id, err)
		}
		if serr := ctxsleep.Sleep(ctx, c.poll); serr != nil {
			return fmt.Errorf("deleting drill group %s: still in use after %s (%w): %w; delete it once its instance left it (EC2 console, Security Groups)", id, since(start), serr, err)
		}
	}
}

// Partition isolates the instance (Isolate), runs during with the
// isolation, and restores it (Restore) whatever happens: during's error,
// ctx's end (a timeout or a signal that cancels it), or a panic, which is
// raised again once the groups are back. The error joins during's and the
// restore's.
func (c *Client) Partition(ctx context.Context, s Scope, id string, spec PartitionSpec, progress io.Writer, during func(context.Context, *Isolation) error) (iso *Isolation, err error) {
	iso, err = c.Isolate(ctx, s, id, spec, progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		p := recover()
		rerr := iso.Restore(ctx)
		if p != nil {
			if rerr != nil {
				panic(fmt.Sprintf("%v (restoring the security groups of %s after it failed too: %v)", p, id, rerr))
			}
			panic(p)
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring the partitioned instance %s: %w", id, rerr))
		}
	}()
	return iso, during(ctx, iso)
}

func originalGroups(tags map[string]string) []string {
	v := tags[facts.TagDrillOriginalGroups]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func tagMap(tags []types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}
