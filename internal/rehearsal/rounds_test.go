package rehearsal_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/rounds"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Restore makes fakeStack a rehearsal.Restorer: the stand-in replaces the
// lost agent, as `pulumi up --refresh` does.
func (f *fakeStack) Restore(context.Context) (stackoutputs.Outputs, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores++
	f.cluster.ReplaceLostAgents()
	return f.cluster.Outputs(), nil
}

// ciRounds is how many rounds CI runs against the stand-ins.
const ciRounds = 100

// CI's hundred rounds: the app's agent killed 100 times in a row on one
// stand-in cluster, crash or graceful as the seed draws, the cluster
// restored between rounds; every round recovers on the agent the restore
// added, judged against its own mode's budget, and loses no click. The
// time the rounds took is in the test's output.
func TestHundredRoundsAgainstTheStandIns(t *testing.T) {
	if testing.Short() {
		t.Skip("100 rounds")
	}
	const seed = 20261206
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Rounds, cfg.Seed, cfg.Clicks = ciRounds, seed, 2
	start := time.Now()
	r := rehearsal.Run(context.Background(), cfg)
	elapsed := time.Since(start)
	s := r.Rounds
	if s == nil {
		t.Fatalf("no rounds in the report; problems %q", r.Problems)
	}
	t.Logf("%d rounds in %s (%s a round); RTO p50 %.3fs p95 %.3fs max %.3fs", len(s.Rounds), elapsed.Round(time.Millisecond),
		(elapsed / time.Duration(max(1, len(s.Rounds)))).Round(time.Millisecond), s.RTO.P50, s.RTO.P95, s.RTO.Max)
	if !r.Passed || !s.OK() {
		tail := progress.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		t.Fatalf("problems %q\nstopped %q\nprogress (tail):\n%s", r.Problems, s.Stopped, tail)
	}
	plan := rounds.Plan(seed, rehearsal.RoundDrills, ciRounds)
	// Each round acknowledges its 2 clicks before the kill and the
	// workload's clicks acknowledged through it.
	acked := 2 * ciRounds
	for _, rf := range r.RoundFailovers {
		if w := rf.Failover.Workload; w != nil {
			acked += w.OK
		}
	}
	if len(s.Rounds) != ciRounds || len(r.RoundFailovers) != ciRounds || s.Recovered != ciRounds || s.Lost != 0 || s.Acknowledged != acked || acked <= 2*ciRounds {
		t.Fatalf("summary %+v, %d round reports", s, len(r.RoundFailovers))
	}
	if f.restores != ciRounds-1 {
		t.Errorf("restored %d times, want after every round but the last", f.restores)
	}
	killed := map[string]bool{}
	for i, rf := range r.RoundFailovers {
		fo := rf.Failover
		if s.Rounds[i].Drill != plan[i] || string(fo.Mode) != plan[i] || string(fo.Budget.Mode) != plan[i] {
			t.Errorf("round %d: drill %s, killed %s, budget %s; the seed planned %s", i+1, s.Rounds[i].Drill, fo.Mode, fo.Budget.Mode, plan[i])
		}
		if killed[rf.Target.InstanceID] {
			t.Errorf("round %d killed %s again", i+1, rf.Target.InstanceID)
		}
		killed[rf.Target.InstanceID] = true
		if i > 0 && rf.Target.Host != r.RoundFailovers[i-1].Failover.NewHost {
			t.Errorf("round %d killed %s, but the app had moved to %s", i+1, rf.Target.Host, r.RoundFailovers[i-1].Failover.NewHost)
		}
	}
	if s.ByDrill["crash"] == 0 || s.ByDrill["graceful"] == 0 {
		t.Errorf("drills %v: both modes should be drawn in 100 rounds", s.ByDrill)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	for _, want := range []string{"100 of 100 run", "seed 20261206 (replay with --seed 20261206)", "RTO over 100 recovered rounds: p50", fmt.Sprintf("%d acknowledged, 0 lost", acked), "RPO over 100 rounds: p50 0.000s, p95 0.000s, max 0.000s"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if strings.Count(sum.String(), "\n") > 40 {
		t.Errorf("the summary of 100 rounds is %d lines: the rounds' steps belong in the JSON", strings.Count(sum.String(), "\n"))
	}
	assertTornDown(t, f, r)
}

// A run given no seed draws one and prints it; the same seed replays the
// same drills.
func TestRoundsPrintTheirSeedAndReplay(t *testing.T) {
	var seeds []uint64
	var drills [][]string
	for i := range 2 {
		f := &fakeStack{t: t}
		var progress failovertest.Progress
		cfg := testConfig(f, &progress)
		cfg.Rounds = 3
		if i == 1 {
			cfg.Seed = seeds[0]
		}
		r := rehearsal.Run(context.Background(), cfg)
		if !r.Passed || r.Rounds == nil {
			t.Fatalf("run %d: problems %q", i, r.Problems)
		}
		if r.Rounds.Seed == 0 || !strings.Contains(progress.String(), "replay with --seed ") {
			t.Errorf("run %d: seed %d, progress does not say how to replay", i, r.Rounds.Seed)
		}
		seeds = append(seeds, r.Rounds.Seed)
		var ds []string
		for _, rf := range r.RoundFailovers {
			ds = append(ds, string(rf.Failover.Mode))
		}
		drills = append(drills, ds)
		// Each round's steps say their round.
		for _, st := range r.Steps {
			if st.Name == rehearsal.StepKill && st.Round == 0 {
				t.Errorf("run %d: a kill outside any round: %+v", i, st)
			}
		}
	}
	if seeds[1] != seeds[0] || !slices.Equal(drills[0], drills[1]) || !slices.Equal(drills[0], rounds.Plan(seeds[0], rehearsal.RoundDrills, 3)) {
		t.Errorf("seeds %v, drills %v: the second run should replay the first", seeds, drills)
	}
}

// noRestore is a stack that cannot be brought back to full strength.
type noRestore struct{ rehearsal.Stack }

func TestRoundsNeedAStackThatCanBeRestored(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Stack, cfg.Rounds = noRestore{f}, 2
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "cannot be brought back to full strength") || f.terminatesAtDestroy != 0 {
		t.Errorf("passed %v, problems %q, %d terminations: want a refusal before any kill", r.Passed, r.Problems, f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
}

// A round that does not recover stops the rounds, fails the run, and the
// stack still goes.
func TestRoundsStopAtARoundThatDoesNotRecover(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{NeverRelaunch: true}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Rounds, cfg.WatchDeadline = 5, 300*time.Millisecond
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || r.Rounds == nil || len(r.Rounds.Rounds) != 1 || !hasProblem(r, "did not recover") || f.restores != 0 {
		t.Fatalf("passed %v, rounds %+v, restores %d, problems %q", r.Passed, r.Rounds, f.restores, r.Problems)
	}
	if r.Failover == nil || r.Failover.Recovered {
		t.Errorf("failover %+v", r.Failover)
	}
	assertTornDown(t, f, r)
}

// Each round after the first adds a restore (an up and its grace, the
// wait for full strength) and a round's steps to the run's bound, so the
// steps' deadline does not cut the rounds short.
func TestBoundsGrowWithRounds(t *testing.T) {
	one, teardown := rehearsal.Config{Rounds: 1}.Bounds()
	three, teardown3 := rehearsal.Config{Rounds: 3}.Bounds()
	perRound := rehearsal.DefaultUpTimeout + rehearsal.DefaultGrace + rehearsal.DefaultAppReadyTimeout + rehearsal.DefaultTargetTimeout + rehearsal.DefaultWatchDeadline
	if three-one < 2*perRound || teardown3 != teardown {
		t.Errorf("3 rounds bound %s, 1 round %s: want at least 2 x %s more, and the same teardown", three, one, perRound)
	}
	if zero, _ := (rehearsal.Config{}).Bounds(); zero != one {
		t.Errorf("no rounds %s, one round %s: want the same", zero, one)
	}
}
