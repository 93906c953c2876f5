package failover

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// MaxInterval is the longest sampling period the watch accepts: the
// timeline must be sampled at least once a second (issue 5).
const MaxInterval = time.Second

// sampleTimeout bounds one EC2 or app sample; a slower answer is a failed
// sample, and the next one follows. It matches the app client's own bound
// (mobycounter.DefaultTimeout).
const sampleTimeout = mobycounter.DefaultTimeout

// WatchConfig is what Watch needs: the stack, the agent that was killed,
// how and when, the clicks written before, and clients of the sources.
type WatchConfig struct {
	Outputs stackoutputs.Outputs
	Target  Target
	// Mode is how the agent was killed (default ModeCrash): it picks the
	// budget and is reported.
	Mode Mode
	// KilledAt is when the terminate was requested (Kill's result).
	KilledAt time.Time
	Written  []string // clicks acknowledged before the kill
	Marathon *marathon.Client
	EC2      *ec2ops.Client
	App      *mobycounter.Client       // the ELB's address (o.AppURL)
	ELB      *mobycounter.LoadBalancer // the same ELB's instance health: which agent answers
	Interval time.Duration             // sampling period; default and maximum 1s
	Deadline time.Duration             // give up after this long since KilledAt; default facts.FailoverWatchTimeout
	Progress io.Writer                 // one line per timeline event as it happens (nil: silent)
	Now      func() time.Time
}

// Watch samples EC2 (the killed instance, the app's volume), Marathon and
// the app and ELB at least once a second and returns the Report: the
// timeline (Event* names, each with its Source), RTO, NewHost, lost clicks
// (mobycounter.Missing after reading back), Budget (NewBudget of the
// stack's settings, volume driver and Mode), and Error when it ended
// without recovery (deadline, ctx cancelled). It returns a Report in every
// case; the error is non-nil only when the watch could not start (bad
// config).
//
// Recovery counts only from the replacement: Marathon runs a task of the
// app on another agent (TASK_RUNNING), and an answer through the ELB comes
// while the ELB has that agent's instance, and no other, in service
// (DescribeInstanceHealth). An answer of the dying agent, which a graceful
// shutdown keeps serving, never ends the watch; the clicks are read back
// only from the replacement too.
//
// Each source is sampled by its own loop, so a source that hangs (a
// Marathon that stopped answering) does not slow the others. An event is
// recorded once, at the first sample that saw it; a sample that sees a
// later step implies the earlier ones (a replacement running implies it was
// staged and the old agent lost).
func Watch(ctx context.Context, cfg WatchConfig) (Report, error) {
	cfg, budget, err := cfg.normalize()
	if err != nil {
		return Report{}, err
	}
	w := newWatcher(cfg, budget)
	return w.run(ctx), nil
}

func (c WatchConfig) normalize() (WatchConfig, Budget, error) {
	var missing []string
	for _, m := range []struct {
		ok   bool
		name string
	}{{c.Marathon != nil, "Marathon client"}, {c.EC2 != nil, "EC2 client"}, {c.App != nil, "app client"}, {c.ELB != nil, "ELB client"},
		{c.Target.InstanceID != "", "target instance id"}, {c.Target.TaskID != "", "target task id"},
		{c.Target.Host != "", "target host"}, {c.Target.AppID != "", "target app id"}, {!c.KilledAt.IsZero(), "kill time"}} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return c, Budget{}, fmt.Errorf("watching the failover: the watch config lacks the %s (FindTarget and Kill give the target and the kill time)", strings.Join(missing, ", "))
	}
	if c.Interval < 0 || c.Deadline < 0 {
		return c, Budget{}, fmt.Errorf("watching the failover: interval %s and deadline %s must not be negative", c.Interval, c.Deadline)
	}
	if c.Interval == 0 || c.Interval > MaxInterval {
		c.Interval = MaxInterval
	}
	if c.Deadline == 0 {
		c.Deadline = facts.FailoverWatchTimeout
	}
	if c.Mode == "" {
		c.Mode = ModeCrash
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	b, err := NewBudget(c.Outputs.Failover, c.Outputs.VolumeDriver, c.Mode)
	if err != nil {
		return c, Budget{}, fmt.Errorf("watching the failover: %w", err)
	}
	return c, b, nil
}

// rank orders the events of a timeline that share a moment.
var rank = map[string]int{EventKill: 0, EventShuttingDown: 1, EventOldAnswers: 2, EventAppDown: 3, EventInstanceDown: 4,
	EventOldOutOfService: 5, EventVolumeDetached: 6, EventAgentLost: 7, EventTaskStaged: 8, EventVolumeAttached: 9,
	EventTaskRunning: 10, EventNewInService: 11, EventAppServed: 12, EventClicksReadBack: 13, EventDeadlineExceeded: 14,
	EventMarathonLeaderless: 5, EventZooKeeperSession: 6, EventMesosLeader: 7, EventMarathonLeader: 8, EventAgentsReregistered: 9,
	EventTaskKept: 10, EventAppServedThroughout: 12,
	EventPartitionRequested: 0, EventGroupsSwapped: 1, EventGroupsRestored: 14, EventDrillGroupDeleted: 14}

