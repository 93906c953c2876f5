package failover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

func TestReportProblems(t *testing.T) {
	ok := failover.Report{Recovered: true, RTOSeconds: 31.5, ClicksWritten: 20}
	tests := []struct {
		name  string
		r     failover.Report
		limit time.Duration
		want  []string // substrings, one per problem
	}{
		{"recovered within the limit", ok, 45 * time.Second, nil},
		{"no limit", ok, 0, nil},
		{"over the limit", ok, 30 * time.Second, []string{"RTO 31.5s exceeds the limit 30s"}},
		{"clicks lost", failover.Report{Recovered: true, RTOSeconds: 20, ClicksWritten: 3, ClicksLost: []string{"7:3"}}, 45 * time.Second,
			[]string{"1 of 3 clicks lost: [7:3]"}},
		{"never came back", failover.Report{Error: "deadline 5m0s exceeded", ClicksWritten: 2, ClicksLost: []string{"7:1", "7:2"}}, 45 * time.Second,
			[]string{"did not come back through the ELB: deadline 5m0s exceeded", "2 of 2 clicks lost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.Problems(tc.limit)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q lacks %q", got[i], w)
				}
			}
		})
	}
}

func TestReportTextAndSummary(t *testing.T) {
	killed := time.Date(2017, 5, 1, 12, 0, 0, 0, time.UTC)
	r := failover.Report{Recovered: true, RTOSeconds: 31.25, NewHost: "10.42.1.102", ClicksWritten: 2, ClicksLost: []string{},
		Budget: failover.Budget{Seconds: 37, Driver: "rexray", Mode: failover.ModeCrash},
		Timeline: []failover.Event{{Name: failover.EventKill, At: killed},
			{Name: failover.EventAppServed, At: killed.Add(31250 * time.Millisecond), SinceKillSeconds: 31.25, Detail: "ping answered"}}}
	var sb strings.Builder
	if err := r.WriteTimeline(&sb); err != nil {
		t.Fatal(err)
	}
	want := "    +0.00s  terminate requested\n   +31.25s  ELB serves the app again: ping answered\n"
	if sb.String() != want {
		t.Errorf("timeline\n%q\nwant\n%q", sb.String(), want)
	}
	if got := r.Summary(); got != "recovered on 10.42.1.102: RTO 31.2s (budget 37.0s for rexray, crash)\nclicks: 2 written before the kill, 0 lost []\n" {
		t.Errorf("summary %q", got)
	}
	failed := failover.Report{Error: "deadline 10m0s exceeded", ClicksWritten: 1, ClicksLost: []string{"7:1"}}
	if got := failed.Summary(); !strings.HasPrefix(got, "NOT recovered: deadline 10m0s exceeded\n") || !strings.Contains(got, "1 lost [7:1]") {
		t.Errorf("summary %q", got)
	}
}
