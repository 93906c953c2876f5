package failover

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
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
	Target   MasterTarget // FindMaster's: what it led, the task, the framework
	KilledAt time.Time
	Marathon *marathon.Client // every master's Marathon (o.MarathonURLs)
	EC2      *ec2ops.Client
	App      *mobycounter.Client // the ELB's address (o.AppURL)
	Mesos    MesosProbe          // NewMesosProbe(o.MesosURLs, nil)
	// ZooKeeper asks the ZooKeepers who leads (NewZooKeeperProbe); nil:
	// ZooKeeper's election is not observed, only implied.
	ZooKeeper ZooKeeperProbe
	// SessionTimeout is the ZooKeeper session the lost master's leadership
	// expires after (default facts.ZooKeeper.MesosSessionTimeout).
	SessionTimeout time.Duration
	// LeaderTimeout bounds one Marathon sample (default 4 s): more than
	// the 2.75 s a leaderless Marathon waits before its 503.
	LeaderTimeout time.Duration
	Interval      time.Duration // default and maximum 1s
	Deadline      time.Duration // default facts.FailoverWatchTimeout
	Progress      io.Writer
	Now           func() time.Time
}

// DefaultLeaderTimeout is MasterWatchConfig.LeaderTimeout's default.
const DefaultLeaderTimeout = facts.MarathonLeaderProbeTimeout

// MasterReport is what a master's loss measured.
type MasterReport struct {
	Stack  string       `json:"stack"`
	AppURL string       `json:"appUrl"`
	Killed MasterTarget `json:"killed"`
	Budget Budget       `json:"budget"`

	Timeline []Event `json:"timeline"`
	// NewMarathonLeader, NewMesosLeader and NewZooKeeperLeader are the
	// leaders elected after the loss (host:port; a master for ZooKeeper),
	// empty for a leader that did not change.
	NewMarathonLeader  string `json:"newMarathonLeader,omitempty"`
	NewMesosLeader     string `json:"newMesosLeader,omitempty"`
	NewZooKeeperLeader string `json:"newZooKeeperLeader,omitempty"`
	// Recovered is true once the cluster schedules again: every leader
	// the lost master held elected anew (the others unchanged or
	// re-elected), every agent registered with the Mesos leader,
	// Marathon's framework active there, the app's task running in both
	// Marathon and Mesos where it ran, a canary app deployed and removed,
	// and the app answered every ping through the ELB. RecoverySeconds is
	// the time from the kill to the canary's removal.
	Recovered       bool    `json:"recovered"`
	RecoverySeconds float64 `json:"recoverySeconds,omitempty"`
	// LeaderlessSeconds is how long Marathon had no leader (from the kill
	// if the lost master led it, else from the first sample without one),
	// MesosLeaderlessSeconds the same of Mesos; the budgets are the
	// case's (MasterBudget).
	LeaderlessSeconds            float64 `json:"leaderlessSeconds,omitempty"`
	LeaderlessBudgetSeconds      float64 `json:"leaderlessBudgetSeconds"`
	MesosLeaderlessSeconds       float64 `json:"mesosLeaderlessSeconds,omitempty"`
	MesosLeaderlessBudgetSeconds float64 `json:"mesosLeaderlessBudgetSeconds"`
	// AppAnswers and AppFailures count the pings through the ELB.
	AppAnswers  int    `json:"appAnswers"`
	AppFailures int    `json:"appFailures"`
	Error       string `json:"error,omitempty"`

	SampleIntervalSeconds float64 `json:"sampleIntervalSeconds"`
}

// Recovery is the measured recovery time.
func (r MasterReport) Recovery() time.Duration { return seconds(r.RecoverySeconds) }

