package rehearsal_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func TestBothDrillsInOneStack(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{Masters: 3}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	drills, err := rehearsal.ParseDrills("app-agent,leading-master")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Drills, cfg.SessionTimeout = drills, failovertest.DefaultSessionTimeout
	r := rehearsal.Run(context.Background(), cfg)
	if !r.Passed {
		t.Fatalf("rehearsal failed: %q\nprogress:\n%s", r.Problems, progress.String())
	}
	want := []string{rehearsal.StepUp, rehearsal.StepAppReady, rehearsal.StepWriteClicks, rehearsal.StepFlushWait,
		rehearsal.StepFindMaster, rehearsal.StepKillMaster, rehearsal.StepWatchMaster,
		rehearsal.StepFindTarget, rehearsal.StepWorkloadLead, rehearsal.StepKill, rehearsal.StepWatch, rehearsal.StepDestroy, rehearsal.StepRemove}
	if got := stepNames(r); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q: the leading master first, then the app's agent", got, want)
	}
	d := r.MasterDrill
	if d == nil || d.Failover == nil || !d.Failover.Recovered || d.Failover.AppFailures != 0 || d.Target == nil || d.Target.Index != 1 {
		t.Fatalf("master drill %+v: want master 1 killed, recovered, the app served throughout", d)
	}
	if d.Failover.LeaderlessSeconds < failovertest.DefaultSessionTimeout.Seconds() {
		t.Errorf("time without a Marathon leader %.3fs, want at least the session timeout", d.Failover.LeaderlessSeconds)
	}
	// Each drill is judged against its own budget.
	if want := d.Failover.Budget.Total + rehearsal.DefaultBudgetMargin; d.LimitSeconds != want.Seconds() || d.Failover.Budget.Target != failover.TargetMaster {
		t.Errorf("master drill limit %vs against budget %+v, want %vs", d.LimitSeconds, d.Failover.Budget, want.Seconds())
	}
	fo := r.Failover
	if fo == nil || !fo.Recovered || len(fo.ClicksLost) != 0 || fo.Budget.Target == failover.TargetMaster {
		t.Fatalf("agent drill %+v: want recovered with its agent budget and no click lost after the master's loss too", fo)
	}
	if f.terminatesAtDestroy != 2 {
		t.Errorf("TerminateInstances called %d times, want 2 (a master, then the agent)", f.terminatesAtDestroy)
	}
	assertSummaryHas(t, r, "leading-master drill:", "killed master 1", "time without a Marathon leader", "app-agent drill:", "RTO ")
	assertTornDown(t, f, r)
}

