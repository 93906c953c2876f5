package failover_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

func writeClicks(t *testing.T, c *failovertest.Cluster, n int) []string {
	t.Helper()
	clicker := mobycounter.NewClicker(rand.New(rand.NewPCG(1, 2)))
	var written []string
	for range n {
		click := clicker.Next()
		if err := c.App().Write(context.Background(), click); err != nil {
			t.Fatal(err)
		}
		written = append(written, click)
	}
	return written
}

// lastRequested is when failOver last asked EC2 to terminate: Mesos's
// detection delay runs from then.
var lastRequested time.Time

// failOver finds the target, crashes it and watches, as kill-node does by
// default.
func failOver(t *testing.T, c *failovertest.Cluster, written []string, deadline time.Duration) (failover.Report, failover.Target, string) {
	t.Helper()
	return failOverMode(t, c, failover.ModeCrash, written, deadline)
}

// failOverMode is failOver with a kill mode.
func failOverMode(t *testing.T, c *failovertest.Cluster, mode failover.Mode, written []string, deadline time.Duration) (failover.Report, failover.Target, string) {
	t.Helper()
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, mode)
	if err != nil {
		t.Fatal(err)
	}
	lastRequested = killedAt
	var progress failovertest.Progress
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, Mode: mode, KilledAt: killedAt, Written: written,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: 5 * time.Millisecond, Deadline: deadline, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return r, target, progress.String()
}

// samplingSlack is how far apart two samples seeing one moment may be on a
// loaded test machine (the race detector, other packages' tests).
const samplingSlack = 25 * time.Millisecond

// checkTimeline checks that the timeline holds exactly the events want (in
// any order), each once, in time order, each with its source, and returns
// their times.
func checkTimeline(t *testing.T, r failover.Report, want []string) map[string]time.Time {
	t.Helper()
	at := map[string]time.Time{}
	for i, e := range r.Timeline {
		if _, dup := at[e.Name]; dup {
			t.Errorf("event %q twice", e.Name)
		}
		at[e.Name] = e.At
		if e.Source == "" || e.Source != failover.SourceOf(e.Name) || !contains(failover.Sources, e.Source) {
			t.Errorf("event %q has source %q", e.Name, e.Source)
		}
		if i > 0 && e.At.Before(r.Timeline[i-1].At) {
			t.Errorf("event %q at %s is before %q at %s", e.Name, e.At, r.Timeline[i-1].Name, r.Timeline[i-1].At)
		}
		if math.Abs(e.SinceKillSeconds-e.At.Sub(r.Timeline[0].At).Seconds()) > 1e-6 {
			t.Errorf("event %q: %gs since the kill, at %s", e.Name, e.SinceKillSeconds, e.At.Sub(r.Timeline[0].At))
		}
	}
	got := eventNames(r)
	slices.Sort(got)
	exp := slices.Clone(want)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("timeline %q, want the events %q", eventNames(r), want)
	}
	return at
}

func served(r failover.Report) failover.Event {
	for _, e := range r.Timeline {
		if e.Name == failover.EventAppServed {
			return e
		}
	}
	return failover.Event{}
}

func eventNames(r failover.Report) []string {
	var names []string
	for _, e := range r.Timeline {
		names = append(names, e.Name)
	}
	return names
}

