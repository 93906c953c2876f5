package rehearsal_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
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
	var sum bytes.Buffer
	r.Summary(&sum)
	for _, w := range []string{"leading-master drill:", "killed master 1", "time without a Marathon leader", "app-agent drill:", "RTO "} {
		if !strings.Contains(sum.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, sum.String())
		}
	}
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