// Problems lists why the master failover failed; a limit of 0 checks no
// time. The leaderless times are judged against their budgets plus the
// margin the limit allows over the budget's total.
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
	if limit <= 0 {
		return p
	}
	if r.Recovered && r.Recovery() > limit {
		p = append(p, fmt.Sprintf("master recovery %s exceeds the limit %s (budget %s)", r.Recovery().Round(time.Millisecond), limit, r.Budget.Total))
	}
	margin := max(0, limit-r.Budget.Total)
	for _, l := range []struct {
		what          string
		took, allowed float64
	}{{"Marathon", r.LeaderlessSeconds, r.LeaderlessBudgetSeconds}, {"Mesos", r.MesosLeaderlessSeconds, r.MesosLeaderlessBudgetSeconds}} {
		if l.took > 0 && seconds(l.took) > seconds(l.allowed)+margin {
			p = append(p, fmt.Sprintf("%s had no leader for %.1fs, more than its budget %.1fs plus the margin %s", l.what, l.took, l.allowed, margin))
		}
	}
	return p
}

// WriteTimeline prints the timeline, one event a line.
func (r MasterReport) WriteTimeline(w io.Writer) error { return writeTimeline(w, r.Timeline) }

// Summary is the outcome in a few lines.
func (r MasterReport) Summary() string {
	var sb strings.Builder
	if r.Recovered {
		fmt.Fprintf(&sb, "masters recovered (master %d held %s): the cluster scheduled a canary %.1fs after the kill (budget %.1fs)\n",
			r.Killed.Index, r.Killed.Held, r.RecoverySeconds, r.Budget.Seconds)
	} else {
		fmt.Fprintf(&sb, "masters NOT recovered (master %d held %s): %s\n", r.Killed.Index, r.Killed.Held, r.Error)
	}
	fmt.Fprintf(&sb, "leaders after: Marathon %s, Mesos %s, ZooKeeper %s\n", orUnchanged(r.NewMarathonLeader), orUnchanged(r.NewMesosLeader), orUnchanged(r.NewZooKeeperLeader))
	fmt.Fprintf(&sb, "time without a Marathon leader: %.1fs (budget %.1fs); without a Mesos leader: %.1fs (budget %.1fs); app: %d answers, %d failures through the ELB\n",
		r.LeaderlessSeconds, r.LeaderlessBudgetSeconds, r.MesosLeaderlessSeconds, r.MesosLeaderlessBudgetSeconds, r.AppAnswers, r.AppFailures)
	return sb.String()
}

func orUnchanged(s string) string {
	if s == "" {
		return "unchanged"
	}
	return s
}

// WatchMaster samples EC2 (the killed master), Marathon (/v2/leader, the
// app's tasks), the Mesos masters (MesosProbe), the ZooKeepers
// (ZooKeeperProbe, if given) and the app through the ELB at least once a
// second after a master was killed, each in its own loop (watchLoop, as
// the agent watch), and expects an election only of what the lost master
// held (Target.Held): the others are reported "unchanged", or their
// election recorded if one came anyway (a Marathon whose ZooKeeper
// connection was to the lost server exits). It ends once the cluster
// schedules again (MasterReport.Recovered): a canary app (CanaryManifest)
// is deployed and removed once the leaders are back, every agent is
// active on the Mesos leader, Marathon's framework is active there and
// the app's task runs in both Marathon and Mesos where it ran. The app
// must answer every ping meanwhile. The ZooKeeper sessions' expiry is
// not observed (no client of ours holds one): the first new leader that
// waits for it implies it, placed at the session timeout after its start
// (the new ZooKeeper leader if the lost master led ZooKeeper: its
// session tracker restarts every timer) unless a leader came sooner.
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
		cfg.SessionTimeout = facts.ZooKeeper.MesosSessionTimeout
	}
	if cfg.LeaderTimeout <= 0 {
		cfg.LeaderTimeout = DefaultLeaderTimeout
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b, err := NewMasterBudget(cfg.Outputs.Failover, cfg.Target.BudgetCase())
	if err != nil {
		return MasterReport{}, fmt.Errorf("watching the master failover: %w", err)
	}
	// The lost master's Marathon would hold every request it is asked
	// until the timeout: ask the others.
	if cfg.Marathon, err = cfg.Marathon.Without(cfg.Target.MarathonURL); err != nil {
		return MasterReport{}, fmt.Errorf("watching the master failover: %w", err)
	}
	w := &masterWatcher{cfg: cfg, budget: b,
		watchLoop: newWatchLoop(cfg.KilledAt, cfg.Interval, cfg.Progress, cfg.Now, "EC2", "Marathon", "Mesos", "ZooKeeper", "canary", "app")}
	w.report = MasterReport{Stack: cfg.Outputs.Stack, AppURL: cfg.Outputs.AppURL, Killed: cfg.Target, Budget: b.Budget,
		LeaderlessBudgetSeconds: b.MarathonLeaderless.Seconds(), MesosLeaderlessBudgetSeconds: b.MesosLeaderless.Seconds(),
		SampleIntervalSeconds: cfg.Interval.Seconds()}
	return w.run(ctx), nil
}

