package failover_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// Judge holds a report to its budget plus the margin (or the override),
// records the judgement in it, and adds the workload's problems, one line
// each.
func TestJudge(t *testing.T) {
	b, err := failover.NewBudget(failover.DefaultSettings(), "rexray", failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	margin := 10 * time.Second
	over := (b.Total + margin + time.Second).Seconds()
	r := failover.Report{Recovered: true, RTOSeconds: over, Budget: b,
		Workload: &workload.Summary{ReadBack: true, Verdicts: []workload.Verdict{
			{Invariant: workload.InvariantAcknowledged, Judged: true, Detail: "RPO 3.000s exceeds the crash-loss bound 2s"},
			{Invariant: workload.InvariantNoDuplicate, Detail: "reported only"}}}}
	j := r.Judge(0, margin)
	if j.Passed || len(j.Problems) != 2 || !strings.Contains(j.Problems[0], "exceeds the limit "+(b.Total+margin).String()) ||
		!strings.Contains(j.Problems[1], "every acknowledged click is present: violated: RPO 3.000s") {
		t.Fatalf("judgement %+v", j)
	}
	if r.Judgement == nil || r.Judgement.RTOLimitSeconds != (b.Total+margin).Seconds() || !strings.Contains(r.Judgement.RTOLimitFrom, "+ margin 10s") {
		t.Errorf("recorded judgement %+v", r.Judgement)
	}
	sum := r.Summary()
	if !strings.Contains(sum, "verdict: FAILED") || strings.Count(sum, "\nproblem: ") != 2 {
		t.Errorf("summary:\n%s", sum)
	}
	// Within the override, and nothing else wrong: passed.
	r = failover.Report{Recovered: true, RTOSeconds: over, Budget: b}
	if j := r.Judge(time.Duration(over+1)*time.Second, margin); !j.Passed || len(j.Problems) != 0 || j.Problems == nil {
		t.Errorf("judgement %+v", j)
	}
}

// AddWorkload puts the client's outage in the clicks lane of the timeline,
// in time order beside the watch's events, and the summary in the JSON.
func TestAddWorkload(t *testing.T) {
	kill := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := failover.Report{Timeline: []failover.Event{
		{Name: failover.EventKill, Source: failover.SourceEC2, At: kill},
		{Name: failover.EventAppServed, Source: failover.SourceApp, At: kill.Add(20 * time.Second), SinceKillSeconds: 20},
	}}
	r.AddWorkload(workload.Summary{Writer: "0000beef", StartedSinceKillSeconds: -4,
		Outage: &workload.Gap{FromSinceKillSeconds: -0.1, ToSinceKillSeconds: 19.5, Seconds: 19.6}, ClientRecovered: true, ClientRTOSeconds: 19.5})
	var names []string
	for _, e := range r.Timeline {
		names = append(names, e.Name)
		if e.Source != failover.SourceOf(e.Name) {
			t.Errorf("%s in lane %q, SourceOf says %q", e.Name, e.Source, failover.SourceOf(e.Name))
		}
	}
	want := []string{failover.EventWritesStop, failover.EventKill, failover.EventWritesBack, failover.EventAppServed}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("timeline %q, want %q", names, want)
	}
	if e := r.Timeline[2]; !e.At.Equal(kill.Add(19500*time.Millisecond)) || e.Source != failover.SourceClicks {
		t.Errorf("writes back %+v", e)
	}
	raw, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(raw), `"workload":{"writer":"0000beef"`) {
		t.Errorf("JSON %s, %v", raw, err)
	}
}

// A crash may lose what its bound allows; a graceful kill nothing.
func TestLossAllowance(t *testing.T) {
	if a := failover.LossAllowance(failover.ModeCrash, time.Second); !a.Crash || a.Bound != time.Second {
		t.Errorf("crash: %+v", a)
	}
	if a := failover.LossAllowance(failover.ModeGraceful, time.Second); a.Crash {
		t.Errorf("graceful: %+v", a)
	}
}