type watcher struct {
	cfg    WatchConfig
	report Report

	mu          sync.Mutex
	seen        map[string]bool
	newHost     string
	newTask     string
	newInstance string            // the EC2 instance of newHost, once EC2 said
	graceEnd    time.Time         // after the clicks were read back, how long the other sources may still report
	last        map[string]string // the last thing each source said, for the error
	done        chan struct{}
	doneOnce    sync.Once
}

func newWatcher(cfg WatchConfig, b Budget) *watcher {
	w := &watcher{cfg: cfg, seen: map[string]bool{}, last: map[string]string{}, done: make(chan struct{})}
	w.report = Report{
		Stack: cfg.Outputs.Stack, AppURL: cfg.Outputs.AppURL,
		KilledInstanceID: cfg.Target.InstanceID, KilledHost: cfg.Target.Host,
		Mode: cfg.Mode, VolumeID: cfg.Target.VolumeID,
		Budget: b, ClicksWritten: len(cfg.Written), ClicksLost: []string{},
		SampleIntervalSeconds: cfg.Interval.Seconds(),
	}
	return w
}

func (w *watcher) run(ctx context.Context) Report {
	first := EventKill
	if w.cfg.Mode == ModePartition {
		first = EventPartitionRequested
	}
	w.record(first, w.cfg.KilledAt, fmt.Sprintf("instance %s (%s), task %s; %s", w.cfg.Target.InstanceID, w.cfg.Target.Host, w.cfg.Target.TaskID, w.cfg.Mode.Describe()))
	remaining := w.cfg.KilledAt.Add(w.cfg.Deadline).Sub(w.cfg.Now())
	dctx, cancel := context.WithTimeout(ctx, remaining)
	defer cancel()

	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){w.sampleEC2, w.sampleMarathon, w.sampleApp} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.every(dctx, loop)
		}()
	}
	select {
	case <-w.done:
	case <-dctx.Done():
	}
	cancel()
	wg.Wait()

	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.report
	if !w.seen[EventClicksReadBack] {
		switch {
		case ctx.Err() != nil:
			r.Error = fmt.Sprintf("the watch was cancelled %s after the kill: %v", w.since(w.cfg.Now()), ctx.Err())
		default:
			r.Error = fmt.Sprintf("deadline %s exceeded: the app did not come back through the ELB at %s from a replacement task's agent", w.cfg.Deadline, w.cfg.Outputs.AppURL)
			if r.Recovered {
				r.Error = fmt.Sprintf("deadline %s exceeded before the clicks could be read back through the ELB at %s from the replacement", w.cfg.Deadline, w.cfg.Outputs.AppURL)
			}
			now := w.cfg.Now()
			r.Timeline = append(r.Timeline, Event{Name: EventDeadlineExceeded, Source: SourceOf(EventDeadlineExceeded), At: now, SinceKillSeconds: w.since(now).Seconds(), Detail: w.lastSeen()})
			fmt.Fprintf(w.cfg.Progress, "%s  %s (%s)\n", stamp(w.since(now)), EventDeadlineExceeded, w.lastSeen())
		}
		if ls := w.lastSeen(); ls != "" && r.Error != "" {
			r.Error += "; last seen: " + ls
		}
		// Clicks that could not be read back are counted lost: nothing
		// shows they survived.
		r.ClicksLost = append([]string{}, w.cfg.Written...)
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool {
		a, b := r.Timeline[i], r.Timeline[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return rank[a.Name] < rank[b.Name]
	})
	return r
}

// every runs sample now and then every Interval until ctx ends or the
// watch is done. A sample slower than Interval delays the next one.
func (w *watcher) every(ctx context.Context, sample func(context.Context)) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case <-t.C:
		}
	}
}

func (w *watcher) since(t time.Time) time.Duration { return t.Sub(w.cfg.KilledAt) }

// record adds an event unless it was seen already; the caller must not
// hold w.mu.
func (w *watcher) record(name string, at time.Time, detail string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recordLocked(name, at, detail)
}

