package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// lineWriter collects stderr and calls on for each write, so a test acts
// on what deploy-app reports instead of sleeping.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	on  func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(b)
	w.mu.Unlock()
	if w.on != nil {
		w.on(string(b))
	}
	return len(b), nil
}

func (w *lineWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.buf.String() }

// The first master is down: deploy-app, given every master's Marathon as
// the program gives it (MHA_MARATHON_URL, comma-separated), deploys through
// the next, and deletes through it at destroy.
func TestDeployWhenTheFirstMasterIsDown(t *testing.T) {
	dead := marathontest.NewUnstartedServer(fast)
	defer dead.Close()
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	path, _ := renderedFile(t)
	t.Setenv("MHA_MARATHON_URL", dead.URL()+","+s.URL())

	r := runCmd(t, "", append([]string{"--manifest", path, "--timeout", "5s"}, quick...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["taskHost"] != "10.42.1.20" || got["changed"] != true {
		t.Errorf("stdout %q (%v)", r.stdout, err)
	}
	if want := "Marathon at " + dead.URL() + ": connection refused; asking " + s.URL() + " next"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	d := runCmd(t, "", append([]string{"--delete", "--skip-if-unreachable", "--app-id", facts.AppID, "--timeout", "5s"}, quick...)...)
	if d.code != 0 || !strings.Contains(d.stdout, `"deleted":true`) {
		t.Errorf("delete: exit %d, stdout %q, stderr:\n%s", d.code, d.stdout, d.stderr)
	}
}

// The leading Marathon's master dies while deploy-app waits for the
// deployment: the other master's Marathon forwards to the dead leader
// (503 "Connection to leader refused.") until it is elected; deploy-app
// keeps moving between them and completes under the new leader.
func TestDeployThroughALeaderLoss(t *testing.T) {
	opts := fast
	opts.DeploymentDuration = 100 * time.Millisecond
	s := marathontest.NewServer(opts)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	m := s.AddMember()
	_, doc := renderedFile(t)
	var stop, elect sync.Once
	stderr := &lineWriter{on: func(line string) {
		if strings.Contains(line, "deployment") && strings.Contains(line, "started") {
			stop.Do(s.Stop)
		}
		if strings.Contains(line, "Connection to leader refused.") {
			elect.Do(func() { s.Elect(m) })
		}
	}}
	var stdout bytes.Buffer
	code := run(append([]string{"--marathon", s.URL() + "," + m.URL(), "--timeout", "10s"}, quick...), strings.NewReader(string(doc)), &stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got["taskHost"] != "10.42.1.20" {
		t.Errorf("stdout %q (%v)", stdout.String(), err)
	}
	for _, want := range []string{"Connection to leader refused.", "asking " + m.URL() + " next"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if s.Leader() != m.URL() || len(s.ActiveDeployments()) != 0 {
		t.Errorf("leader %s, active deployments %v", s.Leader(), s.ActiveDeployments())
	}
}

// A dry run prints the request made first: to the first master.
func TestDryRunWithEveryMaster(t *testing.T) {
	_, doc := renderedFile(t)
	r := runCmd(t, string(doc), "--marathon", "http://198.51.100.10:8080,http://198.51.100.11:8080", "--dry-run")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "PUT http://198.51.100.10:8080/v2/apps"+facts.AppID+"\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, string(doc), "--marathon", "http://198.51.100.10:8080,", "--dry-run"); r.code != 1 || !strings.Contains(r.stderr, "empty entry") {
		t.Errorf("a list with an empty entry: exit %d, stderr %q", r.code, r.stderr)
	}
}
