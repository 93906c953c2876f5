package marathontest_test

import (
	"encoding/json"
	"fmt"
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
	// SystemResource.ping at v1.4.9 selects a variant for the Accept header.
	for _, c := range []struct{ accept, status, ctype, body string }{
		{"", "200", "text/plain", "pong"},                         // go-marathon's health checker sends no Accept
		{"application/json", "200", "application/json", `"pong"`}, // go-marathon's Ping
		{"*/*", "200", "text/plain", "pong"},
		{"text/html", "200", "text/html", "pong"},
		{"text/csv", "200", "text/plain", "pong"},
		{"application/json;q=0.5, text/plain", "200", "text/plain", "pong"},
		{"application/xml", "204", "", ""},
	} {
		req, _ := http.NewRequest("GET", s.URL()+"/ping", nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := fmt.Sprint(resp.StatusCode); got != c.status || resp.Header.Get("Content-Type") != c.ctype || string(b) != c.body {
			t.Errorf("GET /ping Accept %q = %s %q %q, want %s %q %q", c.accept, got, resp.Header.Get("Content-Type"), b, c.status, c.ctype, c.body)
		}
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
	// The app's health checks first tick 5 s after its deployment
	// (DefaultFirstHealthCheckAfter): no result yet.
	if len(ts) != 1 || ts[0]["state"] != "TASK_RUNNING" || ts[0]["healthCheckResults"] != nil {
		t.Errorf("task after staging = %v, want running without health results yet", ts)
	}
	c.Add(2 * time.Second)
	if ts := tasksOf(t, s, "/g/app"); len(ts) != 1 || ts[0]["healthCheckResults"] == nil {
		t.Errorf("task 5 s after the deployment = %v, want health results", ts)
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
	if len(ts) != 2 || ts[0]["id"] != first["id"] || ts[0]["state"] != "TASK_UNREACHABLE" || ts[1]["host"] != other || ts[1]["state"] != "TASK_STAGING" {
		t.Fatalf("after detection = %v, want the old task unreachable beside one staging on %s", ts, other)
	}
	if got, want := ts[1]["stagedAt"], "2017-05-01T12:00:12.000Z"; got != want {
		t.Errorf("replacement stagedAt = %v, want %v (kill at 12:00:02 + 10 s detection)", got, want)
	}
	// The unreachable task keeps what TaskWrites writes for an active task.
	if u := ts[0]; u["startedAt"] != "2017-05-01T12:00:02.000Z" || u["stagedAt"] != first["stagedAt"] || u["version"] != first["version"] || u["ports"] == nil {
		t.Errorf("unreachable task = %v, want its startedAt, stagedAt, version and ports kept", u)
	}
	c.Add(time.Second)
	if ts := tasksOf(t, s, "/g/app"); ts[1]["state"] != "TASK_RUNNING" || ts[0]["state"] != "TASK_UNREACHABLE" {
		t.Errorf("after staging = %v, want the replacement running beside the unreachable task", ts)
	}
}

// statesOf lists the tasks as "host:STATE".
func statesOf(t *testing.T, s *marathontest.Server, id string) string {
	t.Helper()
	var out []string
	for _, tk := range tasksOf(t, s, id) {
		out = append(out, fmt.Sprintf("%s:%s", tk["host"], tk["state"]))
	}
	return strings.Join(out, " ")
}

// withStrategy is the test app with another unreachableStrategy ("" drops it).
func withStrategy(strategy string) string {
	from := `,
 "unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}`
	if strategy == "" {
		return strings.Replace(app, from, "", 1)
	}
	return strings.Replace(app, from, `,
 "unreachableStrategy":`+strategy, 1)
}

// The default unreachableStrategy of 1.4.9 is 0/0 (UnreachableStrategy.scala),
// not the 300/600 its docs still state: the replacement is staged at
// detection, and the unreachable task is listed beside it until the expunge
// job's first run, 5 minutes after the leader was elected.
func TestDefaultUnreachableStrategyIsZero(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: 10 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	s.AddAgent("b")
	s.AddAgent("c")
	if a := call(t, "PUT", s.URL()+"/v2/apps/g/app", "", withStrategy("")); a.status != 201 {
		t.Fatalf("PUT = %d %s", a.status, a.body)
	}
	if g := call(t, "GET", s.URL()+"/v2/apps/g/app", "", ""); !strings.Contains(g.body, `"unreachableStrategy":{"expungeAfterSeconds":0,"inactiveAfterSeconds":0}`) {
		t.Errorf("GET app lacks the default strategy 0/0: %s", g.body)
	}
	c.Add(10 * time.Second)
	s.KillAgent("a") // 12:00:10, lost at 12:00:20
	c.Add(10 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("at detection: %s, want the unreachable task beside its replacement", got)
	}
	c.Add(5*time.Minute - 20*time.Second - time.Millisecond) // just before 12:05:00
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("before the expunge job's first run: %s", got)
	}
	c.Add(time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_RUNNING" {
		t.Errorf("at the expunge job's first run (5 min after election): %s, want the unreachable task gone", got)
	}
	// Later the job runs every 30 s: 12:05:30, 12:06:00, 12:06:30 ...
	c.Add(50 * time.Second) // 12:05:50
	s.KillAgent("b")        // lost at 12:06:00, exactly at a run: expunged at the next one (strictly more than 0 s)
	c.Add(10 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_UNREACHABLE c:TASK_RUNNING" {
		t.Errorf("second loss at 12:06:00: %s", got)
	}
	c.Add(30*time.Second - time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_UNREACHABLE c:TASK_RUNNING" {
		t.Errorf("just before 12:06:30: %s", got)
	}
	c.Add(time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "c:TASK_RUNNING" {
		t.Errorf("at 12:06:30: %s, want the second unreachable task expunged", got)
	}
}

// A non-zero inactiveAfterSeconds is acted on only when Mesos repeats the
// task's TASK_UNREACHABLE, at a reconciliation (15 s after election, then
// every 600 s); the expunge job then waits for the instance to be inactive
// and unreachable longer than expungeAfterSeconds.
func TestInactiveAfterWaitsForReconciliation(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: 10 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	s.AddAgent("b")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", withStrategy(`{"inactiveAfterSeconds":60,"expungeAfterSeconds":120}`))
	c.Add(10 * time.Second)
	s.KillAgent("a") // lost at 12:00:20, inactive after 12:01:20: next reconciliation 12:10:15
	c.Add(10*time.Minute + 15*time.Second - 10*time.Second - time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE" {
		t.Errorf("before the reconciliation at 12:10:15: %s, want no replacement yet", got)
	}
	c.Add(time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("at the reconciliation: %s, want a replacement", got)
	}
	c.Add(15*time.Second - time.Millisecond) // the expunge job's next run is 12:10:30
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("before 12:10:30: %s", got)
	}
	c.Add(time.Millisecond)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_RUNNING" {
		t.Errorf("at 12:10:30: %s, want the inactive task expunged", got)
	}
}

func TestUnreachableStrategyDisabled(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	s.AddAgent("b")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", withStrategy(`"disabled"`))
	s.KillAgent("a")
	c.Add(time.Hour)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE" {
		t.Errorf("with \"disabled\" an hour later: %s, want the task neither replaced nor expunged", got)
	}
}

