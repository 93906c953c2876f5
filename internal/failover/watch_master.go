package failover

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// MasterWatchConfig is what WatchMaster needs: the stack, the master that
// was killed and when, and clients of the sources.
type MasterWatchConfig struct {
	Outputs  stackoutputs.Outputs
	Target   MasterTarget
	KilledAt time.Time
	Marathon *marathon.Client // every master's Marathon (o.MarathonURLs)
	EC2      *ec2ops.Client
	App      *mobycounter.Client // the ELB's address (o.AppURL)
	Mesos    MesosProbe          // NewMesosProbe(o.MesosURLs, nil)
	// SessionTimeout is the ZooKeeper session timeout the lost master's
	// session expires after (default facts.ZooKeeperSessionTimeout).
	SessionTimeout time.Duration
	Interval       time.Duration // default and maximum 1s
	Deadline       time.Duration // default facts.FailoverWatchTimeout
	Progress       io.Writer
	Now            func() time.Time
}

// MasterReport is what a master's loss measured.
type MasterReport struct {
	Stack  string       `json:"stack"`
	AppURL string       `json:"appUrl"`
	Killed MasterTarget `json:"killed"`
	Budget Budget       `json:"budget"`

	Timeline []Event `json:"timeline"`
	// NewMarathonLeader and NewMesosLeader are the leaders elected after
	// the loss (host:port).
	NewMarathonLeader string `json:"newMarathonLeader,omitempty"`
	NewMesosLeader    string `json:"newMesosLeader,omitempty"`
	// Recovered is true once both leaders were elected, every agent
	// re-registered, the app's task kept running and the app answered
	// every ping through the ELB. RecoverySeconds is the time from the
	// kill to the last of those; LeaderlessSeconds the time from the kill
	// to the new Marathon leader, during which nothing could be deployed.
	Recovered         bool    `json:"recovered"`
	RecoverySeconds   float64 `json:"recoverySeconds,omitempty"`
	LeaderlessSeconds float64 `json:"leaderlessSeconds,omitempty"`
	// LeaderlessBudgetSeconds is the budget of that time (LeaderlessBudget).
	LeaderlessBudgetSeconds float64 `json:"leaderlessBudgetSeconds"`
	// AppAnswers and AppFailures count the pings through the ELB.
	AppAnswers  int    `json:"appAnswers"`
	AppFailures int    `json:"appFailures"`
	Error       string `json:"error,omitempty"`

	SampleIntervalSeconds float64 `json:"sampleIntervalSeconds"`
}

// Recovery is the measured recovery time.
func (r MasterReport) Recovery() time.Duration {
	return time.Duration(r.RecoverySeconds * float64(time.Second))
}

// Problems lists why the master failover failed; a limit of 0 checks no
// time.
func (r MasterReport) Problems(limit time.Duration) []string {
	var p []string
	if r.AppFailures > 0 {
		p = append(p, fmt.Sprintf("the app stopped answering through the ELB (%d of %d pings failed): tasks must keep running while a master fails", r.AppFailures, r.AppFailures+r.AppAnswers))
	}
	if !r.Recovered && r.AppFailures == 0 {
		msg := "the masters did not recover"
		if r.Error != "" {
			msg += ": " + r.Error
		}
		p = append(p, msg)
	}
	if r.Recovered && limit > 0 && r.Recovery() > limit {
		p = append(p, fmt.Sprintf("master recovery %s exceeds the limit %s (budget %s)", r.Recovery().Round(time.Millisecond), limit, r.Budget.Total))
	}
	return p
}

// WriteTimeline prints the timeline, one event a line.
func (r MasterReport) WriteTimeline(w io.Writer) error { return writeTimeline(w, r.Timeline) }

// Summary is the outcome in two lines.
func (r MasterReport) Summary() string {
	var sb strings.Builder
	if r.Recovered {
		fmt.Fprintf(&sb, "masters recovered: Marathon leader %s, Mesos leader %s after %.1fs (budget %.1fs)\n", r.NewMarathonLeader, r.NewMesosLeader, r.RecoverySeconds, r.Budget.Seconds)
	} else {
		fmt.Fprintf(&sb, "masters NOT recovered: %s\n", r.Error)
	}
	fmt.Fprintf(&sb, "time without a Marathon leader: %.1fs (budget %.1fs); app: %d answers, %d failures through the ELB\n",
		r.LeaderlessSeconds, r.LeaderlessBudgetSeconds, r.AppAnswers, r.AppFailures)
	return sb.String()
}

