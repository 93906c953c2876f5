package failover_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// The README's picture and the report it is drawn from: a stand-in run at
// the stack's timings, made standInScale times faster, given back at the
// stack's scale (failover.AtRealScale).
const (
	standInReport = "../../docs/failover-standin.json"
	standInDoc    = "../../docs/failover-standin.svg"
	// standInScale: 50 times faster, a 40 s recovery takes 0.8 s, and a
	// millisecond of the test machine's scheduling is 50 ms at real scale.
	standInScale = 50
)

// atScale shrinks a real duration to the stand-in's.
func atScale(d time.Duration) time.Duration { return d / standInScale }

// standInAtTheStacksTimings is the stand-in with the stack's failure
// detection (agent ping timeout x misses), ELB health-check interval and
// the budget's estimates of the relaunch, the REX-Ray volume move and the
// container start, all standInScale times faster. The stand-in's Marathon
// stages a task as soon as the agent is lost, so the relaunch estimate is
// part of the staging, with the move and the start; the volume's attach
// takes the move's estimate.
func standInAtTheStacksTimings() failovertest.Options {
	return failovertest.Options{
		VolumeDriver:    facts.VolumeDriverRexRay,
		DetectionDelay:  atScale(facts.AgentPingTimeout * facts.MaxAgentPingTimeouts),
		HealthInterval:  atScale(facts.ELBHealthInterval),
		StagingDuration: atScale(facts.MarathonRelaunchEstimate + facts.RexRayVolumeMoveEstimate + facts.ContainerStartEstimate),
		AttachDelay:     atScale(facts.RexRayVolumeMoveEstimate),
	}
}

// standInRun crashes the app's agent on the stand-in at the stack's
// timings and watches, sampling once a (real-scale) second; it returns
// the report at the stack's scale.
func standInRun(t *testing.T) failover.Report {
	t.Helper()
	c := failovertest.StartT(t, standInAtTheStacksTimings())
	written := writeClicks(t, c, 10)
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	var progress failovertest.Progress
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, Mode: failover.ModeCrash, KilledAt: killedAt, Written: written,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(),
		Interval: atScale(time.Second), Deadline: atScale(facts.FailoverWatchTimeout), Progress: &progress})
	if err != nil || !r.Recovered {
		t.Fatalf("not recovered (%v): %+v\n%s", err, r, progress.String())
	}
	b, err := failover.NewBudget(failover.DefaultSettings(), facts.VolumeDriverRexRay, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	real, err := failover.AtRealScale(r, standInScale, b)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

// A stand-in run at the stack's timings recovers in about the stack's
// budget once given back at the stack's scale, and its drawing says what
// it is. Under -update it becomes the README's picture and its report.
func TestSVGOfAStandInRunAtRealScale(t *testing.T) {
	r := standInRun(t)
	b := r.Budget
	// Within the budget plus the margin a rehearsal allows (its reason:
	// facts.RecoveryBudgetMargin), and not faster than the detection.
	detection := (facts.AgentPingTimeout * facts.MaxAgentPingTimeouts).Seconds()
	if r.RTOSeconds < detection || r.RTOSeconds > (b.Total+facts.RecoveryBudgetMargin).Seconds() {
		t.Errorf("RTO %.1fs at the stack's scale: want between the detection %gs and budget %gs + margin %s", r.RTOSeconds, detection, b.Seconds, facts.RecoveryBudgetMargin)
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	svg := drawSaved(t, raw)
	checkSVG(t, svg, r, failover.SVGOptions{})
	if *update {
		for path, b := range map[string][]byte{standInReport: raw, standInDoc: svg} {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Errorf("rewrote %s and %s from this stand-in run", standInReport, standInDoc)
	}
}

// drawSaved draws a saved report as failover-svg does.
func drawSaved(t *testing.T, raw []byte) []byte {
	t.Helper()
	r, o, err := failover.DecodeAnyReport(raw)
	if err != nil {
		t.Fatal(err)
	}
	var svg bytes.Buffer
	if err := failover.WriteSVG(&svg, r, o); err != nil {
		t.Fatal(err)
	}
	return svg.Bytes()
}

// The README's picture is exactly what the code draws from the committed
// report, and that report is a stand-in run at the stack's scale judged
// against the stack's own budget.
func TestStandInDocIsWhatTheCodeDraws(t *testing.T) {
	raw, err := os.ReadFile(standInReport)
	if err != nil {
		t.Fatalf("%v (regenerate: go test ./internal/failover -run SVGOfAStandInRunAtRealScale -update)", err)
	}
	want, err := os.ReadFile(standInDoc)
	if err != nil {
		t.Fatal(err)
	}
	if got := drawSaved(t, raw); !bytes.Equal(got, want) {
		t.Errorf("%s is not what the code draws from %s (regenerate: go test ./internal/failover -run SVGOfAStandInRunAtRealScale -update)", standInDoc, standInReport)
	}
	var r failover.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	b, err := failover.NewBudget(failover.DefaultSettings(), r.Budget.Driver, r.Mode)
	if err != nil {
		t.Fatal(err)
	}
	if r.TimeScale != standInScale || !r.Recovered || r.Budget.Seconds != b.Seconds || len(r.Budget.Steps) != len(b.Steps) {
		t.Errorf("the committed report: time scale %g, recovered %v, budget %gs; want %d, recovered, the stack's %gs", r.TimeScale, r.Recovered, r.Budget.Seconds, standInScale, b.Seconds)
	}
	if !strings.Contains(string(want), "times faster than the stack") {
		t.Errorf("%s does not say it is a stand-in run at another time scale", standInDoc)
	}
}

// AtRealScale multiplies every time by the scale and takes the stack's
// budget; it refuses a budget of another driver or mode, and a report
// given back already.
func TestAtRealScale(t *testing.T) {
	r := fixedReport(t)
	b, err := failover.NewBudget(failover.DefaultSettings(), "rexray", failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	got, err := failover.AtRealScale(r, 10, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.TimeScale != 10 || got.RTOSeconds != r.RTOSeconds*10 || got.SampleIntervalSeconds != 10 || got.Budget.Seconds != b.Seconds {
		t.Errorf("scaled %+v", got)
	}
	for i, e := range got.Timeline {
		if e.SinceKillSeconds != r.Timeline[i].SinceKillSeconds*10 || !e.At.Equal(r.Timeline[0].At.Add(time.Duration(e.SinceKillSeconds*float64(time.Second)))) {
			t.Errorf("event %s at %v, +%gs", e.Name, e.At, e.SinceKillSeconds)
		}
	}
	if r.Timeline[1].SinceKillSeconds == got.Timeline[1].SinceKillSeconds {
		t.Error("the input report was changed")
	}
	graceful, _ := failover.NewBudget(failover.DefaultSettings(), "rexray", failover.ModeGraceful)
	if _, err := failover.AtRealScale(r, 10, graceful); err == nil {
		t.Error("a budget of another mode accepted")
	}
	if _, err := failover.AtRealScale(got, 10, b); err == nil {
		t.Error("a report at real scale already scaled again")
	}
	if _, err := failover.AtRealScale(r, 1, b); err == nil {
		t.Error("time scale 1 accepted")
	}
}
