package failover

import (
	"fmt"
	"time"
)

// AtRealScale is a stand-in run's report at the scale of the stack it
// models, for a run made scale times faster than that stack (every delay
// of the stand-in divided by scale): each event's time since the kill, the
// RTO and the sample interval multiplied by scale, and the budget replaced
// by b, the stack's own (the run's was computed from the shrunk failure
// detection settings and real-scale estimates, a mix that means nothing).
// The report says so in TimeScale, and a drawing of it in its caption.
func AtRealScale(r Report, scale float64, b Budget) (Report, error) {
	if scale <= 1 {
		return Report{}, fmt.Errorf("time scale %g: want above 1 (the stand-in ran that many times faster)", scale)
	}
	if r.TimeScale != 0 {
		return Report{}, fmt.Errorf("the report is at time scale %g already", r.TimeScale)
	}
	if b.Driver != r.Budget.Driver || b.Mode != r.Budget.Mode {
		return Report{}, fmt.Errorf("budget for %s, %s; the run was %s, %s", b.Driver, b.Mode, r.Budget.Driver, r.Budget.Mode)
	}
	out := r
	out.Timeline = make([]Event, len(r.Timeline))
	var killedAt time.Time
	for _, e := range r.Timeline {
		if e.Name == EventKill {
			killedAt = e.At
		}
	}
	for i, e := range r.Timeline {
		e.SinceKillSeconds *= scale
		if !killedAt.IsZero() {
			e.At = killedAt.Add(time.Duration(e.SinceKillSeconds * float64(time.Second)))
		}
		out.Timeline[i] = e
	}
	out.RTOSeconds *= scale
	out.SampleIntervalSeconds *= scale
	out.Budget, out.TimeScale = b, scale
	return out, nil
}