// WatchMaster samples EC2 (the killed master), Marathon (/v2/leader, the
// app's tasks), the Mesos masters (MesosProbe) and the app through the ELB
// at least once a second after the leading master was killed, until both
// leaders are elected anew, every agent re-registered (the stack output
// agentPrivateIps) and the new Marathon leader lists the app's task still
// running where it ran. The app must answer every ping meanwhile: a
// failure is recorded and fails the report. The ZooKeeper session expiry
// is not observed (no client of ours talks to ZooKeeper): the first new
// leader implies it, and it is placed at the session timeout after the
// kill unless a leader came sooner.
func WatchMaster(ctx context.Context, cfg MasterWatchConfig) (MasterReport, error) {
	var missing []string
	for _, m := range []struct {
		ok   bool
		name string
	}{{cfg.Marathon != nil, "Marathon client"}, {cfg.EC2 != nil, "EC2 client"}, {cfg.App != nil, "app client"},
		{cfg.Mesos != nil, "Mesos probe"}, {cfg.Target.InstanceID != "", "target instance id"},
		{cfg.Target.TaskID != "", "app task id"}, {!cfg.KilledAt.IsZero(), "kill time"}} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return MasterReport{}, fmt.Errorf("watching the master failover: the watch config lacks the %s (FindMaster and KillMaster give them)", strings.Join(missing, ", "))
	}
	if cfg.Interval <= 0 || cfg.Interval > MaxInterval {
		cfg.Interval = MaxInterval
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = facts.FailoverWatchTimeout
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = facts.ZooKeeperSessionTimeout
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b, err := NewMasterBudget(cfg.Outputs.Failover)
	if err != nil {
		return MasterReport{}, fmt.Errorf("watching the master failover: %w", err)
	}
	w := &masterWatcher{cfg: cfg, seen: map[string]bool{}, last: map[string]string{}, done: make(chan struct{})}
	w.report = MasterReport{Stack: cfg.Outputs.Stack, AppURL: cfg.Outputs.AppURL, Killed: cfg.Target, Budget: b,
		LeaderlessBudgetSeconds: LeaderlessBudget().Seconds(), SampleIntervalSeconds: cfg.Interval.Seconds()}
	return w.run(ctx), nil
}

type masterWatcher struct {
	cfg    MasterWatchConfig
	report MasterReport

	mu       sync.Mutex
	seen     map[string]bool
	at       map[string]time.Time
	last     map[string]string
	done     chan struct{}
	doneOnce sync.Once
}

