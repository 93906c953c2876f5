package rehearsal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// assertSweptAfter checks that the teardown got as far as the sweep
// after the destroy, and that it found the stand-ins clean.
func assertSweptAfter(t *testing.T, r *rehearsal.Report) {
	t.Helper()
	if r.Leftovers == nil || r.Leftovers.AfterDestroy == nil || !r.Leftovers.Clean {
		t.Errorf("leftovers %+v: want the sweep after the destroy run and clean", r.Leftovers)
	}
}

// A panic in one of the watch's sampling goroutines (here: the EC2 loop,
// as it reports the instance terminated) does not end the process with the
// stack up: the watch carries it to the rehearsal, which reports it with
// the loop's stack, destroys, sweeps and removes.
func TestPanicInAWatchLoopStillTearsDown(t *testing.T) {
	f := &fakeStack{t: t}
	progress := &failovertest.Progress{OnWrite: func(s string) {
		if strings.Contains(s, failover.EventInstanceDown) {
			panic("injected: the EC2 loop broke")
		}
	}}
	r := rehearsal.Run(context.Background(), testConfig(f, progress))
	if r.Passed || !hasProblem(r, "panicked in a watch loop: injected: the EC2 loop broke") || !hasProblem(r, "sampleEC2") {
		t.Fatalf("passed %v, problems %q: want the loop's panic named with its stack", r.Passed, r.Problems)
	}
	if f.terminatesAtDestroy != 1 {
		t.Errorf("%d terminations before the destroy, want the kill's 1", f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
	assertSweptAfter(t, r)
}

// A panic in the rehearsal's own path (a client factory) is reported and
// the stack still goes.
func TestPanicInTheMainPathStillTearsDown(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Clients.ELB = func(context.Context, stackoutputs.Outputs) (*mobycounter.LoadBalancer, error) {
		panic("injected: no ELB client")
	}
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "the rehearsal panicked: injected: no ELB client") {
		t.Fatalf("passed %v, problems %q", r.Passed, r.Problems)
	}
	if f.terminatesAtDestroy != 0 {
		t.Errorf("%d terminations: the panic came before the kill", f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
	assertSweptAfter(t, r)
}

// A teardown step that panics (the sweeper) fails like one that errs:
// the stack, destroyed, is kept for --destroy-run and the report says how.
func TestPanicInTheSweepKeepsTheStack(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Clients.Sweep = func(context.Context, string) (*ec2ops.Sweeper, error) { panic("injected: sweeper") }
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !r.Destroyed || r.Removed || f.rems != 0 || len(r.ManualCleanup) == 0 {
		t.Fatalf("passed %v, destroyed %v, removed %v (%d), manual %q", r.Passed, r.Destroyed, r.Removed, f.rems, r.ManualCleanup)
	}
	if !hasProblem(r, "the sweep after the destroy") || !hasProblem(r, "panicked: injected: sweeper") {
		t.Errorf("problems %q", r.Problems)
	}
}
