package rehearsal_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// A run is judged against the budget of its own volume driver and kill
// mode plus the margin: the same RTO passes with Flocker and fails with
// REX-Ray, passes after a graceful kill and fails after a crash.
func TestJudgedAgainstItsOwnBudget(t *testing.T) {
	budgets, err := failover.Budgets(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	rtoOf := func(b failover.Budget) time.Duration { return b.Total + rehearsal.DefaultBudgetMargin }
	limits, totals := map[time.Duration]bool{}, map[time.Duration]bool{}
	byKey := map[string]failover.Budget{}
	for _, b := range budgets {
		limit, from := rehearsal.RTOLimit(b, 0, rehearsal.DefaultBudgetMargin)
		if limit != rtoOf(b) || !strings.Contains(from, b.Driver) || !strings.Contains(from, string(b.Mode)) || !strings.Contains(from, "margin 10s") {
			t.Errorf("%s/%s: limit %s (%s), want %s", b.Driver, b.Mode, limit, from, rtoOf(b))
		}
		limits[limit] = true
		totals[b.Total] = true
		byKey[b.Driver+"/"+string(b.Mode)] = b
	}
	// One limit per budget total (Flocker's graceful and partition budgets
	// add up alike by chance, 72 s, from different steps).
	if len(limits) != len(totals) || len(totals) < len(budgets)-1 {
		t.Errorf("limits %v are not one per driver and mode", limits)
	}
	// One RTO just over the default's limit.
	rto := rtoOf(byKey["rexray/crash"]) + time.Second
	for key, wantFail := range map[string]bool{"rexray/crash": true, "rexray/graceful": false, "flocker/crash": false, "flocker/graceful": false,
		"rexray/partition": false, "flocker/partition": false} {
		b := byKey[key]
		limit, _ := rehearsal.RTOLimit(b, 0, rehearsal.DefaultBudgetMargin)
		r := failover.Report{Recovered: true, RTOSeconds: rto.Seconds(), Budget: b}
		p := r.Problems(limit)
		if (len(p) > 0) != wantFail {
			t.Errorf("%s: RTO %s against limit %s: problems %q, want failing %v", key, rto, limit, p, wantFail)
		}
		if wantFail && !strings.Contains(p[0], "for rexray, crash") {
			t.Errorf("%s: problem %q does not name the budget's driver and mode", key, p[0])
		}
	}
	// --rto-limit overrides.
	if limit, from := rehearsal.RTOLimit(byKey["flocker/graceful"], 45*time.Second, rehearsal.DefaultBudgetMargin); limit != 45*time.Second || from != "--rto-limit 45s" {
		t.Errorf("override: %s (%s)", limit, from)
	}
	if rehearsal.DefaultBudgetMargin != facts.ELBHealthInterval+facts.AgentPingTimeout+time.Second {
		t.Errorf("margin %s is not the reason its comment gives", rehearsal.DefaultBudgetMargin)
	}
}

// A graceful rehearsal kills with the API's default OS shutdown, is judged
// against the graceful budget, and loses no buffered click: the shutdown
// flushed them.
func TestGracefulRehearsal(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{Buffered: true}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Mode = failover.ModeGraceful
	r := rehearsal.Run(context.Background(), cfg)
	if !r.Passed {
		t.Fatalf("problems %q\n%s", r.Problems, progress.String())
	}
	fo := r.Failover
	if r.Mode != failover.ModeGraceful || fo.Mode != failover.ModeGraceful || fo.Budget.Mode != failover.ModeGraceful || len(fo.ClicksLost) != 0 {
		t.Errorf("mode %q, report %q, budget %q, lost %v", r.Mode, fo.Mode, fo.Budget.Mode, fo.ClicksLost)
	}
	if want := fo.Budget.Total + rehearsal.DefaultBudgetMargin; r.RTOLimitSeconds != want.Seconds() {
		t.Errorf("limit %vs, want the graceful budget + margin %s", r.RTOLimitSeconds, want)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "graceful kill (limit") || !strings.Contains(sum.String(), "budget") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

// --rto-limit still overrides the budget, and a run over it fails.
func TestRTOLimitOverride(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.RTOLimit = time.Nanosecond
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || !hasProblem(r, "exceeds the limit 1ns") || r.RTOLimitFrom != "--rto-limit 1ns" {
		t.Errorf("passed %v, problems %q, limit from %q", r.Passed, r.Problems, r.RTOLimitFrom)
	}
}
