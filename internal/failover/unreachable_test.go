package failover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// Marathon 1.4.9 lists a lost task as TASK_UNREACHABLE beside its
// replacement until its expunge job runs (5 minutes after the leader was
// elected, then every 30 s): a failover soon after another meets the first
// one's unreachable task. FindTarget must name the running replacement, and
// the watch must not take the old unreachable task for the new replacement.
func TestFailoverBesideAnUnreachableTask(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Agents: 3})
	agents := c.Agents()
	first, _, progress := failOver(t, c, nil, 10*time.Second)
	if !first.Recovered || first.NewHost != agents[1].Host {
		t.Fatalf("first failover: %+v\n%s", first, progress)
	}
	states := map[string]string{}
	for _, tk := range c.MarathonServer().Tasks(facts.AppID) {
		states[tk.Host] = tk.State
	}
	if states[agents[0].Host] != marathontest.TaskUnreachable || states[agents[1].Host] != marathontest.TaskRunning {
		t.Fatalf("Marathon's tasks after the first failover %v: want the lost task listed as unreachable beside the replacement", states)
	}

	target, err := failover.FindTarget(context.Background(), c.Marathon(), c.EC2(), c.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	if target.Host != agents[1].Host || target.InstanceID != agents[1].InstanceID {
		t.Fatalf("FindTarget after a failover = %+v, want the replacement on %s", target, agents[1].Host)
	}

	second, target, progress := failOver(t, c, nil, 10*time.Second)
	if !second.Recovered || second.Error != "" {
		t.Fatalf("second failover not recovered: %+v\n%s", second, progress)
	}
	if target.Host != agents[1].Host || second.NewHost != agents[2].Host {
		t.Errorf("second failover %s -> %s, want %s -> %s\n%s", target.Host, second.NewHost, agents[1].Host, agents[2].Host, progress)
	}
	for _, e := range second.Timeline {
		switch e.Name {
		case failover.EventAgentLost:
			// Mesos's detection delay passes before the agent is seen lost,
			// whatever else Marathon lists.
			if lost := e.At.Sub(lastRequested); lost < failovertest.DefaultDetectionDelay || !strings.Contains(e.Detail, target.TaskID) {
				t.Errorf("agent lost %s after the kill (%q), want after the detection delay %s and naming %s", lost, e.Detail, failovertest.DefaultDetectionDelay, target.TaskID)
			}
		case failover.EventTaskStaged, failover.EventTaskRunning:
			if !strings.Contains(e.Detail, agents[2].Host) {
				t.Errorf("%s: %q, want the replacement on %s", e.Name, e.Detail, agents[2].Host)
			}
		}
	}
}

// Once the expunge job has run, the unreachable task is gone from the list.
func TestUnreachableTaskExpunged(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{ExpungeInitialDelay: time.Millisecond, ExpungeInterval: 5 * time.Millisecond})
	r, _, progress := failOver(t, c, nil, 10*time.Second)
	if !r.Recovered {
		t.Fatalf("not recovered: %+v\n%s", r, progress)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(c.MarathonServer().Tasks(facts.AppID)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the unreachable task was never expunged: %+v", c.MarathonServer().Tasks(facts.AppID))
		}
		time.Sleep(time.Millisecond)
	}
	if tk := c.MarathonServer().Tasks(facts.AppID)[0]; tk.Host != c.Agents()[1].Host || tk.State != marathontest.TaskRunning {
		t.Errorf("task left %+v", tk)
	}
}
