package rehearsal_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const (
	tdStack   = "rehearsal-20261124-200509-ab01"
	tdCluster = "mha-1a2b3c4d"
	tdRegion  = "us-east-1"
	tdELB     = "rehearsal-20261-mha-1a2b3c4d"
)

// sweepStandIns starts an EC2 and an ELB stand-in; the Sweepers over them
// fail a test that asks for another region than wantRegion.
func sweepStandIns(t *testing.T, wantRegion string) (*ec2test.Server, *ec2test.ELBServer, rehearsal.Sweepers) {
	t.Helper()
	e, l := ec2test.NewServer(), ec2test.NewELBServer()
	t.Cleanup(e.Close)
	t.Cleanup(l.Close)
	return e, l, func(_ context.Context, region string) (*ec2ops.Sweeper, error) {
		if wantRegion != "" && region != wantRegion {
			t.Errorf("sweeper asked for region %q, want %q", region, wantRegion)
		}
		return ec2ops.NewSweeper(e.Client(), l.Client()), nil
	}
}

// cleanSweepers sweeps empty stand-ins: for the rehearsals whose stack
// stand-in (fakeStack) leaves nothing behind.
func cleanSweepers(t *testing.T) rehearsal.Sweepers {
	_, _, sw := sweepStandIns(t, "")
	return sw
}

func stackTags(role, name string) map[string]string {
	return map[string]string{facts.TagProject: facts.Project, facts.TagStack: tdStack, facts.TagClusterID: tdCluster,
		facts.TagRole: role, facts.TagName: name}
}

// seedCluster puts a stack's master and agents (each with its root volume)
// and its ELB into the stand-ins, and another stack's agent.
func seedCluster(e *ec2test.Server, l *ec2test.ELBServer, agents ...string) {
	add := func(id, role string) {
		e.AddInstance(ec2test.Instance{ID: id, Tags: stackTags(role, tdStack+"-"+id)})
		e.AddVolume(ec2test.Volume{ID: "vol-" + id, AttachedTo: id, Device: "/dev/sda1", DeleteOnTermination: true, Tags: stackTags(role, tdStack+"-"+id)})
	}
	add("i-0master", facts.RoleMaster)
	for _, a := range agents {
		add(a, facts.RoleAgent)
	}
	l.AddLoadBalancer(ec2test.LoadBalancer{Name: tdELB, Tags: stackTags(facts.RoleLB, tdStack+"-elb")})
	e.AddInstance(ec2test.Instance{ID: "i-0otherstack", Tags: map[string]string{facts.TagProject: facts.Project, facts.TagStack: "dev"}})
}

// stateStack stands in for an AutoStack whose exported state is state:
// its Destroy terminates the instances and deletes the ELB the state
// knows, as `pulumi destroy` does, and nothing else.
type stateStack struct {
	t          *testing.T
	state      rehearsal.StackState
	inspectErr error
	e          *ec2test.Server
	l          *ec2test.ELBServer
	onDestroy  func() // runs first in Destroy
	afterKill  func() // runs after the destroy terminated its instances

	mu                          sync.Mutex
	inspects, destroys, removes int
}

func (s *stateStack) Name() string    { return tdStack }
func (s *stateStack) Backend() string { return "file:///runs/" + tdStack + "/state" }
func (s *stateStack) ManualCleanup() []string {
	return []string{"pulumi destroy --yes --stack " + tdStack}
}
func (s *stateStack) Up(context.Context) (stackoutputs.Outputs, error) {
	return stackoutputs.Outputs{}, errors.New("not used")
}

func (s *stateStack) Inspect(context.Context) (rehearsal.StackState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inspects++
	return s.state, s.inspectErr
}