type masterWatcher struct {
	*watchLoop
	cfg    MasterWatchConfig
	budget MasterBudget
	report MasterReport

	// marathonGap and mesosGap are when each was first seen without a
	// leader, marathonOld when Marathon last named its old leader;
	// reconciled is whether Mesos ran the app's task for Marathon's
	// framework at the last sample.
	marathonGap, mesosGap, marathonOld time.Time
	reconciled                         bool
}

// expectMarathon is whether the lost master's loss makes Marathon elect:
// it led Marathon, or Mesos (the driver loses its master and Marathon
// abdicates), or ZooKeeper (every client is disconnected; Curator
// SUSPENDED makes the leader exit).
func (w *masterWatcher) expectMarathon() bool {
	h := w.cfg.Target.Held
	return h.Marathon || h.Mesos || h.ZooKeeper
}

// required are the events a recovery needs.
func (w *masterWatcher) required() []string {
	h := w.cfg.Target.Held
	req := []string{EventInstanceDown}
	if h.ZooKeeper && w.cfg.ZooKeeper != nil {
		req = append(req, EventZooKeeperLeader)
	}
	if h.Mesos {
		req = append(req, EventMesosLeader, EventAgentsReregistered)
	} else {
		req = append(req, EventAgentsActive)
	}
	if w.expectMarathon() {
		req = append(req, EventMarathonLeader)
	}
	return append(req, EventFrameworkActive, EventTaskKept, EventCanaryRemoved)
}

// missingLocked lists the required events not seen; the caller holds w.mu.
func (w *masterWatcher) missingLocked() []string {
	var want []string
	for _, e := range w.required() {
		if !w.seen[e] {
			want = append(want, e)
		}
	}
	return want
}