func (w *masterWatcher) run(ctx context.Context) MasterReport {
	w.at = map[string]time.Time{}
	t := w.cfg.Target
	w.record(EventKill, w.cfg.KilledAt, fmt.Sprintf("master %d, instance %s (%s), Marathon leader %s; crash", t.Index, t.InstanceID, t.PrivateIP, t.Leader))
	dctx, cancel := context.WithTimeout(ctx, w.cfg.KilledAt.Add(w.cfg.Deadline).Sub(w.cfg.Now()))
	defer cancel()
	wg := loops{cancel: cancel} // a loop's panic reaches the caller (loops.go)
	for _, loop := range []func(context.Context){w.sampleEC2, w.sampleLeader, w.sampleMesos, w.sampleApp} {
		wg.Go(func() {
			tk := time.NewTicker(w.cfg.Interval)
			defer tk.Stop()
			for {
				loop(dctx)
				select {
				case <-dctx.Done():
					return
				case <-w.done:
					return
				case <-tk.C:
				}
			}
		})
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
	now := w.cfg.Now()
	if w.complete() {
		last := w.at[EventMarathonLeader]
		for _, e := range []string{EventMesosLeader, EventAgentsReregistered, EventTaskKept} {
			if w.at[e].After(last) {
				last = w.at[e]
			}
		}
		r.RecoverySeconds = last.Sub(w.cfg.KilledAt).Seconds()
		if r.AppFailures == 0 {
			r.Recovered = true
			r.Timeline = append(r.Timeline, w.event(EventAppServedThroughout, now, fmt.Sprintf("%d answers, none failed", r.AppAnswers)))
		} else {
			r.Error = fmt.Sprintf("the app failed %d of %d pings through the ELB at %s", r.AppFailures, r.AppFailures+r.AppAnswers, w.cfg.Outputs.AppURL)
		}
	} else {
		var want []string
		for _, e := range []string{EventInstanceDown, EventMesosLeader, EventMarathonLeader, EventAgentsReregistered, EventTaskKept} {
			if !w.seen[e] {
				want = append(want, e)
			}
		}
		r.Error = fmt.Sprintf("deadline %s exceeded before: %s", w.cfg.Deadline, strings.Join(want, ", "))
		if ctx.Err() != nil {
			r.Error = fmt.Sprintf("the watch was cancelled %s after the kill (%v) before: %s", now.Sub(w.cfg.KilledAt).Round(time.Millisecond), ctx.Err(), strings.Join(want, ", "))
		} else {
			r.Timeline = append(r.Timeline, w.event(EventDeadlineExceeded, now, w.lastSeen()))
		}
		if ls := w.lastSeen(); ls != "" {
			r.Error += "; last seen: " + ls
		}
	}
	if w.seen[EventMarathonLeader] {
		r.LeaderlessSeconds = w.at[EventMarathonLeader].Sub(w.cfg.KilledAt).Seconds()
	}
	sortTimeline(r.Timeline)
	return r
}

func (w *masterWatcher) complete() bool {
	return w.seen[EventInstanceDown] && w.seen[EventMesosLeader] && w.seen[EventMarathonLeader] &&
		w.seen[EventAgentsReregistered] && w.seen[EventTaskKept]
}

func (w *masterWatcher) maybeFinish() {
	w.mu.Lock()
	c := w.complete()
	w.mu.Unlock()
	if c {
		w.doneOnce.Do(func() { close(w.done) })
	}
}

func (w *masterWatcher) event(name string, at time.Time, detail string) Event {
	d := at.Sub(w.cfg.KilledAt)
	if detail != "" {
		fmt.Fprintf(w.cfg.Progress, "%s  %s: %s\n", stamp(d), name, detail)
	} else {
		fmt.Fprintf(w.cfg.Progress, "%s  %s\n", stamp(d), name)
	}
	return Event{Name: name, Source: SourceOf(name), At: at, SinceKillSeconds: d.Seconds(), Detail: detail}
}

func (w *masterWatcher) record(name string, at time.Time, detail string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recordLocked(name, at, detail)
}

func (w *masterWatcher) recordLocked(name string, at time.Time, detail string) {
	if w.seen[name] {
		return
	}
	w.seen[name], w.at[name] = true, at
	w.report.Timeline = append(w.report.Timeline, w.event(name, at, detail))
}

func (w *masterWatcher) setLast(source, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[source] = what
}

func (w *masterWatcher) lastSeen() string {
	var parts []string
	for _, s := range []string{"EC2", "Marathon", "Mesos", "app"} {
		if v := w.last[s]; v != "" {
			parts = append(parts, s+": "+v)
		}
	}
	return strings.Join(parts, "; ")
}

// newLeader records the ZooKeeper session expiry the first new leader
// implies; the caller holds w.mu.
func (w *masterWatcher) newLeaderLocked(now time.Time) {
	expected := w.cfg.KilledAt.Add(w.cfg.SessionTimeout)
	at := now
	if expected.Before(now) {
		at = expected
	}
	w.recordLocked(EventZooKeeperSession, at, fmt.Sprintf("implied by a new leader seen %.2fs after the kill; expected at the session timeout %s", now.Sub(w.cfg.KilledAt).Seconds(), w.cfg.SessionTimeout))
}

func (w *masterWatcher) sampleEC2(ctx context.Context) {
	w.mu.Lock()
	done := w.seen[EventInstanceDown]
	w.mu.Unlock()
	if done {
		return
	}
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	state, err := w.cfg.EC2.InstanceState(sctx, w.cfg.Target.InstanceID)
	now := w.cfg.Now()
	if err != nil {
		w.setLast("EC2", err.Error())
		return
	}
	w.setLast("EC2", orGone(state))
	switch state {
	case "shutting-down":
		w.record(EventShuttingDown, now, w.cfg.Target.InstanceID)
	case "terminated", "":
		w.record(EventShuttingDown, now, "implied: "+orGone(state))
		w.record(EventInstanceDown, now, w.cfg.Target.InstanceID+" "+orGone(state))
	}
}

// sampleLeader asks /v2/leader (through any master), then the new
// leader's view of the app's task.
func (w *masterWatcher) sampleLeader(ctx context.Context) {
	w.mu.Lock()
	done := w.seen[EventTaskKept]
	elected := w.seen[EventMarathonLeader]
	w.mu.Unlock()
	if done {
		return
	}
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, w.cfg.Interval)
	defer cancel()
	if !elected {
		leader, err := w.cfg.Marathon.Leader(sctx)
		now := w.cfg.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil || leader == w.cfg.Target.Leader {
			why := "it names the lost master " + leader
			if err != nil {
				why = err.Error()
			}
			w.last["Marathon"] = why
			w.recordLocked(EventMarathonLeaderless, now, why)
			return
		}
		w.last["Marathon"] = "leader " + leader
		w.recordLocked(EventMarathonLeaderless, now, "implied by a new leader")
		w.newLeaderLocked(now)
		w.report.NewMarathonLeader = leader
		w.recordLocked(EventMarathonLeader, now, leader)
		return
	}
	tasks, err := w.cfg.Marathon.AppTasks(sctx, w.cfg.Target.AppID)
	now := w.cfg.Now()
	if err != nil {
		w.setLast("Marathon", err.Error())
		return
	}
	var states []string
	for _, t := range tasks {
		states = append(states, t.ID+" "+t.State+" on "+t.Host)
		if t.ID == w.cfg.Target.TaskID && t.Host == w.cfg.Target.AppHost && t.State == "TASK_RUNNING" {
			w.record(EventTaskKept, now, fmt.Sprintf("task %s on %s, as before the kill", t.ID, t.Host))
			return
		}
	}
	w.setLast("Marathon", strings.Join(states, ", "))
}

