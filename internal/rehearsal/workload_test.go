package rehearsal_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// The rehearsal's writer runs from before the kill to the end of the watch;
// its summary and verdicts are in the failover report and the summary, and
// the judgement is the one kill-node uses.
func TestRehearsalWorkload(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if !r.Passed {
		t.Fatalf("problems %q\n%s", r.Problems, progress.String())
	}
	w := r.Failover.Workload
	if w == nil || !w.ReadBack || w.OK == 0 || len(w.Lost) != 0 || w.StartedSinceKillSeconds >= 0 || !w.ClientRecovered {
		t.Fatalf("workload %+v", w)
	}
	if j := r.Failover.Judgement; j == nil || !j.Passed || j.RTOLimitSeconds != r.RTOLimitSeconds {
		t.Errorf("judgement %+v, report limit %v", j, r.RTOLimitSeconds)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "  workload: writer "+w.Writer) || !strings.Contains(sum.String(), "held: "+workload.InvariantAcknowledged) {
		t.Errorf("summary:\n%s", sum.String())
	}
	if !strings.Contains(progress.String(), "rehearsal: writer "+w.Writer) {
		t.Errorf("progress does not introduce the writer:\n%s", progress.String())
	}
}

// A crash that loses acknowledged clicks older than the bound fails the
// rehearsal with the RPO.
func TestRehearsalCrashBeyondTheBound(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{Writeback: time.Minute}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, workload.InvariantAcknowledged+": violated: RPO ") {
		t.Fatalf("passed %v, problems %q", r.Passed, r.Problems)
	}
	if w := r.Failover.Workload; w.RPOSeconds <= cfg.Workload.Loss.Bound.Seconds() {
		t.Errorf("RPO %v within the bound %s", w.RPOSeconds, cfg.Workload.Loss.Bound)
	}
	assertTornDown(t, f, r)
}