func (w *masterWatcher) run(ctx context.Context) MasterReport {
	t := w.cfg.Target
	w.record(EventKill, w.cfg.KilledAt, fmt.Sprintf("master %d, instance %s (%s), which held %s; leaders %s; crash", t.Index, t.InstanceID, t.PrivateIP, t.Held, t.Leaders))
	samples := []func(context.Context){w.sampleEC2, w.sampleMarathon, w.sampleMesos, w.sampleApp, w.sampleCanary}
	if w.cfg.ZooKeeper != nil {
		samples = append(samples, w.sampleZooKeeper)
	}
	w.watchLoop.run(ctx, w.cfg.Deadline, samples...)

	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.report
	now := w.cfg.Now()
	if want := w.missingLocked(); len(want) == 0 {
		r.RecoverySeconds = w.since(w.at[EventCanaryRemoved]).Seconds()
		if r.AppFailures == 0 {
			r.Recovered = true
			w.timeline = append(w.timeline, w.event(EventAppServedThroughout, now, fmt.Sprintf("%d answers, none failed", r.AppAnswers)))
		} else {
			r.Error = fmt.Sprintf("the app failed %d of %d pings through the ELB at %s", r.AppFailures, r.AppFailures+r.AppAnswers, w.cfg.Outputs.AppURL)
		}
	} else {
		r.Error = fmt.Sprintf("deadline %s exceeded before: %s", w.cfg.Deadline, strings.Join(want, ", "))
		if ctx.Err() != nil {
			r.Error = fmt.Sprintf("the watch was cancelled %s after the kill (%v) before: %s", w.since(now).Round(time.Millisecond), ctx.Err(), strings.Join(want, ", "))
		} else {
			w.timeline = append(w.timeline, w.event(EventDeadlineExceeded, now, w.lastSeen()))
		}
		if ls := w.lastSeen(); ls != "" {
			r.Error += "; last seen: " + ls
		}
	}
	if w.seen[EventMarathonLeader] {
		// From the first sample without a leader; a gap no sample saw
		// began after the last sample that named the old leader.
		from := w.marathonGap
		switch {
		case t.Held.Marathon:
			from = w.cfg.KilledAt
		case from.IsZero() && !w.marathonOld.IsZero():
			from = w.marathonOld
		case from.IsZero():
			from = w.cfg.KilledAt
		}
		r.LeaderlessSeconds = w.at[EventMarathonLeader].Sub(from).Seconds()
	}
	if w.seen[EventMesosLeader] {
		r.MesosLeaderlessSeconds = w.since(w.at[EventMesosLeader]).Seconds()
	}
	r.Timeline = w.timeline
	sortTimeline(r.Timeline)
	return r
}

func (w *masterWatcher) maybeFinish() {
	w.mu.Lock()
	c := len(w.missingLocked()) == 0
	w.mu.Unlock()
	if c {
		w.finish()
	}
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
	w.sampleInstance(sctx, w.cfg.EC2, w.cfg.Target.InstanceID)
}

// sessionExpiredLocked records the ZooKeeper session expiry that a new
// leader waiting for it implies; the caller holds w.mu.
func (w *masterWatcher) sessionExpiredLocked(now time.Time) {
	z := facts.ZooKeeper
	start, from := w.cfg.KilledAt, "the kill"
	if w.cfg.Target.Held.ZooKeeper {
		start, from = w.cfg.KilledAt.Add(z.SyncTimeout()+facts.ZooKeeperElectionEstimate), "the ZooKeeper election's expected end (the new leader restarts every session's timer)"
		if w.seen[EventZooKeeperLeader] {
			start, from = w.at[EventZooKeeperLeader], "the new ZooKeeper leader (it restarts every session's timer)"
		}
	}
	expected := start.Add(w.cfg.SessionTimeout)
	at := now
	if expected.Before(now) {
		at = expected
	}
	w.recordLocked(EventZooKeeperSession, at, fmt.Sprintf("implied by a new leader seen %.2fs after the kill; expected the session timeout %s after %s", w.since(now).Seconds(), w.cfg.SessionTimeout, from))
}

