package failover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

func findEvent(r failover.Report, name string) (failover.Event, bool) {
	for _, e := range r.Timeline {
		if e.Name == name {
			return e, true
		}
	}
	return failover.Event{}, false
}

// A replacement that Marathon kills for failing its health checks is not
// the recovery, whether it never passed them (killed once the grace
// period is over) or passed and then failed (killed within its grace
// period: a success ends the grace). The ELB serves it meanwhile, its own
// checks passing. The recovery is the next replacement, and its RTO
// starts after the kill, as the Marathon stand-in's own record has it.
func TestAReplacementMarathonKillsIsNotTheRecovery(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration // failing from this long after it runs
	}{
		{"never healthy, killed after its grace period", 0},
		// Failing once the ELB serves it (two of its 5 s checks after it
		// runs), killed after four failures, before its 60 s grace ends
		// and before the 75 s window could hold.
		{"healthy, then killed within its grace period", 30 * failovertest.HealthCheckSecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := failovertest.StartT(t, failovertest.Options{UnhealthyReplacements: 1, UnhealthyAfter: tc.after})
			written := writeClicks(t, c, 5)
			r, _, progress := failOver(t, c, written, 10*time.Second)
			if !r.Recovered {
				t.Fatalf("not recovered: %s\n%s", r.Error, progress)
			}
			kills := c.MarathonServer().Kills()
			if len(kills) != 1 || kills[0].Reason != marathontest.KillReasonFailedHealthChecks {
				t.Fatalf("Marathon's kills %+v, want the first replacement's", kills)
			}
			if grace := 60 * failovertest.HealthCheckSecond; tc.after > 0 && kills[0].At.Sub(kills[0].StartedAt) >= grace {
				t.Errorf("killed %s after it ran, not within its grace period of %s", kills[0].At.Sub(kills[0].StartedAt), grace)
			}
			served, _ := findEvent(r, failover.EventAppServed)
			if r.NewTaskID == "" || r.NewTaskID == kills[0].TaskID || served.At.Before(kills[0].At) {
				t.Errorf("recovered on task %s served at %s; Marathon killed %s at %s: the recovery must come from a later replacement\n%s",
					r.NewTaskID, served.At, kills[0].TaskID, kills[0].At, progress)
			}
			// A loaded machine may sample Marathon too seldom to see the
			// short-lived replacement; if the watch followed it, it says
			// it did not last.
			if _, ok := findEvent(r, failover.EventReplacementLost); !ok && strings.Contains(progress, kills[0].TaskID) {
				t.Errorf("timeline %q lacks %q", eventNames(r), failover.EventReplacementLost)
			}
			if len(r.ClicksLost) != 0 {
				t.Errorf("clicks lost %v", r.ClicksLost)
			}
		})
	}
}

// Replacements that never pass Marathon's health checks, however well the
// ELB serves them (its own checks pass), never start a recovery: no window
// is held or broken, and the watch ends at its deadline. The stability
// window alone
// would not tell: Marathon kills such a task after about as long as the
// window lasts.
func TestReplacementsThatNeverPassTheirHealthChecksNeverRecover(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{UnhealthyReplacements: 1000})
	r, _, progress := failOver(t, c, nil, 300*time.Millisecond)
	if r.Recovered {
		t.Fatalf("recovered on %s (task %s)\n%s", r.NewHost, r.NewTaskID, progress)
	}
	if _, ok := findEvent(r, failover.EventRecoveryBroken); ok || strings.Contains(r.Error, "short of the stability window") {
		t.Errorf("a replacement failing its health checks was counted as serving: %s\n%s", r.Error, progress)
	}
	if len(c.MarathonServer().Kills()) == 0 {
		t.Errorf("Marathon killed no replacement: the test's premise failed\n%s", progress)
	}
}

