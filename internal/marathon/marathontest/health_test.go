package marathontest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// healthApp is the test app with a health check of grace 10 s, interval
// 5 s, timeout 2 s and 3 failures, deployed at 12:00:00 with no agent, so
// that FailHealthChecks is armed before its first task is placed.
func healthApp(t *testing.T, failAfter time.Duration) (*marathontest.Server, *clock) {
	t.Helper()
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{StagingDuration: 2 * time.Second, Now: c.Now})
	t.Cleanup(s.Close)
	def := strings.Replace(app, `"path":"/v1/ping"`, `"path":"/v1/ping","gracePeriodSeconds":10,"intervalSeconds":5,"timeoutSeconds":2,"maxConsecutiveFailures":3`, 1)
	if a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", def); a.status != 201 {
		t.Fatalf("PUT = %d %s", a.status, a.body)
	}
	s.FailHealthChecks("/g/app", 1, failAfter)
	s.AddAgent("10.0.0.1") // the task runs from 12:00:02; checks tick at :05, :10, ...
	return s, c
}

func at(sec int) string {
	return time.Date(2017, 5, 1, 12, 0, sec, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
}

// A task that never passes: failures in the grace period (until 12:00:12)
// are ignored and leave a result that is not alive; from then on they
// count, and the one that finds three counted already (12:00:27) kills the
// task (HealthCheckActor.checkConsecutiveFailures runs before the update).
// The replacement, healthy, takes the agent at once.
func TestHealthChecksKillAfterTheGracePeriod(t *testing.T) {
	s, c := healthApp(t, 0)
	c.Add(11 * time.Second)
	h := health(t, s)
	if h["alive"] != false || h["consecutiveFailures"] != 0.0 || h["firstSuccess"] != nil || h["lastFailure"] != nil {
		t.Errorf("in the grace period: %v, want an empty, not alive result", h)
	}
	first := tasksOf(t, s, "/g/app")[0]["id"]
	c.Add(15 * time.Second) // 12:00:26
	if h := health(t, s); h["consecutiveFailures"] != 3.0 || h["lastFailure"] != at(22) || len(s.Kills()) != 0 {
		t.Errorf("at 12:00:26: %v, kills %v", h, s.Kills())
	}
	c.Add(time.Second) // 12:00:27
	k := s.Kills()
	if len(k) != 1 || k[0].TaskID != first || k[0].At.Format("2006-01-02T15:04:05.000Z") != at(27) || k[0].Reason != marathontest.KillReasonFailedHealthChecks {
		t.Fatalf("kills %+v, want %s killed at 12:00:27", k, first)
	}
	ts := tasksOf(t, s, "/g/app")
	if len(ts) != 1 || ts[0]["id"] == first || ts[0]["state"] != "TASK_STAGING" || ts[0]["stagedAt"] != at(27) {
		t.Fatalf("tasks after the kill %v, want one replacement staged at 12:00:27", ts)
	}
	c.Add(3 * time.Second) // running at :29, checked at :30
	if h := health(t, s); h["alive"] != true || h["firstSuccess"] != at(30) {
		t.Errorf("the replacement: %v", h)
	}
}

// A task that passed once loses the grace period's protection
// (ignoreFailures asks for no success yet): failing from 12:00:08, the
// check of 12:00:10 counts at 12:00:12 and the fourth failure kills it at
// 12:00:27, well within its 60 s grace period.
func TestHealthChecksKillWithinTheGracePeriodAfterASuccess(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{StagingDuration: 2 * time.Second, Now: c.Now})
	defer s.Close()
	def := strings.Replace(app, `"path":"/v1/ping"`, `"path":"/v1/ping","gracePeriodSeconds":60,"intervalSeconds":5,"timeoutSeconds":2,"maxConsecutiveFailures":3`, 1)
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", def)
	s.FailHealthChecks("/g/app", 1, 6*time.Second) // fails from 12:00:08
	s.AddAgent("10.0.0.1")
	c.Add(5 * time.Second)
	if h := health(t, s); h["alive"] != true {
		t.Errorf("at 12:00:05: %v", h)
	}
	c.Add(7 * time.Second) // 12:00:12
	if h := health(t, s); h["alive"] != false || h["consecutiveFailures"] != 1.0 {
		t.Errorf("at 12:00:12: %v, want a counted failure within the grace period", h)
	}
	c.Add(15 * time.Second) // 12:00:27, grace until 12:01:02
	if k := s.Kills(); len(k) != 1 || k[0].At.Format("2006-01-02T15:04:05.000Z") != at(27) {
		t.Errorf("kills %+v, want one at 12:00:27", k)
	}
}

// HealthCheckSecond runs an app's health-check seconds faster: the same
// kill as above at 27 ms instead of 27 s.
func TestHealthCheckSecond(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{StagingDuration: 2 * time.Millisecond, HealthCheckSecond: time.Millisecond, Now: c.Now})
	defer s.Close()
	def := strings.Replace(app, `"path":"/v1/ping"`, `"path":"/v1/ping","gracePeriodSeconds":10,"intervalSeconds":5,"timeoutSeconds":2,"maxConsecutiveFailures":3`, 1)
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", def)
	s.FailHealthChecks("/g/app", 1, 0)
	s.AddAgent("10.0.0.1")
	c.Add(26 * time.Millisecond)
	if k := s.Kills(); len(k) != 0 {
		t.Fatalf("kills at 26 ms: %+v", k)
	}
	c.Add(time.Millisecond)
	if k := s.Kills(); len(k) != 1 || k[0].At.Sub(time.Date(2017, 5, 1, 12, 0, 0, 0, time.UTC)) != 27*time.Millisecond {
		t.Errorf("kills %+v, want one at 27 ms", k)
	}
}