func TestNormalFailover(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	written := writeClicks(t, c, 10)
	r, target, progress := failOver(t, c, written, 10*time.Second)

	agents := c.Agents()
	if target.InstanceID != agents[0].InstanceID || target.Host != agents[0].Host || target.PrivateIP != agents[0].Host || target.TaskID == "" {
		t.Errorf("target %+v, want the first agent %+v", target, agents[0])
	}
	if !r.Recovered || r.Error != "" {
		t.Fatalf("not recovered: %+v\nprogress:\n%s", r, progress)
	}
	if r.NewHost != agents[1].Host || r.KilledHost != agents[0].Host || r.KilledInstanceID != agents[0].InstanceID {
		t.Errorf("hosts: killed %s (%s), new %s; want %s -> %s", r.KilledHost, r.KilledInstanceID, r.NewHost, agents[0].Host, agents[1].Host)
	}
	if len(r.ClicksLost) != 0 || r.ClicksWritten != 10 {
		t.Errorf("clicks: %d written, lost %v; want 10 and none", r.ClicksWritten, r.ClicksLost)
	}
	want := []string{failover.EventKill, failover.EventShuttingDown, failover.EventAppDown, failover.EventInstanceDown,
		failover.EventVolumeDetached, failover.EventOldOutOfService, failover.EventAgentLost, failover.EventTaskStaged,
		failover.EventVolumeAttached, failover.EventTaskRunning, failover.EventNewInService, failover.EventAppServed, failover.EventClicksReadBack,
		failover.EventRecoveryHeld}
	at := checkTimeline(t, r, want)
	if r.Timeline[0].Name != failover.EventKill || r.Timeline[len(r.Timeline)-1].Name != failover.EventRecoveryHeld {
		t.Errorf("timeline %q does not run from the kill to the recovery held", eventNames(r))
	}
	// The recovery held for the app's health check's grace period +
	// interval x failures (60 s + 5 s x 3, at failovertest's scale).
	window := 75 * failovertest.HealthCheckSecond
	if r.StabilityWindowSeconds != window.Seconds() || at[failover.EventRecoveryHeld].Sub(at[failover.EventAppServed]) < window {
		t.Errorf("window %gs, held %s after served; want %s", r.StabilityWindowSeconds, at[failover.EventRecoveryHeld].Sub(at[failover.EventAppServed]), window)
	}
	// The causal order, up to sampling: two events are seen by separate
	// samples, which a loaded machine may take a few intervals apart.
	for _, pair := range [][2]string{{failover.EventShuttingDown, failover.EventInstanceDown}, {failover.EventInstanceDown, failover.EventVolumeDetached},
		{failover.EventAgentLost, failover.EventTaskStaged}, {failover.EventTaskStaged, failover.EventTaskRunning},
		{failover.EventVolumeDetached, failover.EventVolumeAttached}, {failover.EventVolumeAttached, failover.EventAppServed},
		{failover.EventTaskRunning, failover.EventAppServed}, {failover.EventNewInService, failover.EventAppServed},
		{failover.EventOldOutOfService, failover.EventAppServed}, {failover.EventAppServed, failover.EventClicksReadBack},
		{failover.EventClicksReadBack, failover.EventRecoveryHeld}} {
		if at[pair[1]].Add(samplingSlack).Before(at[pair[0]]) {
			t.Errorf("%q at %s is before %q at %s", pair[1], at[pair[1]], pair[0], at[pair[0]])
		}
	}
	if r.RTOSeconds <= 0 || r.RTOSeconds != served(r).SinceKillSeconds {
		t.Errorf("RTO %gs, want the time to %q (%gs)", r.RTOSeconds, failover.EventAppServed, served(r).SinceKillSeconds)
	}
	// Mesos's detection delay passes before the agent is seen lost.
	if lost := at[failover.EventAgentLost].Sub(lastRequested); lost < failovertest.DefaultDetectionDelay {
		t.Errorf("agent lost %s after the kill, before the detection delay %s", lost, failovertest.DefaultDetectionDelay)
	}
	if r.Mode != failover.ModeCrash || r.VolumeID != failovertest.VolumeID || r.NewInstanceID != agents[1].InstanceID {
		t.Errorf("mode %q, volume %q, new instance %q", r.Mode, r.VolumeID, r.NewInstanceID)
	}
	// Every event is printed as it is recorded.
	for _, name := range want {
		if !strings.Contains(progress, name) {
			t.Errorf("progress lacks %q:\n%s", name, progress)
		}
	}
	if r.Budget.Total <= 0 || r.SampleIntervalSeconds != 0.005 {
		t.Errorf("budget %s, sample interval %gs", r.Budget.Total, r.SampleIntervalSeconds)
	}
}

// The watch samples each source at its interval: over the recovery, each
// was asked at least half as often as the interval allows, however fast
// the machine.
func TestWatchSamplesEverySource(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{DetectionDelay: 200 * time.Millisecond})
	r, _, _ := failOver(t, c, nil, 10*time.Second)
	if !r.Recovered {
		t.Fatalf("not recovered: %s", r.Error)
	}
	// The app is sampled until the clicks are read back, Marathon until
	// the task runs, EC2 until the instance is down.
	var running float64
	for _, e := range r.Timeline {
		if e.Name == failover.EventTaskRunning {
			running = e.SinceKillSeconds
		}
	}
	if min := int(running / r.SampleIntervalSeconds / 2); r.Samples.Marathon < min || r.Samples.App < min {
		t.Errorf("samples %+v over %gs at %gs, want at least %d of Marathon and the app", r.Samples, running, r.SampleIntervalSeconds, min)
	}
	if n := len(c.EC2Server().Calls("DescribeInstances")); n < 2 {
		t.Errorf("EC2 was asked %d times", n)
	}
}

func TestBufferedClicksLostInTheCrash(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Buffered: true})
	written := writeClicks(t, c, 5)
	r, _, _ := failOver(t, c, written, 10*time.Second)
	if !r.Recovered {
		t.Fatalf("not recovered: %s", r.Error)
	}
	if strings.Join(r.ClicksLost, ",") != strings.Join(written, ",") {
		t.Errorf("lost %v, want every buffered click %v", r.ClicksLost, written)
	}
	if p := r.Problems(0); len(p) != 1 || !strings.Contains(p[0], "5 of 5 clicks lost") {
		t.Errorf("problems %q", p)
	}
}

