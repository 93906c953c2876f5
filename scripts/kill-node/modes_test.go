package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// --mode graceful terminates with the API's default OS shutdown and prints
// the graceful budget; the report names the mode.
func TestGracefulMode(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--json", "--clicks", "2", "--mode", "graceful")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if calls := c.EC2Server().Calls("TerminateInstances"); len(calls) != 1 || calls[0].Params.Has("SkipOsShutdown") {
		t.Errorf("TerminateInstances calls %v, want one without SkipOsShutdown", calls)
	}
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Mode != failover.ModeGraceful || rep.Budget.Mode != failover.ModeGraceful || !rep.Recovered {
		t.Errorf("report mode %q, budget mode %q, recovered %v", rep.Mode, rep.Budget.Mode, rep.Recovered)
	}
	for _, want := range []string{"(rexray, graceful):", "the OS shuts down while the app still serves", "kill mode graceful", failover.EventOldAnswers} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, e := range rep.Timeline {
		if e.Source == "" {
			t.Errorf("event %q has no source", e.Name)
		}
	}
}

// The budget printed is the stack's driver's: Flocker's wait for the dead
// instance's volume appears, and it is longer than REX-Ray's.
func TestBudgetOfTheStacksDriver(t *testing.T) {
	budgets := map[string]time.Duration{}
	for _, driver := range []string{facts.VolumeDriverRexRay, facts.VolumeDriverFlocker} {
		c := failovertest.StartT(t, failovertest.Options{VolumeDriver: driver})
		r := runWith(t, testDeps(c, ""), "--outputs", outputsFile(t, c), "--dry-run")
		if r.code != 0 || !strings.Contains(r.stdout, "("+driver+", crash):") {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", driver, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, "Flocker waits for EC2") != (driver == facts.VolumeDriverFlocker) {
			t.Errorf("%s budget:\n%s", driver, r.stdout)
		}
		b, _ := failover.NewBudget(c.Outputs().Failover, driver, failover.ModeCrash)
		if !strings.Contains(r.stdout, "recovery budget "+b.Total.String()) {
			t.Errorf("%s: stdout lacks its budget %s:\n%s", driver, b.Total, r.stdout)
		}
		budgets[driver] = b.Total
	}
	if budgets[facts.VolumeDriverFlocker] <= budgets[facts.VolumeDriverRexRay] {
		t.Errorf("budgets %v", budgets)
	}
}

// A click the app acknowledged before the flush wait is on the volume when
// the crash comes, so it is never reported lost; without the wait, the
// crash takes what the page cache held, and kill-node says so.
func TestFlushWaitKeepsAcknowledgedClicks(t *testing.T) {
	const writeback = 100 * time.Millisecond // the stand-in kernel's expire + one flusher period
	c := failovertest.StartT(t, failovertest.Options{Writeback: writeback})
	// The writer judges the crash against agents that write back within
	// the stand-in kernel's period (with room for the scheduler).
	d := testDeps(c, "")
	d.workload.Loss.Bound, d.workload.Lead = 2*writeback, 4*writeback
	r := runWith(t, d, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "5", "--flush-wait", "300ms")...)
	if r.code != 0 || !strings.Contains(r.stdout, "5 written before the kill, 0 lost") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"waiting 300ms for the page cache", "left\n", "waited 300ms"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if i, j := strings.Index(r.stdout, "waited 300ms"), strings.Index(r.stdout, "terminate (crash) requested"); i < 0 || j < i {
		t.Errorf("the kill did not follow the wait:\n%s", r.stdout)
	}

	// The writer's lead now comes between the clicks and the kill, so the
	// page cache that never writes back is what keeps them unwritten.
	c = failovertest.StartT(t, failovertest.Options{Buffered: true})
	r = runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--clicks", "5", "--flush-wait", "0")...)
	if r.code != 1 || !strings.Contains(r.stderr, "5 of 5 clicks lost") {
		t.Errorf("no wait: exit %d, want 1 with the clicks lost\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "--flush-wait 0: no wait for the page cache") || !strings.Contains(r.stdout, "may lose the clicks the app acknowledged") {
		t.Errorf("no word on --flush-wait 0:\n%s", r.stdout)
	}
}
