package failover_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

func eventAt(t *testing.T, r failover.Report, name string) time.Duration {
	t.Helper()
	for _, e := range r.Timeline {
		if e.Name == name {
			return time.Duration(e.SinceKillSeconds * float64(time.Second))
		}
	}
	t.Fatalf("timeline %q lacks %q", eventNames(r), name)
	return 0
}

func has(r failover.Report, name string) bool { return contains(eventNames(r), name) }

// A crash and a graceful kill of the same cluster report different
// timelines, each true to what happened: after a crash the app is gone at
// once and the instance terminated soon after; after a graceful kill the
// killed agent keeps answering through the OS shutdown, and only then does
// the instance stop and Mesos start to notice.
func TestCrashAndGracefulTimelinesDiffer(t *testing.T) {
	const osShutdown = 300 * time.Millisecond
	opts := failovertest.Options{OSShutdown: osShutdown}
	crashC := failovertest.StartT(t, opts)
	crash, _, crashProgress := failOverMode(t, crashC, failover.ModeCrash, writeClicks(t, crashC, 3), 10*time.Second)
	gracefulC := failovertest.StartT(t, opts)
	graceful, _, gracefulProgress := failOverMode(t, gracefulC, failover.ModeGraceful, writeClicks(t, gracefulC, 3), 10*time.Second)

	t.Logf("crash:\n%s\ngraceful:\n%s", crashProgress, gracefulProgress)
	for name, r := range map[string]failover.Report{"crash\n" + crashProgress: crash, "graceful\n" + gracefulProgress: graceful} {
		if !r.Recovered || len(r.ClicksLost) != 0 || r.NewHost != crashC.Agents()[1].Host {
			t.Fatalf("%s: recovered %v on %s, lost %v, error %q", name, r.Recovered, r.NewHost, r.ClicksLost, r.Error)
		}
	}
	if crash.Mode != failover.ModeCrash || graceful.Mode != failover.ModeGraceful ||
		crash.Budget.Mode != failover.ModeCrash || graceful.Budget.Mode != failover.ModeGraceful {
		t.Errorf("modes: crash report %q budget %q, graceful report %q budget %q", crash.Mode, crash.Budget.Mode, graceful.Mode, graceful.Budget.Mode)
	}
	// How each asked EC2: SkipOsShutdown exactly as the API names it.
	if got := crashC.EC2Server().Calls("TerminateInstances")[0].Params; got.Get("SkipOsShutdown") != "true" {
		t.Errorf("crash sent %v, want SkipOsShutdown=true", got)
	}
	if got := gracefulC.EC2Server().Calls("TerminateInstances")[0].Params; got.Has("SkipOsShutdown") {
		t.Errorf("graceful sent %v, want the API default (no SkipOsShutdown)", got)
	}

	// Crash: no answer after the kill, the instance gone long before the
	// OS shutdown would have ended.
	if has(crash, failover.EventOldAnswers) {
		t.Errorf("crash: the killed agent answered after the kill:\n%s", crashProgress)
	}
	if d := eventAt(t, crash, failover.EventAppDown); d >= osShutdown {
		t.Errorf("crash: app down at %s, want at once", d)
	}
	if d := eventAt(t, crash, failover.EventInstanceDown); d >= osShutdown {
		t.Errorf("crash: instance terminated at %s, want well before %s", d, osShutdown)
	}

	// Graceful: the killed agent answered after the kill and stopped
	// answering only at the end of the OS shutdown; the instance stopped
	// then, and Mesos lost the agent a detection delay later.
	if !has(graceful, failover.EventOldAnswers) || eventAt(t, graceful, failover.EventOldAnswers) >= osShutdown {
		t.Errorf("graceful: no answer of the killed agent during the OS shutdown:\n%s", gracefulProgress)
	}
	for _, ev := range []string{failover.EventAppDown, failover.EventInstanceDown} {
		if d := eventAt(t, graceful, ev); d < osShutdown {
			t.Errorf("graceful: %q at %s, before the OS shutdown ended (%s)", ev, d, osShutdown)
		}
	}
	if d := eventAt(t, graceful, failover.EventAgentLost); d < osShutdown+failovertest.DefaultDetectionDelay {
		t.Errorf("graceful: agent lost at %s, want after the OS shutdown and the detection delay (%s)", d, osShutdown+failovertest.DefaultDetectionDelay)
	}
	if graceful.RTO() < osShutdown+failovertest.DefaultDetectionDelay || graceful.RTO() <= crash.RTO() {
		t.Errorf("RTO graceful %s, crash %s: graceful must include the OS shutdown", graceful.RTO(), crash.RTO())
	}
	if graceful.Budget.Total-crash.Budget.Total != facts.OSShutdownEstimate {
		t.Errorf("budgets graceful %s, crash %s: want the OS shutdown estimate between them", graceful.Budget.Total, crash.Budget.Total)
	}
	if !strings.Contains(crash.Timeline[0].Detail, "SkipOsShutdown=true") || !strings.Contains(graceful.Timeline[0].Detail, "graceful") {
		t.Errorf("kill details %q and %q do not name the mode", crash.Timeline[0].Detail, graceful.Timeline[0].Detail)
	}
}

