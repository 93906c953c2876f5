package failover

import (
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// The workload's events: what the writer saw through the ELB, in the
// clicks lane.
const (
	EventWritesStop = "the writer's clicks stop being acknowledged" // the last acknowledged click before the outage
	EventWritesBack = "the writer's clicks are acknowledged again"  // the first after it: the RTO as the client saw it
)

// LossAllowance is what a kill in mode may lose of the acknowledged clicks:
// a crash those acknowledged less than bound before it (0:
// facts.CrashLossBound, the agents' writeback bound); a graceful kill
// none; a partition none either, since the cut-off agent's self-fence
// syncs the volume before the fencer's SkipOsShutdown can cut it
// (docs/fencing.md).
func LossAllowance(mode Mode, bound time.Duration) workload.Allowance {
	return workload.Allowance{Crash: mode == ModeCrash, Bound: bound}
}

// FaultAt is when the fault was requested: the kill's or the partition's
// event in the timeline (zero if neither is there).
func (r Report) FaultAt() time.Time {
	for _, e := range r.Timeline {
		if e.Name == EventKill || e.Name == EventPartitionRequested {
			return e.At
		}
	}
	return time.Time{}
}

// AddWorkload puts the writer's summary in the report, and its outage in
// the timeline beside the watch's events.
func (r *Report) AddWorkload(s workload.Summary) {
	r.Workload = &s
	killedAt := r.FaultAt()
	o := s.Outage
	if o == nil || killedAt.IsZero() {
		return
	}
	at := func(sec float64) time.Time { return killedAt.Add(time.Duration(sec * float64(time.Second))) }
	if o.FromSinceKillSeconds > s.StartedSinceKillSeconds {
		r.Timeline = append(r.Timeline, Event{Name: EventWritesStop, Source: SourceClicks, At: at(o.FromSinceKillSeconds), SinceKillSeconds: o.FromSinceKillSeconds,
			Detail: fmt.Sprintf("writer %s: the last acknowledged click before %.2fs without one", s.Writer, o.Seconds)})
	}
	if s.ClientRecovered {
		r.Timeline = append(r.Timeline, Event{Name: EventWritesBack, Source: SourceClicks, At: at(o.ToSinceKillSeconds), SinceKillSeconds: o.ToSinceKillSeconds,
			Detail: fmt.Sprintf("writer %s: outage %.2fs; RTO as the client saw it %.2fs", s.Writer, o.Seconds, s.ClientRTOSeconds)})
	}
	sortTimeline(r.Timeline)
}

// RTOLimit is the RTO a run is judged against: override when set (the
// --rto-limit flag), else the budget of the run's own volume driver and
// kill mode plus margin. from says which, for the report.
func RTOLimit(b Budget, override, margin time.Duration) (limit time.Duration, from string) {
	if override > 0 {
		return override, "--rto-limit " + override.String()
	}
	return b.Total + margin, fmt.Sprintf("budget %s (%s, %s) + margin %s", b.Total, b.Driver, b.Mode, margin)
}

// Judgement is the verdict on a failover: the RTO limit it was held to and
// why, and each reason it failed, one line each (Report.Problems).
type Judgement struct {
	RTOLimitSeconds float64  `json:"rtoLimitSeconds"`
	RTOLimitFrom    string   `json:"rtoLimitFrom"`
	Problems        []string `json:"problems"`
	Passed          bool     `json:"passed"`
}

// Judge judges the report against its RTO limit (RTOLimit of override and
// margin) and records the judgement in it: the one judge of kill-node and
// the rehearsal.
func (r *Report) Judge(override, margin time.Duration) Judgement {
	limit, from := RTOLimit(r.Budget, override, margin)
	j := Judgement{RTOLimitSeconds: limit.Seconds(), RTOLimitFrom: from, Problems: r.Problems(limit)}
	if j.Problems == nil {
		j.Problems = []string{}
	}
	j.Passed = len(j.Problems) == 0
	r.Judgement = &j
	return j
}