// sampleMarathon asks /v2/leader, then the leader's view of the app's
// task.
func (w *masterWatcher) sampleMarathon(ctx context.Context) {
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, max(w.cfg.Interval, w.cfg.LeaderTimeout))
	defer cancel()
	t := w.cfg.Target
	leader, err := w.cfg.Marathon.Leader(sctx)
	now := w.cfg.Now()
	if w.cut() {
		return
	}
	w.mu.Lock()
	switch {
	case err != nil || (leader == t.Leaders.Marathon && t.Held.Marathon):
		why := "it names the lost master " + leader
		if err != nil {
			why = err.Error()
		}
		w.last["Marathon"] = "no leader: " + why
		if w.marathonGap.IsZero() {
			w.marathonGap = now
		}
		if !w.seen[EventMarathonLeader] {
			w.recordLocked(EventMarathonLeaderless, now, why)
		}
		w.mu.Unlock()
		return
	case leader != t.Leaders.Marathon && !w.seen[EventMarathonLeader]:
		w.recordLocked(EventMarathonLeaderless, now, "implied by a new leader")
		if t.Held.Marathon || t.Held.ZooKeeper {
			w.sessionExpiredLocked(now)
		}
		detail := leader
		if !w.expectMarathon() {
			detail += " (the lost master did not lead Marathon: the leader's ZooKeeper connection was to the lost server, and it exited)"
		}
		w.report.NewMarathonLeader = leader
		w.recordLocked(EventMarathonLeader, now, detail)
	case leader == t.Leaders.Marathon:
		if !w.seen[EventMarathonLeader] {
			w.marathonOld = now
		}
		if !w.expectMarathon() {
			w.recordLocked(EventMarathonUnchanged, now, leader)
		}
	}
	w.last["Marathon"] = "leader " + leader
	elected := !w.expectMarathon() || w.seen[EventMarathonLeader]
	reconciled := w.reconciled
	w.mu.Unlock()
	if !elected {
		return
	}
	tasks, err := w.cfg.Marathon.AppTasks(sctx, t.AppID)
	now = w.cfg.Now()
	if err != nil {
		w.setLast("Marathon", err.Error())
		return
	}
	var states []string
	for _, task := range tasks {
		states = append(states, task.ID+" "+task.State+" on "+task.Host)
		if task.ID == t.TaskID && task.Host == t.AppHost && task.State == "TASK_RUNNING" && reconciled {
			w.record(EventTaskKept, now, fmt.Sprintf("task %s on %s, as before the kill, running in Marathon and in Mesos", task.ID, task.Host))
			return
		}
	}
	w.setLast("Marathon", strings.Join(states, ", "))
}

// sampleMesos reads the Mesos leader's state: who leads, the agents,
// Marathon's framework and the app's task in it.
func (w *masterWatcher) sampleMesos(ctx context.Context) {
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	st, err := w.cfg.Mesos(sctx)
	now := w.cfg.Now()
	if w.cut() {
		return
	}
	t := w.cfg.Target
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.last["Mesos"] = err.Error()
		if w.mesosGap.IsZero() {
			w.mesosGap = now
		}
		return
	}
	w.last["Mesos"] = fmt.Sprintf("leader %s, agents %v", st.Leader, st.Agents)
	idx := masterOfHost(w.cfg.Outputs, st.Leader)
	switch {
	case idx == t.Index:
		return // the lost master's state, answered before it died
	case st.Leader == t.Leaders.Mesos:
		w.recordLocked(EventMesosUnchanged, now, st.Leader)
	case !w.seen[EventMesosLeader]:
		if t.Held.Mesos {
			w.sessionExpiredLocked(now)
		}
		w.report.NewMesosLeader = st.Leader
		detail := st.Leader
		if !t.Held.Mesos {
			detail += " (unexpected: the lost master did not lead Mesos)"
		}
		w.recordLocked(EventMesosLeader, now, detail)
	}
	all := true
	for _, a := range w.cfg.Outputs.AgentPrivateIPs {
		all = all && slices.Contains(st.Agents, a)
	}
	if all {
		what, ev := "active with the leader", EventAgentsActive
		if t.Held.Mesos {
			what, ev = "re-registered with the new leader", EventAgentsReregistered
		}
		w.recordLocked(ev, now, fmt.Sprintf("%d agents %s (%s)", len(w.cfg.Outputs.AgentPrivateIPs), what, strings.Join(w.cfg.Outputs.AgentPrivateIPs, ", ")))
	}
	f, ok := st.Framework(t.FrameworkID)
	w.reconciled = ok && f.Tasks[t.TaskID] == "TASK_RUNNING"
	// Only a registration of the leader elected after the loss counts.
	if ok && f.Active && (!w.expectMarathon() || w.seen[EventMarathonLeader]) {
		w.recordLocked(EventFrameworkActive, now, fmt.Sprintf("framework %s active on the Mesos leader %s", t.FrameworkID, st.Leader))
	}
}