func (w *masterWatcher) sampleMesos(ctx context.Context) {
	w.mu.Lock()
	done := w.seen[EventAgentsReregistered]
	w.mu.Unlock()
	if done {
		return
	}
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	st, err := w.cfg.Mesos(sctx)
	now := w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.last["Mesos"] = err.Error()
		return
	}
	host, _, herr := net.SplitHostPort(st.Leader)
	if herr != nil {
		host = st.Leader
	}
	w.last["Mesos"] = fmt.Sprintf("leader %s, agents %v", st.Leader, st.Agents)
	if host == w.cfg.Target.PrivateIP {
		return
	}
	w.newLeaderLocked(now)
	w.report.NewMesosLeader = st.Leader
	w.recordLocked(EventMesosLeader, now, st.Leader)
	want := w.cfg.Outputs.AgentPrivateIPs
	for _, a := range want {
		if !slices.Contains(st.Agents, a) {
			return
		}
	}
	w.recordLocked(EventAgentsReregistered, now, fmt.Sprintf("%d agents active (%s)", len(want), strings.Join(want, ", ")))
}

func (w *masterWatcher) sampleApp(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	err := w.cfg.App.Ping(sctx)
	now := w.cfg.Now()
	if ctx.Err() != nil {
		return // the watch ended, not the app
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.report.AppFailures++
		w.last["app"] = err.Error()
		w.recordLocked(EventAppDown, now, err.Error())
		return
	}
	w.report.AppAnswers++
}

// AsReport is r in the shape of an agent failover's Report, for what
// draws or stores a Report (the SVG timeline): the same stack, timeline
// and budget, the killed master as the killed instance, and recovery as
// the masters' recovery, with the time to it as RTOSeconds.
func (r MasterReport) AsReport() Report {
	return Report{Stack: r.Stack, AppURL: r.AppURL, KilledInstanceID: r.Killed.InstanceID, KilledHost: r.Killed.PrivateIP,
		Mode: ModeCrash, Budget: r.Budget, Timeline: r.Timeline, Recovered: r.Recovered, RTOSeconds: r.RecoverySeconds,
		ClicksLost: []string{}, Error: r.Error, SampleIntervalSeconds: r.SampleIntervalSeconds}
}
