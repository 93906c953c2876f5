package marathon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// Every Marathon outage once cost a go-marathon client whose health
// checker (go-marathon v0.7.1 cluster.go healthCheckNode) GETs /ping every
// 5 s until Marathon answers 200, and is never stopped. Now one go-marathon
// client serves for the life of the Client, and it never sees a failure
// it would mark Marathon down for: outages of every kind leave no /ping in
// the stand-in's request log, and the first call after each goes to
// Marathon at once.
func TestOutagesLeaveNoPinger(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	p := &progress{}
	c, err := marathon.New(s.URL(), marathon.WithHTTPTimeout(200*time.Millisecond), marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond), marathon.WithProgress(p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil)); err != nil {
		t.Fatal(err)
	}
	tasksPath := appPath + "/tasks"
	outages := []struct {
		name       string
		begin, end func()
		want       string // in the error of a call during the outage
	}{
		{"no leader", func() { s.SetLeader(false) }, func() { s.SetLeader(true) }, "503 Service Unavailable"},
		{"Marathon restarting", s.Stop, s.Start, "connection refused"},
		{"5xx from the API", func() { s.FailNext(tasksPath, 500, 1000) }, s.ClearFaults, "500 Internal Server Error"},
		// The call's 50 ms context ends the request, before the client's
		// 200 ms HTTP timeout.
		{"no answer in time", func() { s.DelayNext(tasksPath, 5*time.Second, 1000) }, s.ClearFaults, "no answer before the caller's deadline"},
	}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		for _, o := range outages {
			o.begin()
			_, err := c.AppTasks(ctxTimeout(t, 50*time.Millisecond), facts.AppID)
			o.end()
			// A request of the call that a leaderless Marathon still held
			// (it looks for a leader for LeaderProxyWait) may be answered
			// after the call gave up: let it finish before counting.
			time.Sleep(2 * fast.LeaderProxyWait)
			if err == nil || !strings.Contains(err.Error(), o.want) {
				t.Errorf("round %d, %s: AppTasks error %v, want %q", round, o.name, err, o.want)
			}
			before := answered(s, tasksPath)
			tasks, err := c.AppTasks(ctxTimeout(t, time.Second), facts.AppID)
			if err != nil || len(tasks) != 1 {
				t.Fatalf("round %d, after %s: AppTasks = %v, %v", round, o.name, tasks, err)
			}
			if n := answered(s, tasksPath) - before; n != 1 || strings.Contains(p.String(), "marked Marathon down") {
				t.Errorf("round %d, after %s: %d answered requests for one call, want 1:\n%s", round, o.name, n, p)
			}
		}
	}
	if n := s.Count("GET", "/ping"); n != 0 {
		t.Errorf("/ping was requested %d times over %d outages: go-marathon's health checker ran", n, rounds*len(outages))
	}
	if strings.Contains(p.String(), "marked Marathon down") {
		t.Errorf("go-marathon marked Marathon down:\n%s", p)
	}
}

// answered counts the GETs of path that Marathon answered 200.
func answered(s *marathontest.Server, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == "GET" && r.Path == path && r.Status == 200 {
			n++
		}
	}
	return n
}
