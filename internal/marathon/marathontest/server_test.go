package marathontest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// clock is a manual clock, so the model's timeline is exact.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2017, 5, 1, 12, 0, 0, 0, time.UTC)} }

type answer struct {
	status int
	body   string
}

func call(t *testing.T, method, url, accept, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

func tasksOf(t *testing.T, s *marathontest.Server, id string) []map[string]any {
	t.Helper()
	a := call(t, "GET", s.URL()+"/v2/apps"+id+"/tasks", "application/json", "")
	var out struct{ Tasks []map[string]any }
	if err := json.Unmarshal([]byte(a.body), &out); err != nil || a.status != 200 {
		t.Fatalf("GET tasks: %d %s", a.status, a.body)
	}
	return out.Tasks
}

const app = `{"id":"/g/app","instances":1,"container":{"type":"DOCKER","docker":{"image":"x","network":"BRIDGE",
 "portMappings":[{"containerPort":80,"hostPort":8500}]}},"healthChecks":[{"protocol":"HTTP","path":"/v1/ping"}],
 "unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}}`

func TestRefusesUntilStarted(t *testing.T) {
	s := marathontest.NewUnstartedServer(marathontest.Options{})
	defer s.Close()
	if _, err := http.Get(s.URL() + "/v2/info"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("GET before Start: err = %v, want connection refused", err)
	}
	s.Start()
	if a := call(t, "GET", s.URL()+"/v2/info", "application/json", ""); a.status != 200 || !strings.Contains(a.body, `"version":"1.4.9"`) {
		t.Errorf("GET /v2/info after Start = %d %s", a.status, a.body)
	}
}

func TestPingAndLeader(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{})
	defer s.Close()
	if a := call(t, "GET", s.URL()+"/ping", "application/json", ""); a.status != http.StatusNotAcceptable {
		t.Errorf("GET /ping Accept JSON = %d, want 406", a.status)
	}
	if a := call(t, "GET", s.URL()+"/ping", "", ""); a.status != 200 || strings.TrimSpace(a.body) != "pong" {
		t.Errorf("GET /ping = %d %q, want 200 pong", a.status, a.body)
	}
	s.SetLeader(false)
	for _, p := range []string{"/ping", "/v2/info", "/v2/apps/g/app"} {
		if a := call(t, "GET", s.URL()+p, "", ""); a.status != 503 || !strings.Contains(a.body, "Could not determine the current leader") {
			t.Errorf("GET %s without leader = %d %s, want 503", p, a.status, a.body)
		}
	}
	if got := s.Count("GET", "/v2/info"); got != 1 {
		t.Errorf("Count(GET /v2/info) = %d, want 1", got)
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DeploymentDuration: time.Second, StagingDuration: 3 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("10.0.0.1")

	a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	if a.status != http.StatusCreated || !strings.Contains(a.body, `"deploymentId"`) {
		t.Fatalf("PUT new app = %d %s, want 201 with a deploymentId", a.status, a.body)
	}
	if a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app); a.status != 409 || !strings.Contains(a.body, "App is locked by one or more deployments") {
		t.Errorf("PUT during deployment = %d %s, want 409 locked", a.status, a.body)
	}
	if ts := tasksOf(t, s, "/g/app"); len(ts) != 1 || ts[0]["state"] != "TASK_STAGING" || ts[0]["host"] != "10.0.0.1" || ts[0]["startedAt"] != nil {
		t.Errorf("task while staging = %v", ts)
	}
	c.Add(3 * time.Second)
	ts := tasksOf(t, s, "/g/app")
	if len(ts) != 1 || ts[0]["state"] != "TASK_RUNNING" || ts[0]["healthCheckResults"] == nil {
		t.Errorf("task after staging = %v, want running with health results", ts)
	}
	if d := s.ActiveDeployments(); len(d) != 0 {
		t.Errorf("deployments after the task runs = %v, want none", d)
	}
	// An identical PUT is still a deployment in Marathon, but restarts nothing.
	if a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app); a.status != 200 {
		t.Errorf("second PUT = %d %s, want 200", a.status, a.body)
	}
	if got := tasksOf(t, s, "/g/app")[0]["id"]; got != ts[0]["id"] {
		t.Errorf("unchanged PUT replaced task %v with %v", ts[0]["id"], got)
	}
	if s.DeploymentsStarted() != 2 {
		t.Errorf("DeploymentsStarted = %d, want 2", s.DeploymentsStarted())
	}
	// GET returns Marathon's defaults too, and the tasks without embed.
	g := call(t, "GET", s.URL()+"/v2/apps/g/app", "", "")
	for _, want := range []string{`"servicePort":10000`, `"backoffFactor":1.15`, `"tasks":[{`, `"upgradeStrategy":{"maximumOverCapacity":1`} {
		if !strings.Contains(g.body, want) {
			t.Errorf("GET app lacks %s: %s", want, g.body)
		}
	}
}

