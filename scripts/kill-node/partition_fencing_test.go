package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// partitionRun cuts the app's agent off through kill-node's partition drill
// (the security-group swap that failovertest turns into a partition), with
// the click writer running through it, long enough for the masters'
// detection, the fence and the relaunch, and returns kill-node's exit code,
// its JSON report and the stand-ins' own record.
func partitionRun(t *testing.T, opts failovertest.Options) (int, failover.Report, failovertest.Record, []string, string) {
	t.Helper()
	opts.AgentWriteback = true
	c := failovertest.StartT(t, opts)
	r, rep := partitionDrill(t, c, "3s")
	// What the app serves now through the ELB: the replacement's page
	// cache over the volume.
	final, err := c.App().Read(context.Background())
	if err != nil {
		t.Fatalf("reading the clicks through the stand-in's ELB: %v", err)
	}
	return r.code, rep, c.Record(), final, r.stderr
}

// With fencing, a partition loses no acknowledged click and never has two
// app servers serving, judged on the stand-ins' own record as well as on
// the writer's read-back: the cut-off agent fences itself, the fencer
// terminates it, and only then does the volume move.
func TestPartitionWithFencingKeepsEveryClick(t *testing.T) {
	code, rep, rec, final, stderr := partitionRun(t, failovertest.Options{Fencing: true})
	if code != 0 || !rep.Recovered || rep.Workload == nil || !rep.Workload.ReadBack || len(rep.Workload.Lost) != 0 || rep.Workload.OK == 0 {
		t.Fatalf("exit %d, recovered %v, workload %+v\nstderr:\n%s", code, rep.Recovered, rep.Workload, stderr)
	}
	if rec.TwoServing() {
		t.Errorf("two app servers served at once: %+v\n%s", rec.Overlaps(), recordText(rec))
	}
	old := rep.KilledInstanceID
	// EC2's own record decides the order: the fencer's confirmation is
	// only its look at what EC2 did.
	self, okSelf := rec.First(failovertest.EventSelfFenced, old)
	fence, okFence := rec.First(failovertest.EventFenceRequested, old)
	terminated, okTerminated := rec.First(failovertest.EventInstanceTerminated, old)
	_, okConfirmed := rec.First(failovertest.EventFenceConfirmed, old)
	var attached failovertest.Event
	okAttached := false
	for _, e := range rec.Events {
		if e.Kind == failovertest.EventVolumeAttached && e.Instance != old {
			attached, okAttached = e, true
			break
		}
	}
	if !okSelf || !okFence || !okTerminated || !okConfirmed || !okAttached ||
		!self.At.Before(fence.At) || !fence.At.Before(terminated.At) || attached.At.Before(terminated.At) {
		t.Errorf("want self-fence, the fencer's terminate, EC2's termination, then the volume on the replacement:\n%s", recordText(rec))
	}
	// The report tells the fence from the nodes' consoles, each line at
	// the time the stand-in recorded it.
	at := map[string]time.Time{}
	for _, e := range rep.Timeline {
		if _, seen := at[e.Name]; !seen {
			at[e.Name] = e.At
		}
	}
	for name, recorded := range map[string]failovertest.Event{failover.EventSelfFenced: self, failover.EventFencerFencing: fence} {
		if got := at[name]; got.IsZero() || got.Sub(recorded.At).Abs() > 5*time.Millisecond {
			t.Errorf("report: %q at %s; the stand-in did it at %s", name, got, recorded.At)
		}
	}
	if at[failover.EventFencerFenced].Before(terminated.At) {
		t.Errorf("report: %q at %s, before EC2 terminated the instance at %s", failover.EventFencerFenced, at[failover.EventFencerFenced], terminated.At)
	}
	if lost := rec.Lost(final); len(lost) != 0 {
		t.Errorf("the record says %d acknowledged clicks are not on the volume: %v", len(lost), lost)
	}
}

// Without fencing the same partition shows the hazard the fencing removes:
// REX-Ray preempts the volume from under the cut-off agent, which keeps
// serving through the ELB, so two servers serve at once or acknowledged
// clicks are lost, and kill-node fails.
func TestPartitionWithoutFencingShowsTheHazard(t *testing.T) {
	code, rep, rec, _, stderr := partitionRun(t, failovertest.Options{})
	lost := rep.Workload != nil && len(rep.Workload.Lost) > 0
	if !rec.TwoServing() && !lost {
		t.Fatalf("no hazard without fencing: the model would prove nothing\n%s", recordText(rec))
	}
	if code != 1 || !strings.Contains(stderr, "FAILED") {
		t.Errorf("exit %d: kill-node passed a partition without fencing\nstderr:\n%s", code, stderr)
	}
}

// partitionDrill runs kill-node's partition drill on c for 400 ms with the
// watch bounded by timeout, and returns its result and JSON report.
func partitionDrill(t *testing.T, c *failovertest.Cluster, timeout string) (result, failover.Report) {
	t.Helper()
	outputs, _ := partitionOutputs(t, c)
	r := runWith(t, testDeps(c, ""), "--outputs", outputs, "--yes", "--mode", "partition", "--heal-after", "400ms",
		"--interval", "5ms", "--timeout", timeout, "--flush-wait", "0", "--clicks", "2", "--json", "--rto-limit", "2s")
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return r, rep
}

func recordText(r failovertest.Record) string {
	var b strings.Builder
	for _, e := range r.Events {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// A fence that EC2 refuses moves nothing: the app stays down (safety over
// liveness), kill-node fails, and its report gives the fencer's reason
// from the master's console.
func TestPartitionWhoseFenceIsRefusedKeepsTheVolume(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Fencing: true, AgentWriteback: true})
	// The masters' role may not terminate: every TerminateInstances is
	// refused as IAM refuses it (EC2 API reference, Common Errors).
	c.EC2Server().Fail("TerminateInstances", -1, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	r, rep := partitionDrill(t, c, "1s")
	if r.code != 1 || rep.Recovered {
		t.Errorf("exit %d, recovered %v: a refused fence must leave the app down\nstderr:\n%s", r.code, rep.Recovered, r.stderr)
	}
	rec := c.Record()
	old := rep.KilledInstanceID
	for _, e := range rec.Events {
		if e.Kind == failovertest.EventVolumeAttached && e.Instance != old {
			t.Errorf("the volume moved to %s although the fence failed:\n%s", e.Instance, recordText(rec))
		}
	}
	if rec.TwoServing() {
		t.Errorf("two servers served:\n%s", recordText(rec))
	}
	failed := false
	for _, e := range rep.Timeline {
		if e.Name == failover.EventFencerFailed && strings.Contains(e.Detail, "UnauthorizedOperation") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("the report does not say the fence failed and why: %+v", rep.Timeline)
	}
}
