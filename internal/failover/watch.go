package failover

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
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
// Recovery counts only from a replacement that lasts: Marathon runs a task
// of the app on an agent other than the killed one (TASK_RUNNING, its
// health checks alive), the ELB has that agent's instance, and no other,
// in service (DescribeInstanceHealth), and the app answers through the
// ELB; and all of it holds at every sample for the stability window
// (StabilityWindow). The watch follows Marathon's tasks to the end: a
// replacement Marathon kills, or that fails its health checks, breaks the
// window, and the next replacement (on any agent) starts another. The RTO
// is the first sample of the window that held. An answer of the dying
// agent, which a graceful shutdown keeps serving, never counts; the
// clicks are read back from the replacement at the window's end.
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
	if _, _, err := StabilityWindow(c.Outputs.Failover); err != nil {
		return c, Budget{}, fmt.Errorf("watching the failover: %w", err)
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
	EventTaskRunning: 10, EventNewInService: 11, EventAppServed: 12, EventReplacementLost: 12, EventRecoveryBroken: 13, EventClicksReadBack: 13,
	EventRecoveryHeld: 14, EventDeadlineExceeded: 15,
	EventMarathonLeaderless: 5, EventZooKeeperSession: 6, EventMesosLeader: 7, EventMarathonLeader: 8, EventAgentsReregistered: 9,
	EventTaskKept: 10, EventAppServedThroughout: 12,
	EventZooKeeperLeaderless: 4, EventZooKeeperLeader: 5, EventZooKeeperUnchanged: 5, EventMesosUnchanged: 7, EventMarathonUnchanged: 8,
	EventAgentsActive: 9, EventFrameworkActive: 9, EventCanaryDeployed: 11, EventCanaryRemoved: 11,
	EventPartitionRequested: 0, EventGroupsSwapped: 1, EventGroupsRestored: 14, EventDrillGroupDeleted: 14}

