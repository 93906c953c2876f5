package failover

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

// sampleApp reads the ELB's instance health and pings the app through the
// ELB. An answer counts as the recovery only when Marathon runs the
// replacement task on another agent and the ELB has that agent's instance,
// and only it, in service; the clicks are then read back the same way.
func (w *watcher) sampleApp(ctx context.Context) {
	w.mu.Lock()
	w.report.Samples.App++
	served, readBack := w.seen[EventAppServed], w.seen[EventClicksReadBack]
	graceOver := !w.cfg.Now().Before(w.graceEnd)
	w.mu.Unlock()
	if readBack {
		if graceOver {
			w.finish()
		}
		return
	}
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	health, herr := w.cfg.ELB.Health(sctx)
	now := w.cfg.Now()
	fromNew, why := w.judgeHealth(health, herr, now)
	if !served {
		err := w.cfg.App.Ping(sctx)
		now := w.cfg.Now()
		w.mu.Lock()
		if err != nil {
			w.last["app"] = err.Error()
			w.recordLocked(EventAppDown, now, err.Error())
			w.mu.Unlock()
			return
		}
		if !fromNew {
			// The dying agent (a graceful shutdown keeps it serving), or
			// an answer no evidence ties to the replacement.
			w.report.Samples.DyingAnswers++
			w.last["app"] = "ping answered, not counted: " + why
			if mobycounter.StateOf(health, w.cfg.Target.InstanceID) == mobycounter.InService {
				w.recordLocked(EventOldAnswers, now, "ping answered while the ELB has "+w.cfg.Target.InstanceID+" in service; not counted")
			}
			w.mu.Unlock()
			return
		}
		w.last["app"] = "ping OK from " + w.newInstance
		w.report.Recovered = true
		w.report.RTOSeconds = w.since(now).Seconds()
		w.recordLocked(EventAppServed, now, fmt.Sprintf("ping through %s answered by %s (%s), the only instance in service", w.cfg.Outputs.AppURL, w.newInstance, w.newHost))
		w.mu.Unlock()
	} else if !fromNew {
		w.setLast("app", "not reading the clicks back: "+why)
		return
	}
	read, err := w.cfg.App.Read(sctx)
	now = w.cfg.Now()
	if err != nil {
		w.setLast("app", err.Error())
		return
	}
	lost := mobycounter.Missing(w.cfg.Written, read)
	w.mu.Lock()
	w.report.ClicksLost = append([]string{}, lost...)
	w.recordLocked(EventClicksReadBack, now, fmt.Sprintf("%d of %d clicks written before the kill read back from %s, %d lost", len(w.cfg.Written)-len(lost), len(w.cfg.Written), w.newInstance, len(lost)))
	// The other sources may not have been sampled since: give them two
	// more samples to complete the timeline, then end anyway.
	w.graceEnd = now.Add(2 * w.cfg.Interval)
	w.mu.Unlock()
	w.maybeFinish()
}

// judgeHealth records the ELB's events and says whether an answer through
// the ELB now comes from the replacement, or why not.
func (w *watcher) judgeHealth(health []mobycounter.InstanceHealth, herr error, now time.Time) (bool, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.report.Samples.ELB++
	if herr != nil {
		w.last["ELB"] = herr.Error()
		return false, "the ELB's instance health is unknown: " + herr.Error()
	}
	var states []string
	for _, h := range health {
		states = append(states, h.InstanceID+" "+h.State)
	}
	if len(states) == 0 {
		states = append(states, "no instance listed")
	}
	w.last["ELB"] = strings.Join(states, ", ")
	killed := w.cfg.Target.InstanceID
	if st := mobycounter.StateOf(health, killed); st != mobycounter.InService {
		detail := killed + " is not listed (terminated)"
		if st != "" {
			detail = killed + " is " + st
			for _, h := range health {
				if h.InstanceID == killed && h.Description != "" {
					detail += ": " + h.Description
				}
			}
		}
		w.recordLocked(EventOldOutOfService, now, detail)
	}
	switch {
	case !w.seen[EventTaskRunning]:
		return false, "Marathon has not reported a replacement task TASK_RUNNING on another agent"
	case w.newInstance == "":
		return false, "the new agent " + w.newHost + " is not yet mapped to its EC2 instance"
	case mobycounter.StateOf(health, w.newInstance) == mobycounter.InService:
		w.recordLocked(EventNewInService, now, fmt.Sprintf("%s (%s) is InService", w.newInstance, w.newHost))
	}
	if !mobycounter.OnlyInService(health, w.newInstance) {
		return false, "the ELB does not have " + w.newInstance + " (" + w.newHost + ") alone in service: " + strings.Join(states, ", ")
	}
	return true, ""
}