// sampleZooKeeper asks the ZooKeepers who leads.
func (w *masterWatcher) sampleZooKeeper(ctx context.Context) {
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	st, err := w.cfg.ZooKeeper(sctx)
	now := w.cfg.Now()
	if w.cut() {
		return
	}
	t := w.cfg.Target
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last["ZooKeeper"] = strings.Join(st.Modes, ", ")
	switch {
	case err != nil || st.Leader == t.Index:
		if t.Held.ZooKeeper && !w.seen[EventZooKeeperLeader] {
			w.recordLocked(EventZooKeeperLeaderless, now, fmt.Sprint(err))
		}
	case st.Leader == t.Leaders.ZooKeeperMaster:
		w.recordLocked(EventZooKeeperUnchanged, now, fmt.Sprintf("master %d", st.Leader))
	case !w.seen[EventZooKeeperLeader]:
		w.recordLocked(EventZooKeeperLeaderless, now, "implied by a new leader")
		w.report.NewZooKeeperLeader = fmt.Sprintf("master %d", st.Leader)
		w.recordLocked(EventZooKeeperLeader, now, w.report.NewZooKeeperLeader)
	}
}

func (w *masterWatcher) sampleApp(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	err := w.cfg.App.Ping(sctx)
	now := w.cfg.Now()
	if w.cut() {
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

// sampleCanary deploys the canary app and removes it, once everything
// else a recovery needs is back.
func (w *masterWatcher) sampleCanary(ctx context.Context) {
	w.mu.Lock()
	var pending []string
	for _, e := range w.missingLocked() {
		if e != EventCanaryRemoved && e != EventInstanceDown {
			pending = append(pending, e)
		}
	}
	deployed := w.seen[EventCanaryDeployed]
	w.mu.Unlock()
	if len(pending) > 0 {
		return
	}
	defer w.maybeFinish()
	if !deployed {
		res, err := w.cfg.Marathon.Apply(ctx, CanaryManifest)
		if err != nil {
			w.setLast("canary", err.Error())
			return
		}
		w.record(EventCanaryDeployed, w.cfg.Now(), fmt.Sprintf("app %s running as a task on %s", res.AppID, res.TaskHost))
	}
	if err := w.cfg.Marathon.Delete(ctx, facts.CanaryAppID); err != nil {
		w.setLast("canary", err.Error())
		return
	}
	w.record(EventCanaryRemoved, w.cfg.Now(), "app "+facts.CanaryAppID+" removed: Marathon schedules again")
}

// CanaryManifest is the canary app: one command task with no image (the
// Mesos containerizer's command executor), as small as Marathon allows,
// so that it needs nothing but an offer (mesosphere/marathon v1.4.9
// AppDefinition: cmd, cpus, mem, instances).
var CanaryManifest = []byte(`{"id": "` + facts.CanaryAppID + `", "cmd": "sleep 600", "cpus": 0.01, "mem": 16, "instances": 1}`)

// AsReport is r in the shape of an agent failover's Report, for what
// draws or stores a Report (the SVG timeline): the same stack, timeline
// and budget, the killed master as the killed instance, and recovery as
// the masters' recovery, with the time to it as RTOSeconds.
func (r MasterReport) AsReport() Report {
	return Report{Stack: r.Stack, AppURL: r.AppURL, KilledInstanceID: r.Killed.InstanceID, KilledHost: r.Killed.PrivateIP,
		Mode: ModeCrash, Budget: r.Budget, Timeline: r.Timeline, Recovered: r.Recovered, RTOSeconds: r.RecoverySeconds,
		ClicksLost: []string{}, Error: r.Error, SampleIntervalSeconds: r.SampleIntervalSeconds}
}
