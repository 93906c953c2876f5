package rounds

import (
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// OutcomeOf is a round's outcome from its watch's report, judged against
// limit (failover.Report.Problems). The report counts the clicks written
// before the kill as acknowledged and those not read back as lost, and
// has no RPO: a workload through the fault, when the report carries one,
// sets Acknowledged, Lost and RPOSeconds from its own counts here.
func OutcomeOf(r failover.Report, limit time.Duration) Outcome {
	return Outcome{Recovered: r.Recovered, RTOSeconds: r.RTOSeconds, Acknowledged: r.ClicksWritten, Lost: len(r.ClicksLost),
		Problems: append([]string{}, r.Problems(limit)...)}
}
