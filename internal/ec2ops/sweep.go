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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// A sweep removes what a stack's tags still find in AWS when Pulumi's state
// cannot: a resource whose create was interrupted (a pending CREATE in the
// state) exists in AWS with the stack's tags but has no id in the state, so
// `pulumi destroy` leaves it billing (pulumi/pulumi#4265; pkg/backend
// snapshot.go even carries the pending CREATE into the next snapshot
// instead of acting on it). What bills and can be left that way:
//
//   - EC2 instances (master, agents), tagged by the program;
//   - EBS volumes tagged by the program: the instances' root volumes
//     (deleted with their instance, DeleteOnTermination) and any other;
//   - the classic ELB (sweep_elb.go), which is created alongside the
//     instances, not after them, so an interrupted up can leave it too.
//
//   - the app's volume, which the volume driver creates at run time with
//     the driver's tags, not the stack's: the cleanup-volumes command
//     deletes it at destroy, but a destroy that failed or never ran leaves
//     it. The sweep finds it by the driver's tag when the scope says it
//     (SweepScope.VolumeName, SweepScope.FlockerClusterUUID; sweep_volume.go).
//
// Network interfaces are not swept: the program creates none of its own;
// an instance's interface is deleted when it terminates, and the ELB's are
// managed by Elastic Load Balancing (requester-managed, the account cannot
// delete them) and released after DeleteLoadBalancer.

// SweepScope selects a stack's resources by the tags every resource of the
// program carries (components.Tags.For): facts.TagProject=facts.Project and
// facts.TagStack=Stack, plus facts.TagClusterID=ClusterID when it is known
// (the clusterId output; an up that never finished has none). Filters are
// ANDed (EC2 API reference, Filter), so the cluster id only narrows.
type SweepScope struct {
	Stack     string
	ClusterID string
	// VolumeName (the stack output volumeName) and FlockerClusterUUID also
	// select the app's run-time volume by the tag its driver gives it:
	// REX-Ray's Name=<volume name>, Flocker's flocker-cluster-id=<UUID>
	// (VolumeSelector). Either needs ClusterID, and a volume name must
	// contain it, so no other cluster's volume can match.
	VolumeName         string
	FlockerClusterUUID string
}

