package marathontest_test

import (
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// pingServer is a stand-in that counts detection as Mesos does: pings
// every 4 s from the agent's registration, 3 misses.
func pingServer(c *clock, more ...func(*marathontest.Options)) *marathontest.Server {
	o := marathontest.Options{AgentPingTimeout: 4 * time.Second, MaxAgentPingTimeouts: 3, Now: c.Now,
		ReconciliationInitialDelay: time.Second, ReconciliationInterval: 10 * time.Second}
	for _, f := range more {
		f(&o)
	}
	return marathontest.NewServer(o)
}

// onTwoAgents is a ping-counting stand-in with agents a and b and the test
// app running on a.
func onTwoAgents(t *testing.T, c *clock) *marathontest.Server {
	s := pingServer(c)
	t.Cleanup(s.Close)
	s.AddAgent("a") // pings at 0, 4, 8, ... s
	s.AddAgent("b")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	return s
}

// The verdict comes timeout x misses after the first unanswered ping:
// cut 1 s after a ping, the next ping (3 s later) is the first lost one,
// and the task is unreachable 12 s after it, 15 s after the cut.
func TestPartitionCountsPingsAsMesos(t *testing.T) {
	c := newClock()
	s := onTwoAgents(t, c)
	c.Add(5 * time.Second)
	s.PartitionAgent("a") // at 5 s: the ping at 8 s is the first lost
	c.Add(14*time.Second + 999*time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_RUNNING" {
		t.Fatalf("just before 8 + 12 s: %s, want the task still running", got)
	}
	c.Add(time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Fatalf("at 20 s: %s, want unreachable and replaced on b", got)
	}
}

// A pong reaches the master if the agent is healed at least one ping
// before the verdict: nothing happens. Later, the verdict stands, the agent
// re-registers, and Marathon sees its task running again at the next
// reconciliation: both tasks run.
func TestHealBeforeAndAfterTheVerdict(t *testing.T) {
	c := newClock()
	s := onTwoAgents(t, c)
	c.Add(time.Second)
	s.PartitionAgent("a") // first lost ping at 4 s, verdict at 16 s
	c.Add(11 * time.Second)
	s.HealAgent("a") // at 12 s: the ping at 12 s is answered
	c.Add(10 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_RUNNING" {
		t.Fatalf("healed in time: %s, want nothing to have happened", got)
	}

	s.PartitionAgent("a") // at 22 s: first lost ping at 24 s, verdict at 36 s
	c.Add(12*time.Second + 500*time.Millisecond)
	s.HealAgent("a") // at 34.5 s: no ping left before the verdict
	c.Add(2 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Fatalf("healed too late: %s, want the verdict to stand", got)
	}
	// Reconciliation ticks at 1, 11, 21, 31, 41 s: the re-registration at
	// 36 s is seen at 41 s.
	c.Add(4*time.Second + 400*time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Fatalf("before the reconciliation: %s", got)
	}
	c.Add(200 * time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_RUNNING b:TASK_RUNNING" {
		t.Errorf("after the reconciliation: %s, want the old task running again beside its replacement", got)
	}
}

// A killed agent never comes back, healed or not.
func TestKilledAgentStaysLost(t *testing.T) {
	c := newClock()
	s := onTwoAgents(t, c)
	s.PartitionAgent("a")
	s.KillAgent("a")
	c.Add(time.Minute)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("%s", got)
	}
}

// A failed task is forgotten, recorded as lastTaskFailure, and replaced
// after the launch delay: backoffSeconds (1), then times backoffFactor
// (1.15), in BackoffUnit.
func TestFailTaskBacksOff(t *testing.T) {
	c := newClock()
	s := pingServer(c, func(o *marathontest.Options) { o.BackoffUnit = time.Second; o.StagingDuration = time.Second })
	defer s.Close()
	s.AddAgent("a")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	first := s.Tasks("/g/app")[0]
	if !s.FailTask("/g/app", first.ID, "no volume") {
		t.Fatal("FailTask did not find the task")
	}
	if f, ok := s.LastTaskFailure("/g/app"); !ok || f.TaskID != first.ID || f.State != marathontest.TaskFailed || f.Message != "no volume" || f.Host != "a" {
		t.Errorf("lastTaskFailure %+v", f)
	}
	if ts := s.Tasks("/g/app"); len(ts) != 0 {
		t.Fatalf("tasks right after the failure: %+v", ts)
	}
	c.Add(999 * time.Millisecond)
	if ts := s.Tasks("/g/app"); len(ts) != 0 {
		t.Fatalf("relaunched before the 1 s backoff: %+v", ts)
	}
	c.Add(time.Millisecond)
	second := s.Tasks("/g/app")
	if len(second) != 1 || second[0].ID == first.ID {
		t.Fatalf("after 1 s: %+v, want a new task", second)
	}
	s.FailTask("/g/app", second[0].ID, "no volume")
	c.Add(1149 * time.Millisecond)
	if ts := s.Tasks("/g/app"); len(ts) != 0 {
		t.Fatalf("relaunched before 1.15 s: %+v", ts)
	}
	c.Add(time.Millisecond)
	if ts := s.Tasks("/g/app"); len(ts) != 1 {
		t.Errorf("after 1.15 s: %+v", ts)
	}
	if s.FailTask("/g/app", "nope", "x") {
		t.Error("an unknown task failed")
	}
}
