package rehearsal_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// partitionStack is a fakeStack whose outputs carry the ELB's security
// group (seeded in the cluster's EC2) and the app port, as a stack made
// by this version does.
type partitionStack struct {
	*fakeStack
	agentGroups []string // the app's agent's groups before the drill
}

func (p *partitionStack) Up(ctx context.Context) (stackoutputs.Outputs, error) {
	o, err := p.fakeStack.Up(ctx)
	if err != nil {
		return o, err
	}
	e := p.c().EC2Server()
	agent, _ := e.Instance(p.c().Agents()[0].InstanceID)
	p.agentGroups = agent.SecurityGroups
	o.ELBSecurityGroupID = e.AddSecurityGroup(ec2test.SecurityGroup{Name: "elb", Description: "elb",
		Egress: []ec2test.Rule{{Protocol: "tcp", FromPort: 8500, ToPort: 8500, GroupID: agent.SecurityGroups[0]}}})
	o.AppPort = 8500
	return o, nil
}

// The partition drill runs like the others: its own step, the same report
// (target, kill time, failover report judged against its budget), and the
// teardown. The stand-in cluster has no partition physics yet (another part
// glues them to ec2test's groups hook), so nothing fails over and the run
// fails at the watch's deadline; what is held here is the drill's own part:
// the groups swapped, healed and restored, the drill group deleted.
func TestPartitionDrill(t *testing.T) {
	f := &partitionStack{fakeStack: &fakeStack{t: t}}
	var progress failovertest.Progress
	cfg := testConfig(f.fakeStack, &progress)
	cfg.Stack = f
	drills, err := rehearsal.ParseDrills("partition")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Drills, cfg.HealAfter, cfg.WatchDeadline = drills, 200*time.Millisecond, 800*time.Millisecond
	var e *ec2test.Server
	f.onUp = func(c *failovertest.Cluster) { e = c.EC2Server() }
	r := rehearsal.Run(context.Background(), cfg)

	want := []string{rehearsal.StepUp, rehearsal.StepAppReady, rehearsal.StepWriteClicks, rehearsal.StepFlushWait,
		rehearsal.StepFindTarget, rehearsal.StepWorkloadLead, rehearsal.StepPartition, rehearsal.StepDestroy, rehearsal.StepRemove}
	if got := stepNames(r); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	fo := r.Failover
	if fo == nil || fo.Mode != failover.ModePartition || fo.Budget.Mode != failover.ModePartition || fo.Partition == nil ||
		!fo.Partition.Restored || !fo.Partition.GroupDeleted || r.Target == nil || r.KilledAt == "" {
		t.Fatalf("report target %+v, failover %+v", r.Target, fo)
	}
	if in, _ := e.Instance(r.Target.InstanceID); !slices.Equal(in.SecurityGroups, f.agentGroups) {
		t.Errorf("after the drill the agent is in %v, want %v", in.SecurityGroups, f.agentGroups)
	}
	if n := len(e.Calls("ModifyInstanceAttribute")); n != 2 {
		t.Errorf("%d ModifyInstanceAttribute calls, want the swap and the restore", n)
	}
	if r.Passed || !hasProblem(r, "did not come back") {
		t.Errorf("passed %v, problems %q: without partition physics the app does not move", r.Passed, r.Problems)
	}
	if want := (fo.Budget.Total + rehearsal.DefaultBudgetMargin).Seconds(); r.RTOLimitSeconds != want {
		t.Errorf("limit %vs, want the partition budget plus margin %vs", r.RTOLimitSeconds, want)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "killed "+r.Target.InstanceID) {
		t.Errorf("summary:\n%s", sum.String())
	}
	assertTornDown(t, f.fakeStack, r)
}

func TestParsePartitionDrill(t *testing.T) {
	if got, err := rehearsal.ParseDrills("partition,leading-master"); err != nil || !slices.Equal(got, []string{"leading-master", "partition"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := rehearsal.ParseDrills("app-agent,partition"); err == nil || !strings.Contains(err.Error(), "separate rehearsals") {
		t.Errorf("app-agent with partition: %v", err)
	}
}

func TestPartitionIsADrillNotAMode(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Mode = failover.ModePartition
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "--drills partition") || f.ups != 0 {
		t.Errorf("passed %v, problems %q, ups %d", r.Passed, r.Problems, f.ups)
	}
}

// A drill group a dead run left, still holding an agent, is undone before
// the destroy: the agent gets its groups back and the group is deleted, so
// the VPC can go.
func TestTeardownUndoesADeadRunsPartition(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1")
	orig, _ := e.Instance("i-0agent1")
	elbGroup := e.AddSecurityGroup(ec2test.SecurityGroup{Name: "elb"})
	c := ec2ops.New(e.Client(), ec2ops.WithPollInterval(2*time.Millisecond))
	iso, err := c.Isolate(context.Background(), ec2ops.Scope{Stack: tdStack, ClusterID: tdCluster}, "i-0agent1",
		ec2ops.PartitionSpec{AppPort: 8500, ELBGroupID: elbGroup}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The run dies here. The destroy then refuses to go on while the drill
	// group is there, as the VPC's deletion would.
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, ClusterID: tdCluster,
		ResourceIDs: []string{"i-0agent1", "i-0master", tdELB}}}
	st.onDestroy = func() {
		if _, ok := e.SecurityGroup(iso.GroupID); ok {
			t.Errorf("the destroy ran while drill group %s was still in the VPC", iso.GroupID)
		}
		if in, _ := e.Instance("i-0agent1"); !slices.Equal(in.SecurityGroups, orig.SecurityGroups) {
			t.Errorf("the destroy ran with the agent in %v, not its own %v", in.SecurityGroups, orig.SecurityGroups)
		}
	}
	var progress bytes.Buffer
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, &progress), r)
	lo := r.Leftovers
	if len(r.Problems) != 0 || !r.Removed || lo.Partitions == nil || !slices.Equal(lo.Partitions.GroupsDeleted, []string{iso.GroupID}) ||
		!slices.Equal(lo.Partitions.Restored, []string{"i-0agent1"}) {
		t.Fatalf("problems %q, partitions %+v\n%s", r.Problems, lo.Partitions, progress.String())
	}
	var sum bytes.Buffer
	lo.Summary(&sum)
	if !strings.Contains(sum.String(), "partition drill groups left by a dead run: 1 found, 1 instances restored, 1 deleted, 0 left") {
		t.Errorf("summary:\n%s", sum.String())
	}
	if g, ok := e.SecurityGroup(elbGroup); !ok || len(g.Egress) != 0 {
		t.Errorf("the ELB's group after the teardown: %+v", g)
	}
}