func (s *stateStack) Destroy(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroys++
	if s.onDestroy != nil {
		s.onDestroy()
	}
	var ids []string
	for _, id := range s.state.ResourceIDs {
		if strings.HasPrefix(id, "i-") {
			ids = append(ids, id)
		} else if id == tdELB {
			if _, err := s.l.Client().DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: &id}); err != nil {
				return err
			}
		}
	}
	if len(ids) > 0 {
		if _, err := s.e.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			return err
		}
	}
	if s.afterKill != nil {
		s.afterKill()
	}
	return nil
}

func (s *stateStack) Remove(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removes++
	return nil
}

func teardownConfig(s rehearsal.Stack, sw rehearsal.Sweepers, progress *bytes.Buffer) rehearsal.TeardownConfig {
	tc := rehearsal.TeardownConfig{Stack: s, Sweep: sw, SweepWait: 5 * time.Second, SweepPoll: 2 * time.Millisecond}
	if progress != nil {
		tc.Progress = progress
	}
	return tc
}

func pendingCreate(typ, name string) rehearsal.PendingOperation {
	return rehearsal.PendingOperation{Type: "creating", ResourceType: typ,
		URN: "urn:pulumi:" + tdStack + "::marathon-ha::marathon-ha:index:Cluster$" + typ + "::" + name}
}

// An up killed while creating the second agent and the ELB: the state has
// both as pending CREATEs, AWS has both. They are swept before the destroy
// (so they cannot hold the subnet), the destroy deletes what the state
// knows, the sweep after it finds nothing, and the report says all of it.
func TestTeardownSweepsWhatAPendingCreateLeft(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1", "i-0agent2")
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion,
		ResourceIDs: []string{"i-0agent1", "i-0master", "sg-0nodes", "subnet-0public", "vpc-0net"},
		Pending: []rehearsal.PendingOperation{
			pendingCreate("aws:ec2/instance:Instance", "cluster-agents-2"),
			pendingCreate("aws:elb/loadBalancer:LoadBalancer", "cluster-elb"),
			pendingCreate("random:index/randomId:RandomId", "cluster-id"),
		}}}
	st.onDestroy = func() {
		if in, _ := e.Instance("i-0agent2"); in.State != ec2test.StateTerminated {
			t.Errorf("the leftover agent is %s when the destroy starts: it would hold the subnet", in.State)
		}
		if slices.Contains(l.Names(), tdELB) {
			t.Error("the leftover ELB still exists when the destroy starts")
		}
	}
	var progress bytes.Buffer
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, &progress), r)

	if len(r.Problems) != 0 || !r.Destroyed || !r.Removed || st.removes != 1 {
		t.Fatalf("problems %q, destroyed %v, removed %v\nprogress:\n%s", r.Problems, r.Destroyed, r.Removed, progress.String())
	}
	lo := r.Leftovers
	if lo == nil || !lo.StateRead || len(lo.PendingOperations) != 3 || !lo.Clean {
		t.Fatalf("leftovers %+v", lo)
	}
	if b := lo.BeforeDestroy; b == nil || !slices.Equal(b.Terminated, []string{"i-0agent2"}) || !slices.Equal(b.LoadBalancersDeleted, []string{tdELB}) || len(b.Kept) != 2 {
		t.Errorf("sweep before the destroy %+v: want the leftover agent and ELB, and the master and agent 1 kept for the destroy", b)
	}
	if a := lo.AfterDestroy; a == nil || a.Found() || len(a.Left) != 0 || a.Scope != facts.TagProject+"="+facts.Project+", "+facts.TagStack+"="+tdStack {
		t.Errorf("sweep after the destroy %+v: the destroy took the rest", a)
	}
	for _, id := range []string{"i-0master", "i-0agent1", "i-0agent2"} {
		if in, _ := e.Instance(id); in.State != ec2test.StateTerminated {
			t.Errorf("%s is %s", id, in.State)
		}
	}
	if in, _ := e.Instance("i-0otherstack"); in.State != ec2test.StateRunning {
		t.Errorf("another stack's instance is %s", in.State)
	}
	if got := e.VolumeIDs(); len(got) != 0 {
		t.Errorf("volumes left: %v", got)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	for _, want := range []string{"pending operation in the state: aws:ec2/instance:Instance cluster-agents-2", "interrupted while creating",
		"sweep before the destroy", "1 instances terminated", "sweep after the destroy", "0 left"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestTeardownOfACleanDestroySweepsNothing(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1")
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, ClusterID: tdCluster,
		ResourceIDs: []string{"i-0agent1", "i-0master", tdELB}}}
	var progress bytes.Buffer
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, &progress), r)
	if len(r.Problems) != 0 || !r.Removed || r.Leftovers.BeforeDestroy != nil || !r.Leftovers.Clean || r.Leftovers.AfterDestroy.Found() {
		t.Fatalf("problems %q, leftovers %+v\n%s", r.Problems, r.Leftovers, progress.String())
	}
	if !strings.Contains(r.Leftovers.AfterDestroy.Scope, facts.TagClusterID+"="+tdCluster) {
		t.Errorf("scope %q: the cluster id from the outputs narrows the sweep", r.Leftovers.AfterDestroy.Scope)
	}
	// Only the destroy terminated anything; the sweep deleted nothing.
	if n, d := len(e.Calls("TerminateInstances")), len(l.Calls("DeleteLoadBalancer")); n != 1 || d != 1 || len(e.Calls("DeleteVolume")) != 0 {
		t.Errorf("TerminateInstances %d, DeleteLoadBalancer %d, DeleteVolume %d: want only the destroy's", n, d, len(e.Calls("DeleteVolume")))
	}
}

