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
	"github.com/marathon-ha/marathon-ha/internal/rounds"
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
// teardown. On the stand-in cluster with fencing, the swap cuts the agent
// off from the masters (failovertest's groups hook): it fences itself, the
// fencer terminates it, the app comes back on the other agent with every
// acknowledged click, and the drill group is deleted.
func TestPartitionDrill(t *testing.T) {
	f := &partitionStack{fakeStack: &fakeStack{t: t, opts: failovertest.Options{Fencing: true, AgentWriteback: true}}}
	var progress failovertest.Progress
	cfg := testConfig(f.fakeStack, &progress)
	cfg.Stack = f
	drills, err := rehearsal.ParseDrills("partition")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Drills, cfg.HealAfter, cfg.WatchDeadline, cfg.RTOLimit = drills, 400*time.Millisecond, 3*time.Second, 2*time.Second
	var e *ec2test.Server
	var c *failovertest.Cluster
	f.onUp = func(cl *failovertest.Cluster) { e, c = cl.EC2Server(), cl }
	// The fence lines come from the consoles of the stand-in's masters and
	// of the cut-off agent.
	cfg.Clients.Consoles = func(context.Context, stackoutputs.Outputs) (ec2ops.ConsoleAPI, error) {
		return f.c().EC2Server().Client(), nil
	}
	r := rehearsal.Run(context.Background(), cfg)

	want := []string{rehearsal.StepUp, rehearsal.StepAppReady, rehearsal.StepWriteClicks, rehearsal.StepFlushWait,
		rehearsal.StepFindTarget, rehearsal.StepWorkloadLead, rehearsal.StepPartition, rehearsal.StepDestroy, rehearsal.StepRemove}
	if got := stepNames(r); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	fo := r.Failover
	if fo == nil || fo.Mode != failover.ModePartition || fo.Budget.Mode != failover.ModePartition || fo.Partition == nil ||
		!fo.Partition.InstanceGone || !fo.Partition.GroupDeleted || r.Target == nil || r.KilledAt == "" {
		t.Fatalf("report target %+v, failover %+v", r.Target, fo)
	}
	if !r.Passed || !fo.Recovered || fo.Workload == nil || len(fo.Workload.Lost) != 0 {
		t.Errorf("passed %v, recovered %v, problems %q\n%s", r.Passed, fo.Recovered, r.Problems, progress.String())
	}
	if in, _ := e.Instance(r.Target.InstanceID); in.State != ec2test.StateTerminated {
		t.Errorf("after the drill the cut-off agent is %s, want terminated by the fencer", in.State)
	}
	if n := len(e.Calls("ModifyInstanceAttribute")); n != 1 {
		t.Errorf("%d ModifyInstanceAttribute calls, want the swap only: the fence terminated the instance before the heal", n)
	}
	if c.Record().TwoServing() {
		t.Errorf("two app servers served at once during the drill")
	}
	fenced := false
	for _, ev := range fo.Timeline {
		fenced = fenced || ev.Name == failover.EventFencerFenced
	}
	if !fenced {
		t.Errorf("the report lacks the fencer's line from the master's console: %+v", fo.Timeline)
	}
	if want := (fo.Budget.Total + rehearsal.DefaultBudgetMargin).Seconds(); r.RTOLimitSeconds != 2 && r.RTOLimitSeconds != want {
		t.Errorf("limit %vs", r.RTOLimitSeconds)
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

// Restore brings the partition stack back to full strength and keeps the
// outputs the drill needs.
func (p *partitionStack) Restore(ctx context.Context) (stackoutputs.Outputs, error) {
	o, err := p.fakeStack.Restore(ctx)
	if err != nil {
		return o, err
	}
	e := p.c().EC2Server()
	for _, g := range e.SecurityGroups() {
		if g.Name == "elb" {
			o.ELBSecurityGroupID = g.ID
		}
	}
	o.AppPort = 8500
	return o, nil
}

// Rounds draw partitions too: crash, graceful kill and partition of the
// app's agent in the order the seed gives, on one stand-in cluster with
// fencing, each round recovering, the partitions and graceful kills with
// every acknowledged click kept.
func TestRoundsWithPartitions(t *testing.T) {
	f := &partitionStack{fakeStack: &fakeStack{t: t, opts: failovertest.Options{Fencing: true, AgentWriteback: true, Agents: 2}}}
	var progress failovertest.Progress
	cfg := testConfig(f.fakeStack, &progress)
	cfg.Stack = f
	drills := []string{string(failover.ModeCrash), string(failover.ModeGraceful), string(failover.ModePartition)}
	const n, seed = 6, 7
	cfg.Rounds, cfg.Seed, cfg.RoundDrills, cfg.Clicks = n, seed, drills, 2
	cfg.HealAfter, cfg.WatchDeadline, cfg.RTOLimit = 400*time.Millisecond, 3*time.Second, 2*time.Second
	r := rehearsal.Run(context.Background(), cfg)
	s := r.Rounds
	// A crash may lose what the agents' writeback bound allows (judged by
	// the rounds); a partition and a graceful kill lose nothing.
	if s == nil || !r.Passed || !s.OK() || len(s.Rounds) != n {
		t.Fatalf("rounds %+v, problems %q\n%s", s, r.Problems, progress.String())
	}
	plan := rounds.Plan(seed, drills, n)
	if !slices.Contains(plan, string(failover.ModePartition)) {
		t.Fatalf("seed %d draws no partition in %d rounds (%v): pick another seed", seed, n, plan)
	}
	for i, rf := range r.RoundFailovers {
		if rf.Failover.Mode != failover.ModeCrash && s.Rounds[i].Outcome.Lost != 0 {
			t.Errorf("round %d (%s) lost %d acknowledged clicks", i+1, rf.Failover.Mode, s.Rounds[i].Outcome.Lost)
		}
		if string(rf.Failover.Mode) != plan[i] {
			t.Errorf("round %d ran %s, the seed planned %s", i+1, rf.Failover.Mode, plan[i])
		}
		if rf.Failover.Mode == failover.ModePartition && (rf.Failover.Partition == nil || !rf.Failover.Partition.GroupDeleted) {
			t.Errorf("round %d: partition record %+v", i+1, rf.Failover.Partition)
		}
	}
	if f.c().Record().TwoServing() {
		t.Errorf("two app servers served at once in the rounds")
	}
	assertTornDown(t, f.fakeStack, r)
}
