package marathon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// fast are the stand-in's timings in tests: a deployment takes tens of
// milliseconds.
// fast runs the app's health checks (5 s interval) at a millisecond per second.
// fast runs the stand-in's timers in milliseconds; a leaderless instance's
// 11 looks for a leader (marathontest.DefaultLeaderProxyWait, 2.75 s on a
// real Marathon) take 11 ms, inside every client timeout of these tests.
var fast = marathontest.Options{DeploymentDuration: 20 * time.Millisecond, StagingDuration: 20 * time.Millisecond, HealthCheckSecond: time.Millisecond,
	LeaderProxyWait: 11 * time.Millisecond}

const appPath = "/v2/apps" + facts.AppID

// progress collects progress lines and calls onLine for each, so a test can
// act after the client's n-th attempt instead of sleeping.
type progress struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	lines  int
	onLine func(n int, line string)
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.buf.Write(b)
	n := bytes.Count(b, []byte("\n"))
	var start int
	if p.onLine != nil {
		start = p.lines
	}
	p.lines += n
	cb := p.onLine
	p.mu.Unlock()
	if cb != nil {
		for i := 1; i <= n; i++ {
			cb(start+i, string(b))
		}
	}
	return len(b), nil
}

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func newClient(t *testing.T, url string, p *progress) *marathon.Client {
	t.Helper()
	c, err := marathon.New(url,
		marathon.WithHTTPTimeout(time.Second),
		marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond),
		marathon.WithProgress(p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func rendered(t *testing.T, edit func(*manifest.Params)) []byte {
	t.Helper()
	p := manifest.Params{AppID: facts.AppID, Image: facts.AppImage, HostPort: facts.DefaultAppPort,
		VolumeDriver: "flocker", VolumeName: "moby", Zone: "us-east-1a"}
	if edit != nil {
		edit(&p)
	}
	doc, err := manifest.Render(apps.MobyCounter, p)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "10.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := marathon.New(u); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
			t.Errorf("New(%q) error = %v, want a URL error", u, err)
		}
	}
}

func TestWaitReadyDownThenUp(t *testing.T) {
	s := marathontest.NewUnstartedServer(fast)
	defer s.Close()
	p := &progress{}
	var once sync.Once
	p.onLine = func(n int, _ string) {
		if n == 2 {
			once.Do(s.Start)
		}
	}
	info, err := newClient(t, s.URL(), p).WaitReady(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatalf("WaitReady: %v\n%s", err, p)
	}
	if info.Version != "1.4.9" {
		t.Errorf("Info.Version = %q, want 1.4.9", info.Version)
	}
	// The first refusal is said at once, the same refusal again only every
	// WaitReadyQuietAttempts attempts: one line per attempt would flood
	// pulumi up's output while a master boots.
	for _, want := range []string{
		"waiting for Marathon at " + s.URL() + ": connection refused (attempt 1,",
		fmt.Sprintf("waiting for Marathon at %s: connection refused (attempt %d,", s.URL(), marathon.WaitReadyQuietAttempts),
	} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
	if n := strings.Count(p.String(), "connection refused"); n != 2 {
		t.Errorf("%d lines about the refused connection, want 2 (attempts 1 and %d):\n%s", n, marathon.WaitReadyQuietAttempts, p)
	}
}

// TestWaitReadyAsksEveryPollInterval: while Marathon has no leader,
// WaitReady asks again after one poll interval every time, never after a
// growing backoff, so the app is posted within a poll interval of the
// election (issue 13: the app posted as soon as Marathon has a leader).
func TestWaitReadyAsksEveryPollInterval(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.SetLeader(false)
	c, err := marathon.New(s.URL(), marathon.WithPollInterval(3*time.Millisecond),
		marathon.WithBackoff(time.Millisecond, time.Hour), marathon.WithProgress(&progress{}))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	marathon.OnSleep(c, func(d time.Duration) {
		waits = append(waits, d)
		if len(waits) == 20 {
			s.SetLeader(true)
		}
	})
	if _, err := c.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if len(waits) != 20 {
		t.Errorf("%d waits, want 20: one per leaderless answer, none after the leader's", len(waits))
	}
	for i, d := range waits {
		if d != 3*time.Millisecond {
			t.Errorf("wait %d was %s, want the poll interval 3ms", i+1, d)
		}
	}
	if got := s.Count("GET", "/v2/info"); got != 21 {
		t.Errorf("%d GET /v2/info, want 21 (20 leaderless, then the answer)", got)
	}
}

func TestWaitReadyWaitsForLeader(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.SetLeader(false)
	p := &progress{onLine: func(n int, _ string) {
		if n == 2 {
			s.SetLeader(true)
		}
	}}
	if _, err := newClient(t, s.URL(), p).WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if want := "Marathon answered 503 Service Unavailable: Error 503 Could not determine the current leader"; !strings.Contains(p.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, p)
	}
	if s.Count("GET", "/ping") != 0 {
		t.Errorf("readiness used /ping, which Marathon >= 1.4.4 refuses to JSON clients")
	}
}