// A leftover the sweep cannot remove fails the teardown, names the
// instance, and keeps the stack so `--destroy-run` can sweep again.
func TestTeardownFailsWhenALeftoverCannotBeRemoved(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1", "i-0agent2")
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion,
		ResourceIDs: []string{"i-0agent1", "i-0master", tdELB},
		Pending:     []rehearsal.PendingOperation{pendingCreate("aws:ec2/instance:Instance", "cluster-agents-2")}}}
	denied := func(n int) {
		e.Fail("TerminateInstances", n, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	}
	denied(1)                            // the sweep before the destroy; the destroy's own call goes through
	st.afterKill = func() { denied(-1) } // and the sweep after it is refused
	var progress bytes.Buffer
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, &progress), r)

	if !r.Destroyed || r.Removed || st.removes != 0 {
		t.Errorf("destroyed %v removed %v (remove called %d times): a stack with leftovers is kept", r.Destroyed, r.Removed, st.removes)
	}
	p := strings.Join(r.Problems, "\n")
	for _, want := range []string{"the sweep after the destroy of stack " + tdStack, "still there after the sweep", "i-0agent2", "ec2:TerminateInstances", "--destroy-run"} {
		if !strings.Contains(p, want) {
			t.Errorf("problems lack %q:\n%s", want, p)
		}
	}
	if r.Leftovers.Clean || r.Leftovers.BeforeDestroyError == "" || len(r.Leftovers.AfterDestroy.Left) == 0 || len(r.ManualCleanup) == 0 {
		t.Errorf("leftovers %+v, manual clean-up %q", r.Leftovers, r.ManualCleanup)
	}
}

// A pending CREATE of a type the sweep does not remove is named as a
// problem; those that create nothing outside the state are not.
func TestTeardownNamesPendingCreatesItCannotSweep(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, Pending: []rehearsal.PendingOperation{
		pendingCreate("aws:ec2/vpc:Vpc", "cluster-network-vpc"),
		pendingCreate("random:index/randomId:RandomId", "cluster-id"),
		pendingCreate("command:local:Command", "cluster-app-deploy"),
		{Type: "updating", ResourceType: "aws:ec2/instance:Instance", URN: "urn:x::y::aws:ec2/instance:Instance::m", ID: "i-0m"},
	}}}
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, nil), r)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "aws:ec2/vpc:Vpc cluster-network-vpc") || !strings.Contains(r.Problems[0], "by hand") {
		t.Errorf("problems %q: want exactly the VPC named", r.Problems)
	}
	if len(r.ManualCleanup) == 0 || r.Leftovers.BeforeDestroy != nil || !r.Removed {
		t.Errorf("manual clean-up %q, leftovers %+v, removed %v", r.ManualCleanup, r.Leftovers, r.Removed)
	}
}

