package failover

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

// sampleApp reads the ELB's instance health and pings the app through the
// ELB. A sample is good when Marathon runs the followed replacement with
// its health checks alive, the ELB has its instance, and only it, in
// service, and the ping is answered; the first good sample starts a
// stability window, any bad one within it breaks it, and once the window
// has passed the clicks are read back and the recovery has held.
func (w *watcher) sampleApp(ctx context.Context) {
	w.mu.Lock()
	w.report.Samples.App++
	held := w.seen[EventRecoveryHeld]
	graceOver := !w.cfg.Now().Before(w.graceEnd)
	w.mu.Unlock()
	if held {
		if graceOver {
			w.finish()
		}
		return
	}
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	health, herr := w.cfg.ELB.Health(sctx)
	now := w.cfg.Now()
	if w.cut() {
		return
	}
	fromNew, why := w.judgeHealth(health, herr, now)
	err := w.cfg.App.Ping(sctx)
	now = w.cfg.Now()
	if w.cut() {
		return
	}
	w.mu.Lock()
	switch {
	case err != nil:
		w.last["app"] = err.Error()
		w.recordLocked(EventAppDown, now, err.Error())
		w.breakWindowLocked(now, "the app did not answer through the ELB: "+err.Error())
		w.mu.Unlock()
		return
	case !fromNew:
		// The dying agent (a graceful shutdown keeps it serving), or an
		// answer no evidence ties to a healthy replacement.
		w.report.Samples.DyingAnswers++
		w.last["app"] = "ping answered, not counted: " + why
		if mobycounter.StateOf(health, w.cfg.Target.InstanceID) == mobycounter.InService {
			w.recordLocked(EventOldAnswers, now, "ping answered while the ELB has "+w.cfg.Target.InstanceID+" in service; not counted")
		}
		w.breakWindowLocked(now, why)
		w.mu.Unlock()
		return
	}
	if w.windowStart.IsZero() {
		w.windowStart = now
		fmt.Fprintf(w.cfg.Progress, "%s  served by %s (%s, task %s): holding for the stability window of %s\n", stamp(w.since(now)), w.newInstance, w.newHost, w.newTask, w.window)
	}
	start, task := w.windowStart, w.newTask
	w.last["app"] = fmt.Sprintf("ping OK from %s, %s of the stability window of %s", w.newInstance, now.Sub(start).Round(time.Millisecond), w.window)
	w.mu.Unlock()
	if now.Sub(start) < w.window {
		return
	}
	read, err := w.cfg.App.Read(sctx)
	now = w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.last["app"] = err.Error()
		w.breakWindowLocked(now, "reading the clicks back failed: "+err.Error())
		return
	}
	if !w.windowStart.Equal(start) || w.newTask != task {
		return // Marathon broke the window meanwhile
	}
	lost := mobycounter.Missing(w.cfg.Written, read)
	w.report.Recovered = true
	w.report.RTOSeconds = w.since(start).Seconds()
	w.report.NewHost, w.report.NewTaskID, w.report.NewInstanceID = w.newHost, w.newTask, w.newInstance
	w.report.ClicksLost = append([]string{}, lost...)
	w.recordLocked(EventAppServed, start, fmt.Sprintf("ping through %s answered by %s (%s, task %s), the only instance in service, healthy in Marathon", w.cfg.Outputs.AppURL, w.newInstance, w.newHost, w.newTask))
	w.recordLocked(EventClicksReadBack, now, fmt.Sprintf("%d of %d clicks written before the kill read back from %s, %d lost", len(w.cfg.Written)-len(lost), len(w.cfg.Written), w.newInstance, len(lost)))
	w.recordLocked(EventRecoveryHeld, now, fmt.Sprintf("every sample good for %s (the stability window of %s)", now.Sub(start).Round(time.Millisecond), w.window))
	// The other sources may not have been sampled since: give them two
	// more samples to complete the timeline, then end anyway.
	w.graceEnd = now.Add(2 * w.cfg.Interval)
	go w.maybeFinish()
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
	case !w.newRunning:
		return false, "Marathon has not reported a replacement task TASK_RUNNING on another agent"
	case w.newInstance == "":
		return false, "the new agent " + w.newHost + " is not yet mapped to its EC2 instance"
	case mobycounter.StateOf(health, w.newInstance) == mobycounter.InService:
		w.recordNewLocked(EventNewInService, now, fmt.Sprintf("%s (%s) is InService", w.newInstance, w.newHost))
	}
	if !w.newHealthy {
		return false, "Marathon's health checks of the replacement task " + w.newTask + " on " + w.newHost + " are not alive"
	}
	if !mobycounter.OnlyInService(health, w.newInstance) {
		return false, "the ELB does not have " + w.newInstance + " (" + w.newHost + ") alone in service: " + strings.Join(states, ", ")
	}
	return true, ""
}
