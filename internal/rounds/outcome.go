package rounds

import (
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// OutcomeOf is a round's outcome from its watch's report, judged against
// limit (failover.Report.Problems). The clicks written before the kill
// count as acknowledged and those not read back as lost; a workload
// through the fault (Report.Workload, when it read its clicks back) adds
// its acknowledged and lost clicks and gives the RPO.
func OutcomeOf(r failover.Report, limit time.Duration) Outcome {
	o := Outcome{Recovered: r.Recovered, RTOSeconds: r.RTOSeconds, Acknowledged: r.ClicksWritten, Lost: len(r.ClicksLost),
		Problems: append([]string{}, r.Problems(limit)...)}
	if w := r.Workload; w != nil && w.ReadBack {
		rpo := w.RPOSeconds
		o.Acknowledged += w.OK
		o.Lost += len(w.Lost)
		o.RPOSeconds = &rpo
	}
	return o
}