func TestTeardownWithoutStateOrRegion(t *testing.T) {
	e, l, sw := sweepStandIns(t, "eu-west-1")
	// The state cannot be read: the region given is used, and the failure named.
	st := &stateStack{t: t, e: e, l: l, inspectErr: errors.New("pulumi stack export: passphrase must be set")}
	tc := teardownConfig(st, sw, nil)
	tc.Region = "eu-west-1"
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), tc, r)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "reading the state of stack "+tdStack) || r.Leftovers.StateRead || !r.Leftovers.Clean {
		t.Errorf("problems %q, leftovers %+v", r.Problems, r.Leftovers)
	}
	// No region anywhere: the sweep cannot run, so the stack is kept.
	st = &stateStack{t: t, e: e, l: l}
	r = &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, nil), r)
	if r.Removed || st.removes != 0 || !strings.Contains(strings.Join(r.Problems, " "), "region is unknown") {
		t.Errorf("removed %v, problems %q", r.Removed, r.Problems)
	}
}

// A destroy that fails is not followed by a sweep: the state still
// manages resources, which the by-hand destroy must take first.
func TestTeardownAfterAFailedDestroy(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1")
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, ResourceIDs: []string{"i-0master"}}}
	st.onDestroy = func() {
		e.Fail("TerminateInstances", 1, http.StatusBadRequest, "DependencyViolation", "resource has a dependent object")
	}
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, nil), r)
	if r.Destroyed || r.Removed || r.Leftovers.AfterDestroy != nil || !strings.Contains(strings.Join(r.Problems, " "), "the destroy of stack "+tdStack+" failed") {
		t.Errorf("destroyed %v, removed %v, leftovers %+v, problems %q", r.Destroyed, r.Removed, r.Leftovers, r.Problems)
	}
	if in, _ := e.Instance("i-0agent1"); in.State != ec2test.StateRunning {
		t.Errorf("an instance of the state was swept after a failed destroy: %s", in.State)
	}
}

// The bounds add up the defaults, each pulumi command with its grace.
func TestBounds(t *testing.T) {
	rehearse, teardown := rehearsal.Config{FlushWait: facts.PageCacheFlushWait}.Bounds()
	wantTeardown := rehearsal.DefaultInspectTimeout + rehearsal.DefaultDestroyTimeout + rehearsal.DefaultRemoveTimeout +
		3*rehearsal.DefaultGrace + 2*(ec2ops.DefaultSweepWait+2*time.Minute)
	if teardown != wantTeardown || teardown != (rehearsal.TeardownConfig{}).Bound() {
		t.Errorf("teardown bound %s, want %s", teardown, wantTeardown)
	}
	if min := rehearsal.DefaultUpTimeout + rehearsal.DefaultAppReadyTimeout + facts.PageCacheFlushWait + rehearsal.DefaultTargetTimeout + rehearsal.DefaultWatchDeadline; rehearse <= min {
		t.Errorf("rehearse bound %s is not above the sum of its steps' bounds %s", rehearse, min)
	}
	if longer, _ := (rehearsal.Config{FlushWait: facts.PageCacheFlushWait, UpTimeout: time.Hour}).Bounds(); longer-rehearse != time.Hour-rehearsal.DefaultUpTimeout {
		t.Errorf("a longer up does not lengthen the bound: %s vs %s", longer, rehearse)
	}
}
