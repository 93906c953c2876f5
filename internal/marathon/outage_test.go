package marathon_test

import (
	"context"
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
		// stalls: Marathon does not answer, and the call's 50 ms deadline
		// ends it. Every other outage answers (503, refusal, 500), and the
		// call ends after its first failed attempt: a wall-clock deadline
		// there raced the answer, which a loaded machine may not deliver
		// within 50 ms, not even a refused connection.
		stalls bool
	}{
		{"no leader", func() { s.SetLeader(false) }, func() { s.SetLeader(true) }, "503 Service Unavailable", false},
		{"Marathon restarting", s.Stop, s.Start, "connection refused", false},
		{"5xx from the API", func() { s.FailNext(tasksPath, 500, 1000) }, s.ClearFaults, "500 Internal Server Error", false},
		// The call's 50 ms context ends the request, before the client's
		// 200 ms HTTP timeout.
		{"no answer in time", func() { s.DelayNext(tasksPath, 5*time.Second, 1000) }, s.ClearFaults, "no answer before the caller's deadline", true},
	}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		for _, o := range outages {
			o.begin()
			_, err := c.AppTasks(outageCall(t, p, o.stalls), facts.AppID)
			o.end()
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

// outageCall is the context of a call made during an outage: for a
// Marathon that stalls, a 50 ms deadline; for one that answers, a context
// cancelled by the progress line of the call's first failed attempt, so the
// call has seen Marathon's answer (and no request of it is still held) when
// it returns. Its 10 s deadline only keeps a broken client from hanging the
// test.
func outageCall(t *testing.T, p *progress, stalls bool) context.Context {
	t.Helper()
	p.mu.Lock()
	p.onLine = nil
	p.mu.Unlock()
	if stalls {
		return ctxTimeout(t, 50*time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	p.mu.Lock()
	p.onLine = func(int, string) { cancel() }
	p.mu.Unlock()
	return ctx
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