func TestUnreachableStrategyValidation(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{})
	defer s.Close()
	for _, c := range []struct{ strategy, status, want string }{
		{`{"inactiveAfterSeconds":2,"expungeAfterSeconds":1}`, "422", `"errors":["got 2 seconds, expected 1 second or less"],"path":"/unreachableStrategy/inactiveAfter"`},
		// Each field defaults to 0 on its own (RAML), so this one is refused too.
		{`{"inactiveAfterSeconds":5}`, "422", `expected 0 seconds or less`},
		{`{"inactiveAfterSeconds":-1,"expungeAfterSeconds":0}`, "422", `/unreachableStrategy/inactiveAfterSeconds`},
		{`"never"`, "422", `"path":"/unreachableStrategy"}`},
		{`{"expungeAfterSeconds":10}`, "201", `"deploymentId"`},
	} {
		a := call(t, "PUT", s.URL()+"/v2/apps/v/app", "", strings.Replace(withStrategy(c.strategy), "/g/app", "/v/app", 1))
		if fmt.Sprint(a.status) != c.status || !strings.Contains(a.body, c.want) {
			t.Errorf("PUT unreachableStrategy %s = %d %s, want %s with %s", c.strategy, a.status, a.body, c.status, c.want)
		}
	}
	if g := call(t, "GET", s.URL()+"/v2/apps/v/app", "", ""); !strings.Contains(g.body, `"unreachableStrategy":{"expungeAfterSeconds":10,"inactiveAfterSeconds":0}`) {
		t.Errorf("GET app: the missing inactiveAfterSeconds is not 0: %s", g.body)
	}
}

// The periodic jobs start when a leader is elected: a new election (or a
// restarted Marathon) starts the expunge job's 5 minutes again.
func TestElectionRestartsTheExpungeTimer(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: time.Second, ExpungeInitialDelay: time.Minute, ExpungeInterval: 10 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	s.AddAgent("b")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	c.Add(50 * time.Second)
	s.SetLeader(false)
	s.SetLeader(true) // elected at 12:00:50: first run at 12:01:50
	s.KillAgent("a")
	c.Add(59 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "a:TASK_UNREACHABLE b:TASK_RUNNING" {
		t.Errorf("at 12:01:49: %s, want the unreachable task still listed", got)
	}
	c.Add(time.Second)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_RUNNING" {
		t.Errorf("at 12:01:50: %s", got)
	}
	s.Stop()
	if _, err := http.Get(s.URL() + "/v2/info"); err == nil {
		t.Fatal("a stopped Marathon answered")
	}
	s.Start() // re-elected at 12:01:50
	s.KillAgent("b")
	s.AddAgent("c")
	c.Add(59 * time.Second)
	if got := statesOf(t, s, "/g/app"); got != "b:TASK_UNREACHABLE c:TASK_RUNNING" {
		t.Errorf("after the restart at 12:02:49: %s", got)
	}
	c.Add(time.Second)
	if got := statesOf(t, s, "/g/app"); got != "c:TASK_RUNNING" {
		t.Errorf("after the restart at 12:02:50: %s", got)
	}
	info := call(t, "GET", s.URL()+"/v2/info", "", "")
	for _, want := range []string{`"task_lost_expunge_initial_delay":60000`, `"task_lost_expunge_interval":10000`, `"reconciliation_initial_delay":15000`, `"reconciliation_interval":600000`} {
		if !strings.Contains(info.body, want) {
			t.Errorf("/v2/info lacks %s: %s", want, info.body)
		}
	}
}