func (w *watcher) recordLocked(name string, at time.Time, detail string) {
	if w.seen[name] {
		return
	}
	w.seen[name] = true
	d := w.since(at)
	w.report.Timeline = append(w.report.Timeline, Event{Name: name, Source: SourceOf(name), At: at, SinceKillSeconds: d.Seconds(), Detail: detail})
	if detail != "" {
		fmt.Fprintf(w.cfg.Progress, "%s  %s: %s\n", stamp(d), name, detail)
	} else {
		fmt.Fprintf(w.cfg.Progress, "%s  %s\n", stamp(d), name)
	}
}

// stamp formats a time since the kill for a progress line.
func stamp(d time.Duration) string { return fmt.Sprintf("%+9.2fs", d.Seconds()) }

func (w *watcher) setLast(source, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[source] = what
}

func (w *watcher) lastSeen() string {
	var parts []string
	for _, s := range []string{"EC2", "volume", "Marathon", "ELB", "app"} {
		if v := w.last[s]; v != "" {
			parts = append(parts, s+": "+v)
		}
	}
	return strings.Join(parts, "; ")
}

func (w *watcher) finish() { w.doneOnce.Do(func() { close(w.done) }) }

// lostStates are the states of a task Mesos no longer reaches
// (mesos.proto TaskState: TASK_LOST before partition awareness,
// TASK_UNREACHABLE and TASK_GONE* with it, as Marathon 1.4 uses).
var lostStates = map[string]bool{"TASK_LOST": true, "TASK_UNREACHABLE": true, "TASK_GONE": true,
	"TASK_GONE_BY_OPERATOR": true, "TASK_UNKNOWN": true, "TASK_DROPPED": true}

// launchStates are the states of a task on its way to running or running
// (mesos.proto TaskState): only such a task can be the replacement.
// Marathon 1.4.9 lists a lost task as TASK_UNREACHABLE beside its
// replacement until its expunge job removes it (5 minutes after it was
// elected, then every 30 s: TaskJobsConfig.scala), so the list may hold an
// earlier failover's lost task on another agent too.
var launchStates = map[string]bool{"TASK_STAGING": true, "TASK_STARTING": true, "TASK_RUNNING": true}

// sampleMarathon reads the app's tasks: the old one lost or gone, a new one
// on another agent staged, then running. Tasks in no launch state (an
// earlier failover's TASK_UNREACHABLE task, a task being killed) are
// listed, never taken for the replacement.
func (w *watcher) sampleMarathon(ctx context.Context) {
	w.mu.Lock()
	w.report.Samples.Marathon++
	seen := w.seen[EventTaskRunning]
	w.mu.Unlock()
	if seen {
		return
	}
	defer w.maybeFinish()
	// AppTasks retries an unreachable Marathon until its context ends: one
	// interval bounds a sample, so the loop keeps its pace.
	sctx, cancel := context.WithTimeout(ctx, w.cfg.Interval)
	defer cancel()
	tasks, err := w.cfg.Marathon.AppTasks(sctx, w.cfg.Target.AppID)
	now := w.cfg.Now()
	if err != nil {
		w.setLast("Marathon", err.Error())
		return
	}
	old := w.cfg.Target
	var oldState string
	var repl *marathon.Task
	var states []string
	for i, t := range tasks {
		states = append(states, t.State+" on "+t.Host)
		switch {
		case t.ID == old.TaskID:
			oldState = t.State
		case t.Host != old.Host && launchStates[t.State] && (repl == nil || t.State == "TASK_RUNNING"):
			repl = &tasks[i]
		}
	}
	if len(states) == 0 {
		states = append(states, "no task")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last["Marathon"] = strings.Join(states, ", ")
	lost := oldState == "" || lostStates[oldState]
	if repl != nil || lost {
		detail := fmt.Sprintf("task %s on %s is %s", old.TaskID, old.Host, orGone(oldState))
		if !lost {
			detail = "implied by a replacement task on another agent"
		}
		w.recordLocked(EventAgentLost, now, detail)
	}
	if repl == nil {
		return
	}
	w.newHost, w.newTask = repl.Host, repl.ID
	w.report.NewHost = repl.Host
	w.recordLocked(EventTaskStaged, now, fmt.Sprintf("task %s on %s (%s)", repl.ID, repl.Host, repl.State))
	if repl.State == "TASK_RUNNING" {
		w.recordLocked(EventTaskRunning, now, fmt.Sprintf("task %s on %s", repl.ID, repl.Host))
	}
}

// maybeFinish ends the watch once the clicks are read back and every step
// before them was seen.
func (w *watcher) maybeFinish() {
	w.mu.Lock()
	complete := w.seen[EventClicksReadBack] && w.seen[EventTaskRunning] && w.seen[EventInstanceDown] &&
		(w.cfg.Target.VolumeID == "" || w.seen[EventVolumeAttached])
	w.mu.Unlock()
	if complete {
		w.finish()
	}
}

func orGone(state string) string {
	if state == "" {
		return "gone"
	}
	return state
}