func TestWaitReadyDeadline(t *testing.T) {
	s := marathontest.NewUnstartedServer(fast)
	defer s.Close()
	_, err := newClient(t, s.URL(), &progress{}).WaitReady(ctxTimeout(t, 60*time.Millisecond))
	if err == nil {
		t.Fatal("WaitReady succeeded against a closed port")
	}
	for _, want := range []string{"waiting for Marathon at " + s.URL(), "gave up after", "connection refused", "port 8080"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap context.DeadlineExceeded: %v", err)
	}
}

func TestWaitReadyTimesOutSlowAnswers(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.DelayNext("/v2/info", time.Second, 1)
	p := &progress{}
	c, err := marathon.New(s.URL(), marathon.WithHTTPTimeout(30*time.Millisecond),
		marathon.WithBackoff(time.Millisecond, time.Millisecond), marathon.WithProgress(p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if !strings.Contains(p.String(), "no answer within 30ms") {
		t.Errorf("progress does not report the timed-out attempt:\n%s", p)
	}
}

func TestApplyCreates(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	slave := s.AddAgent("10.42.1.20")
	doc := rendered(t, nil)
	res, err := newClient(t, s.URL(), &progress{}).Apply(ctxTimeout(t, 5*time.Second), doc)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !res.Changed || res.AppID != facts.AppID || res.DeploymentID == "" || res.Version == "" || res.TaskHost != "10.42.1.20" || res.TaskID == "" {
		t.Errorf("Result = %+v", res)
	}
	puts := 0
	for _, r := range s.Requests() {
		if r.Method == "PUT" {
			puts++
			if r.Path != appPath || r.RawQuery != "" || !bytes.Equal(r.Body, doc) {
				t.Errorf("PUT %s?%s with body\n%s\nwant PUT %s with the manifest as rendered", r.Path, r.RawQuery, r.Body, appPath)
			}
		}
	}
	if puts != 1 || len(s.ActiveDeployments()) != 0 {
		t.Errorf("PUTs = %d, active deployments = %v; want 1 and none", puts, s.ActiveDeployments())
	}
	tasks, err := newClient(t, s.URL(), &progress{}).AppTasks(ctxTimeout(t, time.Second), facts.AppID)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("AppTasks = %v, %v", tasks, err)
	}
	if tk := tasks[0]; tk.ID != res.TaskID || tk.SlaveID != slave || tk.State != "TASK_RUNNING" || !tk.HealthAlive ||
		tk.StagedAt.IsZero() || tk.StartedAt.Before(tk.StagedAt) || len(tk.Ports) != 1 || tk.Ports[0] != facts.DefaultAppPort {
		t.Errorf("AppTasks[0] = %+v", tk)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	c := newClient(t, s.URL(), &progress{})
	doc := rendered(t, nil)
	first, err := c.Apply(ctxTimeout(t, 5*time.Second), doc)
	if err != nil {
		t.Fatal(err)
	}
	p := &progress{}
	second, err := newClient(t, s.URL(), p).Apply(ctxTimeout(t, 5*time.Second), doc)
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed || second.DeploymentID != "" || second.Version != first.Version || second.TaskID != first.TaskID {
		t.Errorf("rerun Result = %+v, want unchanged %+v", second, first)
	}
	if n := s.Count("PUT", appPath); n != 1 {
		t.Errorf("PUTs = %d, want 1: a rerun must not PUT", n)
	}
	if n := s.DeploymentsStarted(); n != 1 {
		t.Errorf("deployments started = %d, want 1", n)
	}
	if !strings.Contains(p.String(), "no deployment") {
		t.Errorf("progress does not say the rerun changed nothing:\n%s", p)
	}
}

func TestApplyUpdatesChangedManifest(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	c := newClient(t, s.URL(), &progress{})
	first, err := c.Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	changed := rendered(t, func(p *manifest.Params) { p.Image = "example/moby-counter:2" })
	second, err := c.Apply(ctxTimeout(t, 5*time.Second), changed)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Changed || second.DeploymentID == "" || second.DeploymentID == first.DeploymentID || second.Version == first.Version || second.TaskID == first.TaskID {
		t.Errorf("update Result = %+v after %+v", second, first)
	}
	reqs := s.Requests()
	var last []byte
	for _, r := range reqs {
		if r.Method == "PUT" {
			last = r.Body
		}
	}
	if !bytes.Contains(last, []byte(`"image": "example/moby-counter:2"`)) {
		t.Errorf("last PUT body lacks the new image:\n%s", last)
	}
	if s.DeploymentsStarted() != 2 {
		t.Errorf("deployments started = %d, want 2", s.DeploymentsStarted())
	}
}

func TestApplyRetriesWhileLocked(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	s.FailNext("PUT "+appPath, 409, 2)
	p := &progress{}
	res, err := newClient(t, s.URL(), p).Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !res.Changed || res.TaskHost == "" {
		t.Errorf("Result = %+v", res)
	}
	if n := s.Count("PUT", appPath); n != 3 {
		t.Errorf("PUTs = %d, want 3 (two locked, one accepted)", n)
	}
	want := "PUT " + s.URL() + appPath + ": Marathon answered 409 Conflict: App is locked by one or more deployments"
	if !strings.Contains(p.String(), want) {
		t.Errorf("progress lacks %q:\n%s", want, p)
	}
}

func TestApplyWaitsOutARealDeployment(t *testing.T) {
	s := marathontest.NewServer(fast) // no agent yet: the first deployment cannot finish
	defer s.Close()
	req, err := http.NewRequest("PUT", s.URL()+appPath, bytes.NewReader(rendered(t, func(p *manifest.Params) { p.Image = "a/b:1" })))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("starting a deployment by hand: %v %v", resp, err)
	}
	resp.Body.Close()
	var once sync.Once
	p := &progress{onLine: func(_ int, line string) {
		if strings.Contains(line, "409 Conflict") {
			once.Do(func() { s.AddAgent("10.42.1.21") })
		}
	}}
	res, err := newClient(t, s.URL(), p).Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, p)
	}
	locked := 0
	for _, r := range s.Requests() {
		if r.Method == "PUT" && r.Status == 409 {
			locked++
		}
	}
	if locked == 0 || !res.Changed || res.TaskHost != "10.42.1.21" {
		t.Errorf("locked PUTs = %d, Result = %+v; want the PUT retried past the lock", locked, res)
	}
}