// A graceful kill flushes what the page cache held (the OS shutdown
// unmounts the volume); a crash loses it (TestBufferedClicksLostInTheCrash).
func TestGracefulKillFlushesBufferedClicks(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Buffered: true})
	written := writeClicks(t, c, 5)
	r, _, progress := failOverMode(t, c, failover.ModeGraceful, written, 10*time.Second)
	if !r.Recovered || len(r.ClicksLost) != 0 {
		t.Fatalf("recovered %v, lost %v\n%s", r.Recovered, r.ClicksLost, progress)
	}
}

// A dying agent's answer never ends the watch. During a graceful shutdown
// the ELB blips once (a 504), then the killed agent answers again: the old
// watch took that first good answer after a failure for the recovery.
// Only an answer while the replacement's instance is the only one in
// service counts, and the clicks are read back from it.
func TestDyingAgentsAnswerNeverEndsTheWatch(t *testing.T) {
	const osShutdown = 300 * time.Millisecond
	c := failovertest.StartT(t, failovertest.Options{OSShutdown: osShutdown})
	written := writeClicks(t, c, 3)
	c.ELB().Fail(1, http.StatusGatewayTimeout) // the watch's first ping
	r, target, progress := failOverMode(t, c, failover.ModeGraceful, written, 10*time.Second)
	if !r.Recovered || len(r.ClicksLost) != 0 {
		t.Fatalf("recovered %v, lost %v: %s\n%s", r.Recovered, r.ClicksLost, r.Error, progress)
	}
	down, old := eventAt(t, r, failover.EventAppDown), eventAt(t, r, failover.EventOldAnswers)
	if down >= old || old >= osShutdown {
		t.Errorf("the blip at %s should come before the killed agent's answer at %s, within the OS shutdown %s\n%s", down, old, osShutdown, progress)
	}
	if r.Samples.DyingAnswers == 0 {
		t.Errorf("no answer was refused: %+v", r.Samples)
	}
	if r.RTO() < osShutdown+failovertest.DefaultDetectionDelay {
		t.Errorf("RTO %s: the recovery was declared while the killed agent still served (OS shutdown %s)\n%s", r.RTO(), osShutdown, progress)
	}
	newInst := c.Agents()[1].InstanceID
	for _, ev := range []string{failover.EventAppServed, failover.EventClicksReadBack} {
		for _, e := range r.Timeline {
			if e.Name == ev && !strings.Contains(e.Detail, newInst) {
				t.Errorf("%s: %q does not name the replacement %s", ev, e.Detail, newInst)
			}
		}
	}
	if r.NewInstanceID != newInst || target.InstanceID == newInst {
		t.Errorf("new instance %q, killed %q", r.NewInstanceID, target.InstanceID)
	}
	if eventAt(t, r, failover.EventAppServed) < eventAt(t, r, failover.EventNewInService) || eventAt(t, r, failover.EventAppServed) < eventAt(t, r, failover.EventTaskRunning) {
		t.Errorf("served before the replacement ran and was in service:\n%s", progress)
	}
}