func TestMasterDrillNeedsThreeMasters(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Drills = []string{rehearsal.DrillLeadingMaster, rehearsal.DrillAppAgent}
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "needs masterCount 3") || f.terminatesAtDestroy != 0 {
		t.Fatalf("passed %v, problems %q, %d terminations: want a refusal before any kill", r.Passed, r.Problems, f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
}

func TestParseDrills(t *testing.T) {
	for in, want := range map[string][]string{"app-agent": {"app-agent"}, "leading-master": {"leading-master"},
		"app-agent,leading-master": {"leading-master", "app-agent"}, "leading-master, app-agent": {"leading-master", "app-agent"}} {
		got, err := rehearsal.ParseDrills(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseDrills(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "master", "app-agent,app-agent"} {
		if _, err := rehearsal.ParseDrills(bad); err == nil {
			t.Errorf("ParseDrills(%q) accepted", bad)
		}
	}
}

func TestDrillMasterCountIsAcceptedByTheProgram(t *testing.T) {
	cm := rehearsal.StackConfig("us-east-1", "203.0.113.7/32", facts.VolumeDriverRexRay, 2, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEm4W9m0ZpY0y5Qe4Ff9r3fSx3c2d3e4f5a6b7c8d9e0 x")
	rehearsal.SetMasterCount(cm, rehearsal.DrillMasterCount)
	cfg, err := config.Parse(func(key string) (string, bool) {
		if key != config.KeyRegion {
			key = facts.Project + ":" + key
		}
		v, ok := cm[key]
		return v.Value, ok
	})
	if err != nil {
		t.Fatalf("the program rejects the drill's config: %v", err)
	}
	if cfg.MasterCount != rehearsal.DrillMasterCount {
		t.Errorf("masterCount %d, want %d", cfg.MasterCount, rehearsal.DrillMasterCount)
	}
	one := rehearsal.StackConfig("us-east-1", "203.0.113.7/32", facts.VolumeDriverRexRay, 2, "k")
	rehearsal.SetMasterCount(one, 1)
	if _, ok := one[facts.Project+":"+config.KeyMasterCount]; ok {
		t.Error("masterCount set for one master: the program's default should stand")
	}
}

// The Mesos leader's drill kills the master whose Mesos master leads, here
// not the one whose Marathon leads, and judges it by that master's budget;
// the ZooKeeper leader's drill then kills the ZooKeeper leader's master
// among those left, on five masters (two master drills).
func TestMesosAndZooKeeperLeaderDrills(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{Masters: 5, MarathonLeader: 1, MesosLeader: 2, ZooKeeperLeader: 3}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Clients.ZooKeeper = func(stackoutputs.Outputs) failover.ZooKeeperProbe {
		return failover.NewZooKeeperProbe(f.c().ZooKeeperAddrs(), 200*time.Millisecond)
	}
	drills, err := rehearsal.ParseDrills("zookeeper-leader,app-agent,mesos-leader")
	if err != nil {
		t.Fatal(err)
	}
	if got := rehearsal.MasterCountFor(drills); got != 5 {
		t.Fatalf("MasterCountFor(%q) = %d, want 5: two masters lost, a quorum of three left", drills, got)
	}
	cfg.Drills, cfg.SessionTimeout = drills, failovertest.DefaultSessionTimeout
	r := rehearsal.Run(context.Background(), cfg)
	if !r.Passed {
		t.Fatalf("rehearsal failed: %q\nprogress:\n%s", r.Problems, progress.String())
	}
	mesos := r.MasterDrill
	if mesos == nil || mesos.Drill != rehearsal.DrillMesosLeader || mesos.Target == nil || mesos.Target.Index != 2 ||
		!mesos.Target.Held.Mesos || mesos.Target.Held.Marathon || mesos.Failover == nil || !mesos.Failover.Recovered {
		t.Fatalf("first master drill %+v: want the mesos-leader drill to kill master 2 (Mesos's leader, not Marathon's) and recover", mesos)
	}
	if mesos.Failover.NewMesosLeader == "" {
		t.Error("no new Mesos leader after the Mesos leader's loss")
	}
	if want := failover.MasterBudgetWith(facts.ZooKeeper, mesos.Target.BudgetCase()).Total; mesos.Failover.Budget.Total != want ||
		mesos.LimitSeconds != (want+rehearsal.DefaultBudgetMargin).Seconds() {
		t.Errorf("mesos-leader drill judged by %v (limit %vs), want the budget of what master 2 held, %v, plus margin", mesos.Failover.Budget.Total, mesos.LimitSeconds, want)
	}
	if len(r.MoreMasterDrills) != 1 {
		t.Fatalf("more master drills %+v, want the zookeeper-leader drill", r.MoreMasterDrills)
	}
	zk := r.MoreMasterDrills[0]
	if zk.Drill != rehearsal.DrillZooKeeperLeader || zk.Target == nil || zk.Target.Index != 3 || !zk.Target.Held.ZooKeeper ||
		zk.Target.ZooKeeperUnknown || zk.Failover == nil || !zk.Failover.Recovered {
		t.Fatalf("second master drill %+v: want the zookeeper-leader drill to kill master 3, known to lead ZooKeeper, and recover", zk)
	}
	if f.terminatesAtDestroy != 3 {
		t.Errorf("TerminateInstances called %d times, want 3 (two masters, then the agent)", f.terminatesAtDestroy)
	}
	assertSummaryHas(t, r, "mesos-leader drill:", "killed master 2", "zookeeper-leader drill:", "killed master 3", "app-agent drill:")
	assertTornDown(t, f, r)
}

// A master drill on the master that also leads Marathon kills it anyway,
// and says so.
func TestMesosLeaderDrillOnMarathonsLeaderSaysSo(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{Masters: 3}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Drills, cfg.SessionTimeout = []string{rehearsal.DrillMesosLeader}, failovertest.DefaultSessionTimeout
	r := rehearsal.Run(context.Background(), cfg)
	if !r.Passed || r.MasterDrill == nil || r.MasterDrill.Target == nil || r.MasterDrill.Target.Index != 1 {
		t.Fatalf("passed %v, problems %q, drill %+v: want master 1 killed", r.Passed, r.Problems, r.MasterDrill)
	}
	if !strings.Contains(progress.String(), "mesos-leader drill: master 1 also leads Marathon; killing it anyway") {
		t.Errorf("progress does not say the Mesos leader's master also leads Marathon:\n%s", progress.String())
	}
}

func TestTooManyMasterDrills(t *testing.T) {
	if _, err := rehearsal.ParseDrills("leading-master,mesos-leader,zookeeper-leader"); err == nil || !strings.Contains(err.Error(), "at most 2") {
		t.Errorf("three master drills: %v, want a refusal (7 masters would be needed)", err)
	}
	f := &fakeStack{t: t, opts: failovertest.Options{Masters: 3}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Drills = []string{rehearsal.DrillLeadingMaster, rehearsal.DrillMesosLeader}
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "needs masterCount 5") || f.terminatesAtDestroy != 0 {
		t.Fatalf("passed %v, problems %q, %d terminations: want two master drills refused on three masters before any kill", r.Passed, r.Problems, f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
}

// assertSummaryHas checks that r's summary says each of words.
func assertSummaryHas(t *testing.T, r *rehearsal.Report, words ...string) {
	t.Helper()
	var sum bytes.Buffer
	r.Summary(&sum)
	for _, w := range words {
		if !strings.Contains(sum.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, sum.String())
		}
	}
}
