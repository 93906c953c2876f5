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