// The RTO starts at the terminate request, not when EC2 answered it: with
// an EC2 that takes 250 ms to answer TerminateInstances, the kill event is
// the moment before the request was sent.
func TestRTOStartsAtTheRequest(t *testing.T) {
	const latency = 250 * time.Millisecond
	c := failovertest.StartT(t, failovertest.Options{TerminateLatency: latency})
	ctx := context.Background()
	o := c.Outputs()
	target, err := failover.FindTarget(ctx, c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	returned := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	calls := c.EC2Server().Calls("TerminateInstances")
	if len(calls) != 1 {
		t.Fatalf("TerminateInstances called %d times", len(calls))
	}
	received := calls[0].At
	if killedAt.Before(before) || killedAt.After(received) {
		t.Errorf("kill time %s is not between the call (%s) and EC2 receiving the request (%s)", killedAt, before, received)
	}
	if returned.Sub(killedAt) < latency {
		t.Errorf("Kill returned %s after the kill time: the time was taken after the answer", returned.Sub(killedAt))
	}
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: c.Marathon(), EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: 5 * time.Millisecond, Deadline: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Recovered || !r.Timeline[0].At.Equal(killedAt) || r.Timeline[0].Name != failover.EventKill {
		t.Fatalf("recovered %v, first event %+v, want %q at %s", r.Recovered, r.Timeline[0], failover.EventKill, killedAt)
	}
	if want := served(r).At.Sub(killedAt); math.Abs(r.RTOSeconds-want.Seconds()) > 1e-6 || want < latency {
		t.Errorf("RTO %s, want the time from the request to the answer %s (at least EC2's %s latency)", r.RTO(), want, latency)
	}
}

// The volume's move is its own lane: REX-Ray force-detaches the volume
// from an instance that is still shutting down and attaches it at once;
// Flocker waits for the instance to stop and detaches it without force, so
// its recovery comes after the instance is terminated.
func TestVolumeMovePerDriver(t *testing.T) {
	const stop = 400 * time.Millisecond // a crashed instance slow to reach terminated
	results := map[string]failover.Report{}
	for _, driver := range []string{facts.VolumeDriverRexRay, facts.VolumeDriverFlocker} {
		c := failovertest.StartT(t, failovertest.Options{VolumeDriver: driver, ShutdownDelay: stop})
		r, _, progress := failOver(t, c, writeClicks(t, c, 2), 10*time.Second)
		if !r.Recovered || len(r.ClicksLost) != 0 || r.VolumeID != failovertest.VolumeID {
			t.Fatalf("%s: recovered %v, lost %v, volume %q: %s\n%s", driver, r.Recovered, r.ClicksLost, r.VolumeID, r.Error, progress)
		}
		if r.Budget.Driver != driver {
			t.Errorf("%s: budget of %s", driver, r.Budget.Driver)
		}
		attached := eventAt(t, r, failover.EventVolumeAttached)
		actions := strings.Join(c.DriverActions(), "\n")
		switch driver {
		case facts.VolumeDriverRexRay:
			// The watch may end before the instance is terminated at all.
			if (has(r, failover.EventInstanceDown) && attached >= eventAt(t, r, failover.EventInstanceDown)) || !strings.Contains(actions, "force-detach") {
				t.Errorf("rexray: attached at %s, before the instance terminated; actions:\n%s\n%s", attached, actions, progress)
			}
		case facts.VolumeDriverFlocker:
			down := eventAt(t, r, failover.EventInstanceDown)
			if attached+samplingSlack < down || strings.Contains(actions, "force") || !strings.Contains(actions, "detach "+failovertest.VolumeID+" from dead node") {
				t.Errorf("flocker: attached at %s, instance terminated at %s; actions:\n%s", attached, down, actions)
			}
		}
		for _, e := range r.Timeline {
			if (e.Name == failover.EventVolumeAttached || e.Name == failover.EventVolumeDetached) && e.Source != failover.SourceVolume {
				t.Errorf("%s: %q in lane %q", driver, e.Name, e.Source)
			}
		}
		results[driver] = r
	}
	if results[facts.VolumeDriverFlocker].RTO() <= results[facts.VolumeDriverRexRay].RTO() {
		t.Errorf("Flocker RTO %s is not longer than REX-Ray's %s", results[facts.VolumeDriverFlocker].RTO(), results[facts.VolumeDriverRexRay].RTO())
	}
}