// The first replacement's agent crashes too, as soon as its task runs:
// Marathon relaunches the app on the third agent, and the watch follows it
// there.
func TestAReplacementOnAThirdAgentIsTheRecovery(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Agents: 3})
	agents := c.Agents()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	crashed := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			for _, task := range c.MarathonServer().Tasks(c.Outputs().AppID) {
				if task.Host == agents[1].Host && task.State == marathontest.TaskRunning {
					_, err := c.EC2().TerminateWith(ctx, failover.Scope(c.Outputs()), agents[1].InstanceID, ec2ops.TerminateOptions{SkipOSShutdown: true})
					crashed <- err
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	written := writeClicks(t, c, 5)
	r, _, progress := failOver(t, c, written, 10*time.Second)
	select {
	case err := <-crashed:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("the second agent never ran the app\n%s", progress)
	}
	if !r.Recovered || r.NewHost != agents[2].Host || r.NewInstanceID != agents[2].InstanceID {
		t.Fatalf("recovered %v on %s (%s), want the third agent %s: %s\n%s", r.Recovered, r.NewHost, r.NewInstanceID, agents[2].Host, r.Error, progress)
	}
	if _, ok := findEvent(r, failover.EventReplacementLost); !ok {
		t.Errorf("timeline %q lacks %q", eventNames(r), failover.EventReplacementLost)
	}
	// Each replacement's steps are in the timeline: the second agent's
	// task ran, then the third's.
	var ran []string
	for _, e := range r.Timeline {
		if e.Name == failover.EventTaskRunning {
			ran = append(ran, e.Detail)
		}
	}
	if len(ran) != 2 || !strings.HasSuffix(ran[0], " on "+agents[1].Host) || !strings.HasSuffix(ran[1], " on "+agents[2].Host) {
		t.Errorf("%q events %q, want the second agent's task, then the third's", failover.EventTaskRunning, ran)
	}
	if len(r.ClicksLost) != 0 {
		t.Errorf("clicks lost %v", r.ClicksLost)
	}
}

// The Marathon the watch asks first stalls (it answers after 10 s, the
// HTTP timeout): the watch loses one sample, asks the next Marathon, and
// sees the replacement running within a sample interval of when the
// stand-in ran it.
func TestAStalledMarathonCostsOneSample(t *testing.T) {
	c, o, target := startAndTarget(t)
	ctx := context.Background()
	stalled := c.MarathonServer().AddMember()
	m, err := marathon.New(stalled.URL()+","+o.MarathonURL, marathon.WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	stalled.DelayNext("/v2/apps"+o.AppID+"/tasks", marathon.DefaultHTTPTimeout, 100)
	killedAt, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	const interval = 5 * time.Millisecond
	r, err := failover.Watch(ctx, failover.WatchConfig{Outputs: o, Target: target, KilledAt: killedAt,
		Marathon: m, EC2: c.EC2(), App: c.App(), ELB: c.LoadBalancer(), Interval: interval, Deadline: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Recovered {
		t.Fatalf("not recovered: %s", r.Error)
	}
	var started time.Time
	for _, task := range c.MarathonServer().Tasks(o.AppID) {
		if task.ID == r.NewTaskID {
			started = task.StartedAt
		}
	}
	running, _ := findEvent(r, failover.EventTaskRunning)
	// Within a sample on an idle machine (a few ms here); a loaded one
	// (other tests, the race detector) delays samples by tens of ms, two
	// orders below the 10 s stall the test is about.
	const loadedSlack = 4 * samplingSlack
	t.Logf("seen running %s after the stand-in ran it; samples %+v", running.At.Sub(started), r.Samples)
	if started.IsZero() || running.At.Sub(started) > interval+loadedSlack {
		t.Errorf("the watch saw task %s running at %s, %s after the stand-in ran it at %s; want within a sample (%s, + %s for a loaded machine)",
			r.NewTaskID, running.At, running.At.Sub(started), started, interval, loadedSlack)
	}
}