// A task's JSON has what Formats.TaskWrites and EnrichedTaskWrites write at
// each step; Marathon's HTTP health checks keep an unreachable task's last
// (failed) result until its instance is inactive.
func TestTaskJSONAndHealth(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{StagingDuration: 2 * time.Second, DetectionDelay: 20 * time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("10.0.0.1")
	// Checks every 5 s from 12:00:05, failing 2 s after they start once the
	// agent is dead.
	def := strings.Replace(withStrategy(`"disabled"`), `"path":"/v1/ping"`, `"path":"/v1/ping","intervalSeconds":5,"timeoutSeconds":2`, 1)
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", def)
	staging := tasksOf(t, s, "/g/app")[0]
	for _, k := range []string{"ipAddresses", "servicePorts", "healthCheckResults"} {
		if _, ok := staging[k]; ok {
			t.Errorf("a staging task has %s: %v", k, staging)
		}
	}
	c.Add(2 * time.Second) // running at 12:00:02
	running := tasksOf(t, s, "/g/app")[0]
	ip, _ := json.Marshal(running["ipAddresses"])
	if string(ip) != `[{"ipAddress":"172.17.0.2","protocol":"IPv4"}]` || running["host"] != "10.0.0.1" {
		t.Errorf("running task ipAddresses %s host %v: want Docker's bridge address, the agent in host", ip, running["host"])
	}
	if _, ok := running["healthCheckResults"]; ok {
		t.Errorf("a running task has health results before the first check at 12:00:05: %v", running)
	}
	c.Add(3 * time.Second) // 12:00:05
	h := health(t, s)
	if h["alive"] != true || h["firstSuccess"] != "2017-05-01T12:00:05.000Z" || h["instanceId"] != strings.Replace(running["id"].(string), ".", ".marathon-", 1) {
		t.Errorf("health %v", h)
	}
	c.Add(time.Second)
	s.KillAgent("10.0.0.1") // 12:00:06: the check at 12:00:10 fails at 12:00:12
	c.Add(5*time.Second + 999*time.Millisecond)
	if h := health(t, s); h["alive"] != true || h["lastSuccess"] != "2017-05-01T12:00:05.000Z" {
		t.Errorf("before the failed check lands: %v", h)
	}
	c.Add(time.Millisecond)
	if h := health(t, s); h["alive"] != false || h["consecutiveFailures"] != 1.0 || h["lastFailure"] != "2017-05-01T12:00:12.000Z" {
		t.Errorf("after the failed check: %v", h)
	}
	// Unreachable at 12:00:26: the checks of 12:00:15 and 12:00:20 count,
	// the one of 12:00:25 lands at 12:00:27 on an instance no longer
	// running and is ignored, and none is dispatched after.
	c.Add(time.Hour)
	if h := health(t, s); h["alive"] != false || h["consecutiveFailures"] != 3.0 || tasksOf(t, s, "/g/app")[0]["state"] != "TASK_UNREACHABLE" {
		t.Errorf("an hour later: %v, want the failures up to the loss kept", h)
	}
	if k := s.Kills(); len(k) != 0 {
		t.Errorf("kills %v: a task on a dead agent cannot be killed", k)
	}
	if g := call(t, "GET", s.URL()+"/v2/apps/g/app", "", ""); !strings.Contains(g.body, `"tasksUnhealthy":1`) || !strings.Contains(g.body, `"tasksRunning":0`) {
		t.Errorf("counts: %s", g.body)
	}
}

func health(t *testing.T, s *marathontest.Server) map[string]any {
	t.Helper()
	ts := tasksOf(t, s, "/g/app")
	hs, _ := ts[0]["healthCheckResults"].([]any)
	if len(hs) != 1 {
		t.Fatalf("task without one health result: %v", ts[0])
	}
	return hs[0].(map[string]any)
}

// With 0/0 the instance is inactive at once and its health is purged.
func TestInactiveTaskHasNoHealth(t *testing.T) {
	c := newClock()
	s := marathontest.NewServer(marathontest.Options{DetectionDelay: time.Second, Now: c.Now})
	defer s.Close()
	s.AddAgent("a")
	call(t, "PUT", s.URL()+"/v2/apps/g/app", "", app)
	s.KillAgent("a")
	c.Add(time.Second)
	ts := tasksOf(t, s, "/g/app")
	if _, ok := ts[0]["healthCheckResults"]; len(ts) != 1 || ts[0]["state"] != "TASK_UNREACHABLE" || ok {
		t.Errorf("inactive task %v, want no healthCheckResults", ts)
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