func TestAppNeverComesBack(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	written := writeClicks(t, c, 3)
	r, _, progress := failOver(t, c, written, 300*time.Millisecond)
	if r.Recovered || r.RTOSeconds != 0 {
		t.Fatalf("recovered: %+v", r)
	}
	if !strings.Contains(r.Error, "deadline 300ms exceeded") || !strings.Contains(r.Error, c.Outputs().AppURL) {
		t.Errorf("error %q does not name the deadline and the ELB", r.Error)
	}
	names := eventNames(r)
	if names[len(names)-1] != failover.EventDeadlineExceeded || !strings.Contains(progress, failover.EventDeadlineExceeded) {
		t.Errorf("timeline %q does not end with the deadline", names)
	}
	// The agent was lost, but no task was staged anywhere.
	if !contains(names, failover.EventAgentLost) || contains(names, failover.EventTaskStaged) {
		t.Errorf("timeline %q", names)
	}
	if len(r.ClicksLost) != 3 {
		t.Errorf("clicks not read back must count as lost: %v", r.ClicksLost)
	}
	if p := r.Problems(0); len(p) != 2 {
		t.Errorf("problems %q, want not recovered and clicks lost", p)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUntaggedInstanceIsRefused(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{UntaggedAgents: true})
	_, err := failover.FindTarget(context.Background(), c.Marathon(), c.EC2(), c.Outputs())
	if !errors.Is(err, ec2ops.ErrNotInScope) || !strings.Contains(err.Error(), c.Agents()[0].InstanceID) {
		t.Fatalf("err = %v, want a refusal naming %s", err, c.Agents()[0].InstanceID)
	}
	// Kill checks the tags again, whatever the target says: here the app's
	// own task, agent and instance, which pass the checks of Marathon and
	// the ELB.
	a := c.Agents()[0]
	task := c.MarathonServer().Tasks(c.Outputs().AppID)[0]
	_, err = failover.Kill(context.Background(), c.Marathon(), c.EC2(), c.LoadBalancer(), c.Outputs(),
		failover.Target{AppID: c.Outputs().AppID, TaskID: task.ID, Host: a.Host, InstanceID: a.InstanceID, PrivateIP: a.Host}, failover.ModeCrash)
	if !errors.Is(err, ec2ops.ErrNotInScope) {
		t.Fatalf("Kill: err = %v, want ErrNotInScope", err)
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}

func TestMarathonUnreachable(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	c.StopMarathon()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), c.Outputs())
	if err == nil {
		t.Fatal("FindTarget succeeded with Marathon stopped")
	}
	for _, want := range []string{c.Outputs().MarathonURL, "unreachable", "operatorCidr", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}

// A Marathon that stops answering after the kill does not stop the watch:
// EC2 and the ELB are still sampled. But without Marathon's word that a
// replacement task runs on another agent, an answer through the ELB is not
// counted as the recovery (issue 11: recovery counts only from the
// replacement), so the watch ends at its deadline saying why.
func TestWatchSurvivesMarathonDown(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	c.StopMarathon()
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: 5 * time.Millisecond, Deadline: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	names := eventNames(r)
	if r.Recovered || contains(names, failover.EventTaskRunning) || !contains(names, failover.EventInstanceDown) || !contains(names, failover.EventOldOutOfService) {
		t.Errorf("recovered %v, timeline %q", r.Recovered, names)
	}
	if !strings.Contains(r.Error, "replacement task") || !strings.Contains(r.Error, "Marathon") {
		t.Errorf("error %q does not say the replacement was never confirmed", r.Error)
	}
}

func TestWatchCancelled(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	ctx, cancel := context.WithCancel(context.Background())
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Recovered || !strings.Contains(r.Error, "cancelled") {
		t.Errorf("report %+v, want a cancelled watch", r)
	}
}

func TestWatchRejectsBadConfig(t *testing.T) {
	_, err := failover.Watch(context.Background(), failover.WatchConfig{})
	if err == nil || !strings.Contains(err.Error(), "Marathon client") || !strings.Contains(err.Error(), "ELB client") || !strings.Contains(err.Error(), "kill time") {
		t.Errorf("err = %v", err)
	}
}

func TestWatchClampsIntervalToOneSecond(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	o := c.Outputs()
	a := c.Agents()[0]
	r, err := failover.Watch(context.Background(), failover.WatchConfig{Outputs: o,
		Target:   failover.Target{AppID: o.AppID, TaskID: "t", Host: a.Host, InstanceID: a.InstanceID, PrivateIP: a.Host},
		KilledAt: time.Now(), Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: time.Minute, Deadline: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.SampleIntervalSeconds != 1 {
		t.Errorf("interval %gs, want 1s", r.SampleIntervalSeconds)
	}
}

func TestReportJSON(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r, _, _ := failOver(t, c, writeClicks(t, c, 2), 10*time.Second)
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rtoSeconds", "timeline", "clicksLost", "budget", "newHost", "samples"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON report lacks %q: %s", k, raw)
		}
	}
	if lost, _ := back["clicksLost"].([]any); lost == nil {
		t.Errorf("clicksLost must be [] not null: %s", raw)
	}
}
