package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/fencelog"
)

// The fences as the nodes' consoles tell them (docs/fencing.md): the
// masters' fencer and the agent's self-fence each print one mha-fence line
// a step, with their own clock. kill-node and the rehearsal read them after
// the watch, so the report says when the agent fenced itself, when the
// fencer acted and, when a fence failed, why.
const (
	EventSelfFenced     = "the agent fenced itself"              // its mha-fence self-fenced line
	EventFencerLost     = "fencer: the agent's task unreachable" // the leading master's fencer saw TASK_UNREACHABLE
	EventFencerFencing  = "fencer: terminate requested"          // TerminateInstances with SkipOsShutdown
	EventFencerFenced   = "fencer: EC2 reports it terminated"    // the volume may move from here
	EventFencerFailed   = "fencer: the fence failed"             // the EC2 call refused or timed out; the volume stays
	fenceConsoleTimeout = 10 * time.Second
)

var fenceEvents = map[string]string{
	facts.FenceEventSelfFenced: EventSelfFenced, facts.FenceEventLost: EventFencerLost,
	facts.FenceEventFencing: EventFencerFencing, facts.FenceEventFenced: EventFencerFenced, facts.FenceEventFailed: EventFencerFailed,
}

// ReadFences reads the fence lines of the cluster's masters and of the
// faulted agent's instance from their consoles. A console that cannot be
// read is reported in the error, beside the lines that could; EC2 keeps a
// terminated instance's console only for a while.
func ReadFences(ctx context.Context, e *ec2ops.Client, reader *ec2ops.ConsoleReader, clusterID, agentInstance string) ([]fencelog.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, fenceConsoleTimeout)
	defer cancel()
	ids := []string{agentInstance}
	insts, err := e.ClusterInstances(ctx, clusterID)
	if err != nil {
		return nil, fmt.Errorf("reading the fences: %w", err)
	}
	for _, in := range insts {
		if in.Role == facts.RoleMaster {
			ids = append(ids, in.ID)
		}
	}
	var out []fencelog.Event
	var errs []error
	for _, id := range ids {
		c, err := reader.Read(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("the console of %s: %w", id, err))
			continue
		}
		evs, err := fencelog.Parse(c.Text)
		if err != nil {
			errs = append(errs, fmt.Errorf("the fence lines on the console of %s: %w", id, err))
		}
		out = append(out, evs...)
	}
	return out, errors.Join(errs...)
}

// AddFences puts the fence lines about the faulted agent (its instance or
// its host) in the report's timeline, at the times the nodes printed, in
// the masters' lane for the fencer and the app's for the self-fence.
func (r *Report) AddFences(evs []fencelog.Event) {
	faultAt := r.FaultAt()
	for _, f := range evs {
		name, ok := fenceEvents[f.Event]
		if !ok || (f.Instance != r.KilledInstanceID && f.Host != r.KilledHost) || faultAt.IsZero() {
			continue
		}
		detail := fmt.Sprintf("%s on %s (%s), from the console", f.Event, f.Instance, f.Host)
		if f.Detail != "" {
			detail += ": " + f.Detail
		}
		r.Timeline = append(r.Timeline, Event{Name: name, Source: SourceOf(name), At: f.Time,
			SinceKillSeconds: f.Time.Sub(faultAt).Seconds(), Detail: detail})
		r.Fences = append(r.Fences, f)
	}
	sortTimeline(r.Timeline)
}