func (s SweepScope) validate() error {
	if s.Stack == "" {
		return errors.New("sweeping the stack's leftovers: no stack name; without it every marathon-ha resource in the region would match")
	}
	for name, v := range map[string]string{"stack name": s.Stack, "cluster id": s.ClusterID} {
		if strings.ContainsAny(v, `*?\`) {
			return fmt.Errorf("sweeping the stack's leftovers: the %s %q contains an EC2 filter wildcard (*, ? or \\), which could match other stacks", name, v)
		}
	}
	_, err := s.appVolumes()
	return err
}

func (s SweepScope) tags() map[string]string {
	t := map[string]string{facts.TagProject: facts.Project, facts.TagStack: s.Stack}
	if s.ClusterID != "" {
		t[facts.TagClusterID] = s.ClusterID
	}
	return t
}

func (s SweepScope) filters() []types.Filter {
	var fs []types.Filter
	for _, k := range sortedKeys(s.tags()) {
		fs = append(fs, tagFilter(k, s.tags()[k]))
	}
	return fs
}

// owns re-checks tags the API returned, so a filter the API ignored can
// never widen what is terminated or deleted.
func (s SweepScope) owns(tags map[string]string) bool {
	for k, v := range s.tags() {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (s SweepScope) String() string {
	parts := make([]string, 0, 3)
	for _, k := range sortedKeys(s.tags()) {
		parts = append(parts, k+"="+s.tags()[k])
	}
	str := strings.Join(parts, ", ")
	if s.VolumeName != "" {
		str += "; volume " + facts.TagName + "=" + s.VolumeName
	}
	if s.FlockerClusterUUID != "" {
		str += "; volumes " + facts.TagFlockerClusterID + "=" + s.FlockerClusterUUID
	}
	return str
}

// DefaultSweepWait bounds a sweep's wait for the instances it terminated to
// be terminated and for the volumes to detach or go: the same shutdown and
// detach as facts.VolumeCleanupWait covers.
const DefaultSweepWait = facts.VolumeCleanupWait

// SweepOptions tune Sweep.
type SweepOptions struct {
	// Keep are ids the stack's state still manages (instance and volume
	// ids, ELB names): `pulumi destroy` deletes them, the sweep leaves them.
	Keep []string
	// Wait bounds the wait for terminations and detaches (0: DefaultSweepWait).
	Wait time.Duration
	// Poll is the interval between re-reads (0: DefaultCleanupPoll).
	Poll time.Duration
	// Progress receives one line per step (nil: discarded).
	Progress io.Writer
}

func (o *SweepOptions) defaults() {
	if o.Wait <= 0 {
		o.Wait = DefaultSweepWait
	}
	if o.Poll <= 0 {
		o.Poll = DefaultCleanupPoll
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// SweepReport is what a sweep found and did, each resource described as
// "i-0... (running, Name=...)". Left is what was still there at the end:
// not empty means the sweep failed, and Sweep's error says so.
type SweepReport struct {
	Scope                string   `json:"scope"`
	Instances            []string `json:"instances"`
	Terminated           []string `json:"terminated"`
	Volumes              []string `json:"volumes"`
	VolumesDeleted       []string `json:"volumesDeleted"`
	LoadBalancers        []string `json:"loadBalancers"`
	LoadBalancersDeleted []string `json:"loadBalancersDeleted"`
	Kept                 []string `json:"kept,omitempty"`
	Left                 []string `json:"left"`
	Seconds              float64  `json:"seconds"`
	// Partitions is what the sweep of the partition drill's groups found
	// and did (SweepPartitions); nil when it could not run.
	Partitions *PartitionSweep `json:"partitionDrill,omitempty"`
}

// Found reports whether the sweep found anything to remove.
func (r SweepReport) Found() bool {
	n := len(r.Instances) + len(r.Volumes) + len(r.LoadBalancers)
	if r.Partitions != nil {
		n += len(r.Partitions.Groups)
	}
	return n > 0
}

// Sweeper removes a stack's leftovers from EC2 and classic ELB.
type Sweeper struct {
	ec2 EC2API
	elb ELBAPI
}

// NewSweeper returns a Sweeper over the two APIs, usually an *ec2.Client
// and an *elasticloadbalancing.Client of the stack's region.
func NewSweeper(ec2api EC2API, elbapi ELBAPI) *Sweeper { return &Sweeper{ec2: ec2api, elb: elbapi} }

// ConnectSweeper returns a Sweeper of region with the SDK's default
// configuration (see Connect); AWS_ENDPOINT_URL_EC2 and
// AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING point it at stand-ins.
func ConnectSweeper(ctx context.Context, region string) (*Sweeper, error) {
	cfg, err := loadConfig(ctx, region, "")
	if err != nil {
		return nil, err
	}
	return NewSweeper(ec2.NewFromConfig(cfg), newELBClient(cfg)), nil
}

// Sweep terminates the instances, deletes the ELBs and then the volumes in
// scope that are not in opts.Keep, waits (bounded by opts.Wait) for them to
// be gone, and looks again. It returns an error naming what is left, or
// why a call failed; the report says what was found and done either way.
func (s *Sweeper) Sweep(ctx context.Context, scope SweepScope, opts SweepOptions) (SweepReport, error) {
	start := time.Now()
	rep := SweepReport{Scope: scope.String(), Instances: []string{}, Terminated: []string{}, Volumes: []string{},
		VolumesDeleted: []string{}, LoadBalancers: []string{}, LoadBalancersDeleted: []string{}, Left: []string{}}
	if err := scope.validate(); err != nil {
		return rep, err
	}
	opts.defaults()
	out := opts.Progress
	keep := func(id string) bool { return slices.Contains(opts.Keep, id) }
	var errs []error
	done := func(err error) (SweepReport, error) {
		rep.Seconds = time.Since(start).Seconds()
		return rep, err
	}

	// First the partition drill's groups: a live instance still in one
	// gets its own groups back before anything else is decided.
	parts, err := s.SweepPartitions(ctx, scope, opts)
	rep.Partitions = &parts
	if err != nil {
		errs = append(errs, err)
	}
	instances, err := s.instances(ctx, scope, nil)
	if err != nil {
		return done(errors.Join(append(errs, err)...))
	}
	var toTerminate, waitFor []string
	for _, in := range instances {
		if keep(in.ID) {
			rep.Kept = append(rep.Kept, describeInstance(in))
			continue
		}
		rep.Instances = append(rep.Instances, describeInstance(in))
		if in.State == string(types.InstanceStateNameShuttingDown) {
			waitFor = append(waitFor, in.ID)
		} else {
			toTerminate = append(toTerminate, in.ID)
		}
	}
	lbs, err := s.loadBalancers(ctx, scope)
	if err != nil {
		errs = append(errs, err)
	}
	var toDelete []string
	for _, lb := range lbs {
		if keep(lb.name) {
			rep.Kept = append(rep.Kept, lb.describe())
			continue
		}
		rep.LoadBalancers = append(rep.LoadBalancers, lb.describe())
		toDelete = append(toDelete, lb.name)
	}
	fmt.Fprintf(out, "sweep (%s): %s and %s not in the state\n", rep.Scope,
		plural(len(rep.Instances), "instance"), plural(len(rep.LoadBalancers), "load balancer"))

	if len(toTerminate) > 0 {
		if err := s.terminate(ctx, toTerminate, &rep, out); err != nil {
			errs = append(errs, err)
		}
		waitFor = append(waitFor, rep.Terminated...)
	}
	for _, name := range toDelete {
		if _, err := s.elb.DeleteLoadBalancer(ctx, deleteLBInput(name)); err != nil {
			errs = append(errs, elbCallError("DeleteLoadBalancer", "deleting load balancer "+name, err))
			continue
		}
		fmt.Fprintf(out, "sweep: deleted load balancer %s\n", name)
		rep.LoadBalancersDeleted = append(rep.LoadBalancersDeleted, name)
	}

	if err := s.settle(ctx, scope, opts, keep, waitFor, &rep, out); err != nil {
		errs = append(errs, err)
	}
	if err := s.leftovers(ctx, scope, keep, &rep); err != nil {
		errs = append(errs, err)
	}
	rep.Left = append(rep.Left, parts.Left...)
	if len(rep.Left) > 0 {
		errs = append([]error{fmt.Errorf("%s still there after the sweep, billing: %s; remove them by hand (EC2 and ELB consoles, tag %s=%s)",
			plural(len(rep.Left), "resource"), strings.Join(rep.Left, "; "), facts.TagStack, scope.Stack)}, errs...)
	}
	if len(errs) > 0 {
		return done(fmt.Errorf("sweeping the leftovers of stack %s: %w", scope.Stack, errors.Join(errs...)))
	}
	return done(nil)
}

// liveOrStopping are the states of an instance that still exists or is
// about to stop existing: all but terminated (EC2 API reference,
// InstanceState).
var liveOrStopping = append(slices.Clone(liveStates), string(types.InstanceStateNameShuttingDown))

// instances lists the scope's instances that are not terminated; ids, when
// not nil, narrows the list (an instance-id filter, so one that vanished
// does not fail the call as InstanceIds would).
func (s *Sweeper) instances(ctx context.Context, scope SweepScope, ids []string) ([]Instance, error) {
	fs := append(scope.filters(), types.Filter{Name: aws.String("instance-state-name"), Values: liveOrStopping})
	if ids != nil {
		fs = append(fs, types.Filter{Name: aws.String("instance-id"), Values: ids})
	}
	c := &Client{api: s.ec2}
	found, err := c.describeInstances(ctx, &ec2.DescribeInstancesInput{Filters: fs}, "listing the instances tagged "+scope.String())
	if err != nil {
		return nil, err
	}
	var out []Instance
	for _, in := range found {
		if scope.owns(in.Tags) && in.State != string(types.InstanceStateNameTerminated) {
			out = append(out, in)
		}
	}
	return out, nil
}

// terminate terminates ids in one call.
func (s *Sweeper) terminate(ctx context.Context, ids []string, rep *SweepReport, out io.Writer) error {
	res, err := s.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil {
		return callError("TerminateInstances", "terminating instances "+strings.Join(ids, ", "), err)
	}
	for _, ch := range res.TerminatingInstances {
		id := aws.ToString(ch.InstanceId)
		fmt.Fprintf(out, "sweep: terminating instance %s\n", id)
		rep.Terminated = append(rep.Terminated, id)
	}
	return nil
}

// volumes lists the scope's volumes, the stack's by its tags and the app's
// by its driver's (sweep_volume.go), except those attached to kept
// instances (root volumes the destroy deletes with them, and the app's
// while its agent is the destroy's).
func (s *Sweeper) volumes(ctx context.Context, scope SweepScope, keep func(string) bool) ([]types.Volume, error) {
	var out []types.Volume
	list := func(filters []types.Filter, what string, owns func(types.Volume) bool) error {
		p := ec2.NewDescribeVolumesPaginator(s.ec2, &ec2.DescribeVolumesInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return callError("DescribeVolumes", "listing the volumes "+what, err)
			}
		next:
			for _, v := range page.Volumes {
				id := aws.ToString(v.VolumeId)
				if !owns(v) || keep(id) || slices.ContainsFunc(out, func(o types.Volume) bool { return aws.ToString(o.VolumeId) == id }) {
					continue
				}
				for _, a := range v.Attachments {
					if keep(aws.ToString(a.InstanceId)) {
						continue next
					}
				}
				out = append(out, v)
			}
		}
		return nil
	}
	if err := list(scope.filters(), "tagged "+scope.String(), func(v types.Volume) bool { return scope.owns(volumeTags(v)) }); err != nil {
		return nil, err
	}
	sels, err := scope.appVolumes()
	if err != nil {
		return nil, err
	}
	for _, sel := range sels {
		fs, err := sel.Filters()
		if err != nil {
			return nil, err
		}
		if err := list(fs, "of the app ("+sel.Driver+")", sel.owns); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// leftovers looks again and fills rep.Left with what is still there. A
// volume already "deleting" is on its way and no longer billed as in use;
// it is not counted (EC2 API reference, Volume: state).
func (s *Sweeper) leftovers(ctx context.Context, scope SweepScope, keep func(string) bool, rep *SweepReport) error {
	var errs []error
	ins, err := s.instances(ctx, scope, nil)
	if err != nil {
		errs = append(errs, err)
	}
	for _, in := range ins {
		if !keep(in.ID) {
			rep.Left = append(rep.Left, "instance "+describeInstance(in))
		}
	}
	vols, err := s.volumes(ctx, scope, keep)
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range vols {
		if v.State != types.VolumeStateDeleting && v.State != types.VolumeStateDeleted {
			rep.Left = append(rep.Left, "volume "+describeVolume(v))
		}
	}
	lbs, err := s.loadBalancers(ctx, scope)
	if err != nil {
		errs = append(errs, err)
	}
	for _, lb := range lbs {
		if !keep(lb.name) {
			rep.Left = append(rep.Left, "load balancer "+lb.describe())
		}
	}
	return errors.Join(errs...)
}

func describeInstance(in Instance) string {
	s := fmt.Sprintf("%s (%s", in.ID, orUnknown(in.State))
	if n := in.Tags[facts.TagName]; n != "" {
		s += ", Name=" + n
	}
	if in.Role != "" {
		s += ", role " + in.Role
	}
	return s + ")"
}