func TestDeleteApp(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DeploymentDuration: time.Second, Now: c.Now})
	defer s.Close()
	if a := call(t, "DELETE", s.URL()+"/v2/apps/g/app", "", ""); a.status != 404 || !strings.Contains(a.body, "App '/g/app' does not exist") {
		t.Errorf("DELETE missing = %d %s, want 404", a.status, a.body)
	}
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	if a := call(t, "DELETE", s.URL()+"/v2/apps/g/app", "", ""); a.status != 409 {
		t.Errorf("DELETE during deployment = %d, want 409", a.status)
	}
	if a := call(t, "DELETE", s.URL()+"/v2/apps/g/app?force=true", "", ""); a.status != 200 {
		t.Errorf("DELETE ?force=true = %d %s, want 200", a.status, a.body)
	}
	if a := call(t, "GET", s.URL()+"/v2/apps/g/app", "", ""); a.status != 404 {
		t.Errorf("GET after DELETE = %d, want 404", a.status)
	}
	if len(s.ActiveDeployments()) != 1 {
		t.Errorf("stop deployment not listed: %v", s.ActiveDeployments())
	}
	c.Add(time.Second)
	if len(s.ActiveDeployments()) != 0 {
		t.Errorf("stop deployment still listed after its duration: %v", s.ActiveDeployments())
	}
}

func TestKillAgentRelaunchesElsewhere(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{StagingDuration: 2 * time.Second, DetectionDelay: 10 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("10.0.0.1")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	c.Add(2 * time.Second)
	first := tasksOf(t, s, "/g/app")[0]
	other := "10.0.0.2"
	if first["host"] == other {
		t.Fatalf("task placed on an agent that does not exist yet: %v", first)
	}
	s.AddAgent(other)

	s.KillAgent("10.0.0.1")
	c.Add(9 * time.Second)
	if ts := tasksOf(t, s, "/g/app"); len(ts) != 1 || ts[0]["id"] != first["id"] || ts[0]["state"] != "TASK_RUNNING" {
		t.Errorf("before detection, Marathon still sees the old task running: %v", ts)
	}
	// Poll late on purpose: the replacement is staged at detection time,
	// not when somebody looks.
	c.Add(1*time.Second + 1500*time.Millisecond)
	ts := tasksOf(t, s, "/g/app")
	if len(ts) != 1 || ts[0]["host"] != other || ts[0]["state"] != "TASK_STAGING" {
		t.Fatalf("after detection = %v, want one staging task on %s", ts, other)
	}
	if got, want := ts[0]["stagedAt"], "2017-05-01T12:00:12.000Z"; got != want {
		t.Errorf("replacement stagedAt = %v, want %v (kill at 12:00:02 + 10 s detection)", got, want)
	}
	c.Add(time.Second)
	if ts := tasksOf(t, s, "/g/app"); ts[0]["state"] != "TASK_RUNNING" {
		t.Errorf("replacement after staging = %v, want running", ts[0]["state"])
	}
}

func TestDefaultUnreachableStrategyWaits(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: 75 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	s.AddAgent("b")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", strings.Replace(app, `"unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}`, `"cpus":0.1`, 1))
	s.KillAgent("a")
	c.Add(75 * time.Second)
	if ts := tasksOf(t, s, "/g/app"); len(ts) != 1 || ts[0]["state"] != "TASK_UNREACHABLE" {
		t.Errorf("with Marathon 1.4's default strategy the lost task waits as unreachable: %v", ts)
	}
	c.Add(300 * time.Second)
	ts := tasksOf(t, s, "/g/app")
	if len(ts) != 2 || ts[1]["host"] != "b" {
		t.Errorf("after inactiveAfterSeconds 300 a replacement runs on b beside the unreachable task: %v", ts)
	}
}

func TestFailNext(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{})
	defer s.Close()
	s.FailNext("/v2/info", 503, 2)
	s.FailNext("/v2/apps/g/app", 409, 1)
	for i := 0; i < 2; i++ {
		if a := call(t, "GET", s.URL()+"/v2/info", "", ""); a.status != 503 {
			t.Errorf("attempt %d: %d, want 503", i, a.status)
		}
	}
	if a := call(t, "GET", s.URL()+"/v2/info", "", ""); a.status != 200 {
		t.Errorf("after the faults: %d, want 200", a.status)
	}
	if a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app); a.status != 409 || !strings.Contains(a.body, `"deployments":[{"id"`) {
		t.Errorf("PUT with a 409 fault = %d %s", a.status, a.body)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Method != "PUT" || last.Status != 409 || !strings.Contains(string(last.Body), `"/g/app"`) {
		t.Errorf("request log's last entry = %+v", last)
	}
}