func TestApplyRetries503(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	s.FailNext(appPath, 503, 1)
	// go-marathon marks its endpoint down after a 5xx and lets calls
	// through again only once its own /ping, every 5 s, succeeds: the
	// client must never let it get there, so a failing /ping changes
	// nothing.
	s.FailNext("/v2/deployments", 503, 1)
	s.FailNext("/ping", 503, 100)
	p := &progress{}
	res, err := newClient(t, s.URL(), p).Apply(ctxTimeout(t, 3*time.Second), rendered(t, nil))
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, p)
	}
	if res.TaskHost == "" {
		t.Errorf("Result = %+v", res)
	}
	for _, want := range []string{
		"GET " + s.URL() + appPath + ": Marathon answered 503 Service Unavailable",
		"(GET " + s.URL() + "/v2/deployments): Marathon answered 503 Service Unavailable: Error 503 Could not determine the current leader",
	} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
	if n := s.Count("GET", "/ping"); n != 0 {
		t.Errorf("/ping was requested %d times: go-marathon marked Marathon down", n)
	}
}

func TestApplyDeploymentNeverFinishes(t *testing.T) {
	s := marathontest.NewServer(fast) // no agent: the task is never placed
	defer s.Close()
	res, err := newClient(t, s.URL(), &progress{}).Apply(ctxTimeout(t, 150*time.Millisecond), rendered(t, nil))
	if err == nil {
		t.Fatalf("Apply succeeded with no agent: %+v", res)
	}
	for _, want := range []string{"waiting for deployment " + res.DeploymentID, s.URL() + "/v2/deployments", "not done after", "StartApplication " + facts.AppID, "offers its cpus, mem and host port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if res.DeploymentID == "" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Result = %+v, error %v: want the deployment id and a deadline error", res, err)
	}
}

func TestErrorsNameURLAndMarathonsAnswer(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	c := newClient(t, s.URL(), &progress{})

	_, err := c.AppTasks(ctxTimeout(t, time.Second), "/nope")
	want := "GET " + s.URL() + "/v2/apps/nope/tasks: Marathon answered 404 Not Found: App '/nope' does not exist"
	if err == nil || err.Error() != want || !marathon.IsNotFound(err) {
		t.Errorf("AppTasks(missing) error = %v, want %q", err, want)
	}

	s.FailNext(appPath, 503, 1000)
	_, err = c.Apply(ctxTimeout(t, 60*time.Millisecond), rendered(t, nil))
	for _, want := range []string{"GET " + s.URL() + appPath, "503 Service Unavailable", "Could not determine the current leader", "gave up after"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Apply error %v lacks %q", err, want)
		}
	}
	var apiErr *marathon.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Errorf("Apply error does not carry Marathon's status: %#v", apiErr)
	}
}

func TestDeleteMissingAppSucceeds(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	if err := newClient(t, s.URL(), &progress{}).Delete(ctxTimeout(t, time.Second), facts.AppID); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	if n := s.Count("DELETE", appPath); n != 1 {
		t.Errorf("DELETEs = %d, want 1", n)
	}
}

func TestDeleteRemovesAppAndWaits(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	c := newClient(t, s.URL(), &progress{})
	if _, err := c.Apply(ctxTimeout(t, 5*time.Second), rendered(t, nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctxTimeout(t, 5*time.Second), facts.AppID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if d := s.ActiveDeployments(); len(d) != 0 {
		t.Errorf("Delete returned before its deployment finished: %v", d)
	}
	if _, err := c.AppTasks(ctxTimeout(t, time.Second), facts.AppID); !marathon.IsNotFound(err) {
		t.Errorf("app still there after Delete: %v", err)
	}
	for _, r := range s.Requests() {
		if r.Method == "DELETE" && r.RawQuery != "force=true" {
			t.Errorf("DELETE without force: %+v", r)
		}
	}
}