// sortTimeline orders a timeline by time, events of one moment by rank.
func sortTimeline(tl []Event) {
	sort.SliceStable(tl, func(i, j int) bool {
		a, b := tl[i], tl[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return rank[a.Name] < rank[b.Name]
	})
}

type watcher struct {
	*watchLoop
	cfg    WatchConfig
	report Report

	window time.Duration // how long a recovery must hold

	newHost     string // the replacement followed now ("" while none)
	newTask     string
	newInstance string // the EC2 instance of newHost, once EC2 said
	// newRunning and newHealthy are Marathon's last word on it: TASK_RUNNING,
	// and its health checks alive.
	newRunning, newHealthy bool
	// newSeen are the events already recorded for the replacement followed
	// now: each replacement gets its own staged, running and in service.
	newSeen map[string]bool
	// windowStart is the first sample of the recovery being held, zero
	// while none is.
	windowStart time.Time
	graceEnd    time.Time // after the recovery held, how long the other sources may still report
}

func newWatcher(cfg WatchConfig, b Budget) *watcher {
	window, _, _ := StabilityWindow(cfg.Outputs.Failover) // normalize checked it
	w := &watcher{cfg: cfg, window: window,
		watchLoop: newWatchLoop(cfg.KilledAt, cfg.Interval, cfg.Progress, cfg.Now, "EC2", "volume", "Marathon", "ELB", "app")}
	w.report = Report{
		Stack: cfg.Outputs.Stack, AppURL: cfg.Outputs.AppURL,
		KilledInstanceID: cfg.Target.InstanceID, KilledHost: cfg.Target.Host,
		Mode: cfg.Mode, VolumeID: cfg.Target.VolumeID,
		Budget: b, ClicksWritten: len(cfg.Written), ClicksLost: []string{},
		SampleIntervalSeconds: cfg.Interval.Seconds(), StabilityWindowSeconds: window.Seconds(),
	}
	return w
}

func (w *watcher) run(ctx context.Context) Report {
	first := EventKill
	if w.cfg.Mode == ModePartition {
		first = EventPartitionRequested
	}
	w.record(first, w.cfg.KilledAt, fmt.Sprintf("instance %s (%s), task %s; %s", w.cfg.Target.InstanceID, w.cfg.Target.Host, w.cfg.Target.TaskID, w.cfg.Mode.Describe()))
	w.watchLoop.run(ctx, w.cfg.Deadline, w.sampleEC2, w.sampleMarathon, w.sampleApp)

	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.report
	r.Timeline = w.timeline
	if !w.seen[EventRecoveryHeld] {
		switch {
		case ctx.Err() != nil:
			r.Error = fmt.Sprintf("the watch was cancelled %s after the kill: %v", w.since(w.cfg.Now()), ctx.Err())
		default:
			r.Error = fmt.Sprintf("deadline %s exceeded: the app did not come back through the ELB at %s from a replacement task's agent", w.cfg.Deadline, w.cfg.Outputs.AppURL)
			if !w.windowStart.IsZero() {
				r.Error = fmt.Sprintf("deadline %s exceeded: the app answered through the ELB at %s from %s (task %s) since %s after the kill, short of the stability window of %s",
					w.cfg.Deadline, w.cfg.Outputs.AppURL, w.newHost, w.newTask, w.since(w.windowStart).Round(time.Millisecond), w.window)
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
	sortTimeline(r.Timeline)
	return r
}

// recordNewLocked records an event of the replacement followed now, once
// for each replacement.
func (w *watcher) recordNewLocked(name string, at time.Time, detail string) {
	if w.newSeen[name] {
		return
	}
	w.newSeen[name] = true
	w.seen[name] = false // a later replacement's step is an event of its own
	w.recordLocked(name, at, detail)
}

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

// sampleMarathon reads the app's tasks until the watch ends: the old one
// lost or gone, a replacement on another agent staged, then running with
// its health checks alive. It follows one replacement at a time; when
// Marathon no longer lists it as staging or running (it killed it, or its
// agent was lost too) the recovery being held breaks and the next
// replacement, on any agent but the killed one, is followed. Tasks in no
// launch state (an earlier failover's TASK_UNREACHABLE task, a task being
// killed) are listed, never taken for the replacement.
func (w *watcher) sampleMarathon(ctx context.Context) {
	w.mu.Lock()
	w.report.Samples.Marathon++
	w.mu.Unlock()
	defer w.maybeFinish()
	// One interval bounds a sample: each request is made with sctx, so a
	// Marathon that stalls costs this sample, and the next goes to the
	// next Marathon (marathon.Client.AppTasks).
	sctx, cancel := context.WithTimeout(ctx, w.cfg.Interval)
	defer cancel()
	tasks, err := w.cfg.Marathon.AppTasks(sctx, w.cfg.Target.AppID)
	now := w.cfg.Now()
	if err != nil || w.cut() {
		w.setLast("Marathon", fmt.Sprint(err))
		return
	}
	old := w.cfg.Target
	w.mu.Lock()
	defer w.mu.Unlock()
	var oldState string
	var cur, repl *marathon.Task
	var states []string
	for i, t := range tasks {
		states = append(states, describeTask(t))
		switch {
		case t.ID == old.TaskID:
			oldState = t.State
		case t.Host == old.Host || !launchStates[t.State]:
		case t.ID == w.newTask:
			cur = &tasks[i]
		case repl == nil || t.State == "TASK_RUNNING":
			repl = &tasks[i]
		}
	}
	if len(states) == 0 {
		states = append(states, "no task")
	}
	w.last["Marathon"] = strings.Join(states, ", ")
	if w.seen[EventRecoveryHeld] {
		return // the verdict is in; the last samples only complete the other lanes
	}
	lost := oldState == "" || lostStates[oldState]
	if cur != nil || repl != nil || lost {
		detail := fmt.Sprintf("task %s on %s is %s", old.TaskID, old.Host, orGone(oldState))
		if !lost {
			detail = "implied by a replacement task on another agent"
		}
		w.recordLocked(EventAgentLost, now, detail)
	}
	if w.newTask != "" && cur == nil {
		why := fmt.Sprintf("task %s on %s is no longer staging or running in Marathon (killed, or its agent lost)", w.newTask, w.newHost)
		w.recordLocked(EventReplacementLost, now, why)
		w.breakWindowLocked(now, "Marathon: "+why)
		w.newTask, w.newHost, w.newInstance = "", "", ""
		w.newRunning, w.newHealthy = false, false
	}
	if cur == nil {
		cur = repl
	}
	if cur == nil {
		return
	}
	if w.newTask == "" {
		w.newHost, w.newTask, w.newSeen = cur.Host, cur.ID, map[string]bool{}
		w.report.NewHost, w.report.NewTaskID, w.report.NewInstanceID = cur.Host, cur.ID, ""
	}
	w.newRunning = cur.State == "TASK_RUNNING"
	wasHealthy := w.newHealthy
	w.newHealthy = w.newRunning && cur.HealthAlive
	w.recordNewLocked(EventTaskStaged, now, fmt.Sprintf("task %s on %s (%s)", cur.ID, cur.Host, cur.State))
	if w.newRunning {
		w.recordNewLocked(EventTaskRunning, now, fmt.Sprintf("task %s on %s", cur.ID, cur.Host))
	}
	if wasHealthy && !w.newHealthy {
		w.breakWindowLocked(now, "Marathon: "+describeTask(*cur))
	}
}

// describeTask says where a task runs, its state and its health checks.
func describeTask(t marathon.Task) string {
	s := t.ID + " " + t.State + " on " + t.Host
	for _, h := range t.Health {
		switch {
		case h.Alive:
			s += ", health alive"
		case h.LastFailure.IsZero():
			s += ", health not passed yet"
		default:
			s += fmt.Sprintf(", health failing (%d in a row)", h.ConsecutiveFailures)
		}
	}
	return s
}

// breakWindowLocked ends the recovery being held, if any: a sample went
// bad within its stability window.
func (w *watcher) breakWindowLocked(now time.Time, why string) {
	if w.windowStart.IsZero() {
		return
	}
	w.recordLocked(EventRecoveryBroken, now, fmt.Sprintf("the app served from %s (task %s) since %s after the kill, then %s", w.newHost, w.newTask,
		w.since(w.windowStart).Round(time.Millisecond), why))
	w.windowStart = time.Time{}
}

// maybeFinish ends the watch once the recovery held and EC2 saw the old
// instance terminated and the volume attached elsewhere.
func (w *watcher) maybeFinish() {
	w.mu.Lock()
	complete := w.seen[EventRecoveryHeld] && w.seen[EventInstanceDown] &&
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
