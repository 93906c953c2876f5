package marathon_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

func TestNewTakesEveryMastersURL(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want string // URLs joined by spaces, or the error's text
		ok   bool
	}{
		{"http://10.42.1.10:8080", "http://10.42.1.10:8080", true},
		{"http://10.42.1.10:8080,http://10.42.1.11:8080/", "http://10.42.1.10:8080 http://10.42.1.11:8080", true},
		// go-marathon's format: a URL without a scheme takes the first's.
		{"https://a:8443, b:8443", "https://a:8443 https://b:8443", true},
		{"http://a:8080,", "has an empty entry", false},
		{",http://a:8080", "has an empty entry", false},
		{"http://a:8080,http://a:8080/", "names http://a:8080 twice", false},
		{"http://a:8080,ftp://b", "not an http(s) URL", false},
	} {
		c, err := marathon.New(tt.raw)
		switch {
		case tt.ok && (err != nil || strings.Join(c.URLs(), " ") != tt.want || c.URL() != c.URLs()[0]):
			t.Errorf("New(%q): %v, %v; want %s, the first asked first", tt.raw, c, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("New(%q) error %v, want %q", tt.raw, err, tt.want)
		}
	}
}

// The first master is gone (its address refuses connections): the client
// moves to the next and deploys through it; that Marathon does not lead
// and forwards to the one that does.
func TestApplyMovesOnFromADeadMaster(t *testing.T) {
	dead := marathontest.NewUnstartedServer(fast)
	defer dead.Close()
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	m := s.AddMember()
	p := &progress{}
	c := newClient(t, dead.URL()+","+m.URL()+","+s.URL(), p)
	if _, err := c.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v\n%s", err, p)
	}
	res, err := c.Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil))
	if err != nil || res.TaskHost != "10.42.1.20" {
		t.Fatalf("Apply = %+v, %v\n%s", res, err, p)
	}
	if want := "Marathon at " + dead.URL() + ": connection refused; asking " + m.URL() + " next"; !strings.Contains(p.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, p)
	}
	if c.URL() != m.URL() {
		t.Errorf("the client asks %s, want it to stay with %s, which answers", c.URL(), m.URL())
	}
	for _, r := range s.Requests() {
		if r.Via == "" && r.Addr != strings.TrimPrefix(m.URL(), "http://") {
			t.Errorf("%s %s went to %s, not to the member the client moved to", r.Method, r.Path, r.Addr)
		}
	}
	if n := s.Count("GET", "/ping"); n != 0 {
		t.Errorf("/ping requested %d times: go-marathon marked a Marathon down", n)
	}
}

// The leading Marathon's master dies during a deployment. The client's
// calls to it are refused, the other Marathon still forwards to it (503
// "Connection to leader refused.") until it is elected itself; the client
// keeps moving between them and the deployment completes under the new
// leader.
func TestApplyFollowsALeaderLoss(t *testing.T) {
	opts := fast
	opts.DeploymentDuration = 100 * time.Millisecond
	s := marathontest.NewServer(opts)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	m := s.AddMember()
	var stop, elect sync.Once
	p := &progress{}
	p.onLine = func(_ int, line string) {
		if strings.Contains(line, "deployment") && strings.Contains(line, "started") {
			stop.Do(s.Stop)
		}
		if strings.Contains(line, "Connection to leader refused.") {
			elect.Do(func() { s.Elect(m) })
		}
	}
	c := newClient(t, s.URL()+","+m.URL(), p)
	res, err := c.Apply(ctxTimeout(t, 10*time.Second), rendered(t, nil))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, p)
	}
	if !res.Changed || res.TaskHost != "10.42.1.20" || len(s.ActiveDeployments()) != 0 {
		t.Errorf("Apply = %+v, active deployments %v", res, s.ActiveDeployments())
	}
	for _, want := range []string{
		"Marathon at " + s.URL() + ": connection refused; asking " + m.URL() + " next",
		"Marathon at " + m.URL() + ": Marathon answered 503 Service Unavailable: Error 503 Connection to leader refused.",
	} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
	if s.Leader() != m.URL() || c.URL() != m.URL() {
		t.Errorf("leader %s, client at %s; want both %s", s.Leader(), c.URL(), m.URL())
	}
	if n := s.Count("GET", "/ping"); n != 0 {
		t.Errorf("/ping requested %d times: go-marathon marked a Marathon down", n)
	}
}

// Leader names the leading Marathon through any instance, and waits out
// an election.
func TestLeader(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	m := s.AddMember()
	s.SetLeader(false)
	var once sync.Once
	p := &progress{onLine: func(int, string) { once.Do(func() { s.Elect(m) }) }}
	leader, err := newClient(t, s.URL()+","+m.URL(), p).Leader(ctxTimeout(t, 5*time.Second))
	if err != nil || "http://"+leader != m.URL() {
		t.Errorf("Leader = %q, %v; want %s\n%s", leader, err, strings.TrimPrefix(m.URL(), "http://"), p)
	}
	if !strings.Contains(p.String(), "Could not determine the current leader") {
		t.Errorf("progress does not show the election:\n%s", p)
	}
}

// A Marathon that stalls (it accepts the connection and answers after
// 10 s, go-marathon's and the client's whole HTTP timeout) holds a task
// read only as long as the caller's context: the read ends at its
// deadline, the stalled member's request is left unanswered (the
// stand-in's own log), and the next read goes to the next Marathon and is
// answered. Through go-marathon the read waited out the stall.
func TestAppTasksEndsAtTheCallersDeadlineOnAStalledMember(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	stalled := s.AddMember()
	p := &progress{}
	c, err := marathon.New(stalled.URL()+","+s.URL(), marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond), marathon.WithProgress(p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil)); err != nil {
		t.Fatal(err)
	}
	if c.URL() != stalled.URL() {
		t.Fatalf("the client asks %s, want the first member", c.URL())
	}
	tasksPath := appPath + "/tasks"
	seen := len(s.Requests())
	stalled.DelayNext(tasksPath, marathon.DefaultHTTPTimeout, 1)
	_, err = c.AppTasks(ctxTimeout(t, 50*time.Millisecond), facts.AppID)
	if err == nil || !strings.Contains(err.Error(), "no answer before the caller's deadline") {
		t.Fatalf("AppTasks on the stalled member: %v, want no answer before the call's deadline", err)
	}
	// The stalled member's handler logs the request once the client has
	// left; the stand-in waits out the stall only if the client does.
	var stalledReqs []marathontest.Request
	for i := 0; i < 200 && len(stalledReqs) == 0; i++ {
		time.Sleep(5 * time.Millisecond)
		for _, r := range s.Requests()[seen:] {
			if r.Addr == strings.TrimPrefix(stalled.URL(), "http://") && r.Path == tasksPath {
				stalledReqs = append(stalledReqs, r)
			}
		}
	}
	if len(stalledReqs) != 1 || stalledReqs[0].Status != 0 || stalledReqs[0].Took >= marathon.DefaultHTTPTimeout/2 {
		t.Fatalf("the stalled member's task requests %+v, want one the client left unanswered well before the stall ended", stalledReqs)
	}
	before := answered(s, tasksPath)
	tasks, err := c.AppTasks(ctxTimeout(t, time.Second), facts.AppID)
	if err != nil || len(tasks) != 1 || c.URL() != s.URL() {
		t.Fatalf("the next read: %v, %v, asking %s; want the task from %s", tasks, err, c.URL(), s.URL())
	}
	if n := answered(s, tasksPath) - before; n != 1 {
		t.Errorf("%d answered requests for the next read, want 1", n)
	}
}
