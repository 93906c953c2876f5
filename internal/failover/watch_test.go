package failover_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
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
// detection delay runs from then, a little before Kill returns.
var lastRequested time.Time

// failOver finds the target, kills it and watches, as kill-node does.
func failOver(t *testing.T, c *failovertest.Cluster, written []string, deadline time.Duration) (failover.Report, failover.Target, string) {
	t.Helper()
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	requested := time.Now()
	killedAt, err := failover.Kill(ctx, c.EC2(), o, target)
	if err != nil {
		t.Fatal(err)
	}
	lastRequested = requested
	var progress failovertest.Progress
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt, Written: written,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), Interval: 5 * time.Millisecond, Deadline: deadline, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return r, target, progress.String()
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
	want := []string{failover.EventKill, failover.EventInstanceDown, failover.EventAgentLost, failover.EventTaskStaged,
		failover.EventTaskRunning, failover.EventAppServed, failover.EventClicksReadBack}
	if got := eventNames(r); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("timeline %q, want %q", got, want)
	}
	served := r.Timeline[5]
	if r.RTOSeconds <= 0 || r.RTOSeconds != served.SinceKillSeconds {
		t.Errorf("RTO %gs, want the time to %q (%gs)", r.RTOSeconds, served.Name, served.SinceKillSeconds)
	}
	// Mesos's detection delay passes before the agent is seen lost.
	if lost := r.Timeline[2].At.Sub(lastRequested); lost < failovertest.DefaultDetectionDelay {
		t.Errorf("agent lost %s after the kill, before the detection delay %s", lost, failovertest.DefaultDetectionDelay)
	}
	for i, e := range r.Timeline[1:] {
		if e.At.Before(r.Timeline[i].At) {
			t.Errorf("event %q at %s is before %q at %s", e.Name, e.At, r.Timeline[i].Name, r.Timeline[i].At)
		}
	}
	// Every event is printed as it is recorded, in the same order.
	last := -1
	for _, name := range want {
		i := strings.Index(progress, name)
		if i < 0 || i < last {
			t.Errorf("progress lacks %q in order:\n%s", name, progress)
		}
		last = i
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
	running := r.Timeline[4].SinceKillSeconds
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
	// Kill checks the tags again, whatever the target says.
	a := c.Agents()[0]
	_, err = failover.Kill(context.Background(), c.EC2(), c.Outputs(), failover.Target{AppID: "/x", TaskID: "t", Host: a.Host, InstanceID: a.InstanceID, PrivateIP: a.Host})
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
// EC2 and the ELB are still sampled and the recovery is measured.
func TestWatchSurvivesMarathonDown(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	killedAt, err := failover.Kill(ctx, c.EC2(), o, target)
	if err != nil {
		t.Fatal(err)
	}
	c.StopMarathon()
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), Interval: 5 * time.Millisecond, Deadline: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	names := eventNames(r)
	if !r.Recovered || contains(names, failover.EventTaskRunning) || !contains(names, failover.EventInstanceDown) {
		t.Errorf("recovered %v, timeline %q", r.Recovered, names)
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
	killedAt, err := failover.Kill(ctx, c.EC2(), o, target)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Recovered || !strings.Contains(r.Error, "cancelled") {
		t.Errorf("report %+v, want a cancelled watch", r)
	}
}

func TestWatchRejectsBadConfig(t *testing.T) {
	_, err := failover.Watch(context.Background(), failover.WatchConfig{})
	if err == nil || !strings.Contains(err.Error(), "Marathon client") || !strings.Contains(err.Error(), "kill time") {
		t.Errorf("err = %v", err)
	}
}

func TestWatchClampsIntervalToOneSecond(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	o := c.Outputs()
	a := c.Agents()[0]
	r, err := failover.Watch(context.Background(), failover.WatchConfig{Outputs: o,
		Target:   failover.Target{AppID: o.AppID, TaskID: "t", Host: a.Host, InstanceID: a.InstanceID, PrivateIP: a.Host},
		KilledAt: time.Now(), Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), Interval: time.Minute, Deadline: time.Millisecond})
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
