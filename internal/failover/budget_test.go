package failover_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func TestDefaultBudgetMeetsTheGoal(t *testing.T) {
	b, err := failover.NewBudget(failover.DefaultSettings(), facts.VolumeDriverRexRay, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total > facts.RecoveryBudgetGoal {
		t.Errorf("default budget %s exceeds the goal %s:\n%s", b.Total, facts.RecoveryBudgetGoal, b)
	}
	// Detection and the ELB come from the shared timings, not from numbers
	// of the budget's own.
	want := map[string]time.Duration{
		"Mesos declares the agent lost": facts.AgentPingTimeout * facts.MaxAgentPingTimeouts,
		"the ELB serves the app again":  facts.ELBHealthInterval * facts.ELBHealthyThreshold,
	}
	var sum time.Duration
	for _, s := range b.Steps {
		sum += s.Duration
		if s.Seconds != s.Duration.Seconds() {
			t.Errorf("step %q: seconds %g for %s", s.Name, s.Seconds, s.Duration)
		}
		if d, ok := want[s.Name]; ok && d != s.Duration {
			t.Errorf("step %q = %s, want %s", s.Name, s.Duration, d)
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("budget lacks steps %v", want)
	}
	if sum != b.Total || b.Seconds != b.Total.Seconds() {
		t.Errorf("total %s (%gs), steps sum to %s", b.Total, b.Seconds, sum)
	}
}

func TestBudgetFollowsTheStackSettings(t *testing.T) {
	s := failover.DefaultSettings()
	base, _ := failover.NewBudget(s, facts.VolumeDriverRexRay, failover.ModeCrash)
	// Mesos defaults: 15 s x 5 misses.
	s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts = 15, 5
	slow, err := failover.NewBudget(s, facts.VolumeDriverRexRay, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slow.Total-base.Total, 75*time.Second-facts.AgentPingTimeout*facts.MaxAgentPingTimeouts; got != want {
		t.Errorf("Mesos default detection adds %s, want %s", got, want)
	}
	s.ELBIntervalSeconds, s.ELBHealthyThreshold = 30, 10 // classic ELB defaults
	slower, _ := failover.NewBudget(s, facts.VolumeDriverRexRay, failover.ModeCrash)
	if got, want := slower.Total-slow.Total, 300*time.Second-facts.ELBHealthInterval*facts.ELBHealthyThreshold; got != want {
		t.Errorf("ELB default health check adds %s, want %s", got, want)
	}
	if !strings.Contains(slower.String(), "agent_ping_timeout 15s x max_agent_ping_timeouts 5") {
		t.Errorf("budget text does not name the settings:\n%s", slower)
	}
}

func TestBudgetRejectsMissingSettings(t *testing.T) {
	for name, s := range map[string]stackoutputs.FailoverSettings{
		"empty":        {},
		"no ping":      {MaxAgentPingTimeouts: 2, ELBIntervalSeconds: 5, ELBHealthyThreshold: 2},
		"no threshold": {AgentPingTimeoutSeconds: 5, MaxAgentPingTimeouts: 2, ELBIntervalSeconds: 5},
	} {
		if _, err := failover.NewBudget(s, facts.VolumeDriverRexRay, failover.ModeCrash); err == nil || !strings.Contains(err.Error(), stackoutputs.Failover) {
			t.Errorf("%s: %v, want an error naming the %s output", name, err, stackoutputs.Failover)
		}
	}
}

func TestBudgetRejectsUnknownDriverAndMode(t *testing.T) {
	if _, err := failover.NewBudget(failover.DefaultSettings(), "ebs", failover.ModeCrash); err == nil || !strings.Contains(err.Error(), `"ebs"`) || !strings.Contains(err.Error(), stackoutputs.VolumeDriver) {
		t.Errorf("driver ebs: %v", err)
	}
	if _, err := failover.NewBudget(failover.DefaultSettings(), facts.VolumeDriverRexRay, "reboot"); err == nil || !strings.Contains(err.Error(), "crash") {
		t.Errorf("mode reboot: %v", err)
	}
}

// Each driver and mode has its own budget: REX-Ray preempts, Flocker waits
// for the dead instance to let go of the volume after a crash, and a
// graceful kill adds the OS shutdown (after which the volume is free).
func TestBudgetPerDriverAndMode(t *testing.T) {
	all, err := failover.Budgets(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]failover.Budget{}
	// Two budgets may add up alike by chance (Flocker's graceful OS
	// shutdown and its partition's fence both come to 72 s); their steps
	// must differ.
	seen := map[string]string{}
	for _, b := range all {
		key := b.Driver + "/" + string(b.Mode)
		byKey[key] = b
		steps := fmt.Sprint(b.Steps)
		if other, dup := seen[steps]; dup {
			t.Errorf("budgets %s and %s have the same steps %s", other, key, steps)
		}
		seen[steps] = key
		if !strings.HasPrefix(b.String(), fmt.Sprintf("recovery budget %s (%s, %s):\n", b.Total, b.Driver, b.Mode)) {
			t.Errorf("%s prints as\n%s", key, b)
		}
		var sum time.Duration
		for _, s := range b.Steps {
			sum += s.Duration
		}
		if sum != b.Total {
			t.Errorf("%s: steps sum to %s, total %s", key, sum, b.Total)
		}
	}
	if want := len(facts.VolumeDrivers) * len(failover.Modes); len(all) != want || all[0].Driver != facts.VolumeDriverRexRay || all[0].Mode != failover.ModeCrash {
		t.Fatalf("budgets %d, first %s/%s; want %d, the default (rexray, crash) first", len(all), all[0].Driver, all[0].Mode, want)
	}
	rc, rg := byKey["rexray/crash"], byKey["rexray/graceful"]
	fc, fg := byKey["flocker/crash"], byKey["flocker/graceful"]
	// A crash's kill already terminated the instance; a partition's fence
	// terminates it.
	rp, fp, fenceTermination := byKey["rexray/partition"], byKey["flocker/partition"], facts.FenceEstimate-facts.FenceLookupEstimate
	if want := fenceTermination; rp.Total-rc.Total != want || fp.Total-fc.Total != want {
		t.Errorf("partition - crash = %s (REX-Ray), %s (Flocker), want the fence's termination %s", rp.Total-rc.Total, fp.Total-fc.Total, want)
	}
	if rg.Total-rc.Total != facts.OSShutdownEstimate {
		t.Errorf("REX-Ray graceful - crash = %s, want the OS shutdown %s", rg.Total-rc.Total, facts.OSShutdownEstimate)
	}
	if want := rc.Total - facts.RexRayVolumeMoveEstimate + facts.FlockerDetachWaitEstimate + facts.FlockerAttachEstimate; fc.Total != want {
		t.Errorf("Flocker crash %s, want %s: its detach wait and attach instead of REX-Ray's move", fc.Total, want)
	}
	if want := fc.Total - facts.FlockerDetachWaitEstimate + facts.OSShutdownEstimate; fg.Total != want {
		t.Errorf("Flocker graceful %s, want %s: the OS shutdown, no detach wait", fg.Total, want)
	}
	if fc.Total <= rc.Total {
		t.Errorf("Flocker crash %s is not longer than REX-Ray crash %s", fc.Total, rc.Total)
	}
	for key, b := range byKey {
		has := func(sub string) bool {
			for _, s := range b.Steps {
				if strings.Contains(s.Name, sub) {
					return true
				}
			}
			return false
		}
		if graceful := b.Mode == failover.ModeGraceful; has("OS shuts down") != graceful || b.Steps[0].Name == "" {
			t.Errorf("%s: OS shutdown step present %v, want %v", key, has("OS shuts down"), graceful)
		}
		if has("REX-Ray") != (b.Driver == facts.VolumeDriverRexRay) || has("Flocker attaches") != (b.Driver == facts.VolumeDriverFlocker) {
			t.Errorf("%s: volume steps %+v", key, b.Steps)
		}
		// After a crash and after the fence alike, the volume is on a
		// terminated instance that Flocker must see released.
		if has("waits for EC2") != (key == "flocker/crash" || key == "flocker/partition") {
			t.Errorf("%s: detach wait present %v", key, has("waits for EC2"))
		}
		if !has("fencer confirms") {
			t.Errorf("%s: no fence step: the volume may move only after the fence", key)
		}
	}
}

// The volume moves only after the fence (docs/fencing.md): every budget has
// the fence step between the detection and the volume move, and it follows
// facts.FenceEstimate when the detection is shorter than the termination.
func TestBudgetFencesBeforeTheVolumeMoves(t *testing.T) {
	all, err := failover.Budgets(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	index := func(b failover.Budget, sub string) int {
		for i, s := range b.Steps {
			if strings.Contains(s.Name, sub) {
				return i
			}
		}
		return -1
	}
	for _, b := range all {
		key := b.Driver + "/" + string(b.Mode)
		lost, fence, relaunch := index(b, "declares the agent lost"), index(b, "fencer confirms"), index(b, "Marathon relaunches")
		volume := index(b, "REX-Ray moves")
		if b.Driver == facts.VolumeDriverFlocker {
			volume = index(b, "Flocker")
		}
		if lost < 0 || fence != lost+1 || relaunch != fence+1 || volume <= relaunch {
			t.Errorf("%s: detection at %d, fence at %d, relaunch at %d, volume at %d; want them in that order:\n%s", key, lost, fence, relaunch, volume, b)
		}
		// The kill terminated the instance before the 12 s detection
		// began, longer than the termination's share of the fence; in a
		// partition nothing did, and the fence takes all of it.
		want := facts.FenceLookupEstimate
		if b.Mode == failover.ModePartition {
			want = facts.FenceEstimate
		}
		if d := b.Steps[fence].Duration; d != want {
			t.Errorf("%s: fence %s, want %s", key, d, want)
		}
	}
	// A detection shorter than the termination leaves the rest of it to
	// the fence.
	s := failover.DefaultSettings()
	s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts = 2, 3
	b, err := failover.NewBudget(s, facts.VolumeDriverRexRay, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	want := facts.FenceEstimate - 6*time.Second
	if d := b.Steps[index(b, "fencer confirms")].Duration; d != want {
		t.Errorf("with a 6 s detection the fence is %s, want %s (the fence %s less the detection)", d, want, facts.FenceEstimate)
	}
}
