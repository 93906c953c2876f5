// Package marathontest is an in-process stand-in for Marathon 1.4.9's REST
// API (mesosphere/marathon at tag v1.4.9), for tests of the tools that drive
// Marathon. It behaves like Marathon where clients depend on it: PUT
// /v2/apps/{id} creates or updates (with 1.4's patch semantics) and starts a
// deployment that takes time; an app is locked (409) while a deployment
// affects it; every path answers 503 while there is no leader, and an
// instance that does not lead (AddMember, Elect: the Marathons of the other
// masters) forwards every request to the leader, with the leader proxy's
// headers and failures (members.go); /v2/leader names the leader; /ping answers
// 200 "pong" to JSON and text clients alike (1.4.6 and later); the address
// refuses connections until Start. It models Mesos agents so failover can be
// rehearsed: a killed agent's tasks become TASK_UNREACHABLE after a detection
// delay and, as the app's unreachableStrategy says (default 0/0), are
// replaced on a live agent, staging first, then running, while the
// unreachable task stays listed beside its replacement until Marathon's
// expunge job removes it (5 minutes after the leader is elected, then every
// 30 s, by default). It runs Marathon's HTTP health checks of the app
// (health.go): results as the tasks' healthCheckResults, failures forgiven
// in the grace period until the first success, and a task that fails
// maxConsecutiveFailures counted checks killed and replaced
// (FailHealthChecks makes tasks fail them; Kills lists what was killed).
//
// Time moves lazily: every request (and every exported method) first brings
// the model up to the clock's now, replaying events at the time they were
// due, so the timeline does not depend on how often a client polls.
package marathontest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Options set the stand-in's timings. Zero durations make things instant;
// tests use milliseconds.
type Options struct {
	// DeploymentDuration is the least time a deployment takes; it also
	// waits until the app's new tasks are running.
	DeploymentDuration time.Duration
	// StagingDuration is how long a task stays TASK_STAGING before it is
	// TASK_RUNNING (the image pull and the volume attach on a real agent).
	StagingDuration time.Duration
	// DetectionDelay is how long after KillAgent the Mesos master declares
	// the agent unreachable: agent_ping_timeout x max_agent_ping_timeouts
	// (facts.AgentPingTimeout x facts.MaxAgentPingTimeouts on the cluster).
	DetectionDelay time.Duration
	// AgentPingTimeout and MaxAgentPingTimeouts, when set, count the
	// detection as the Mesos master does instead (partition.go): the
	// verdict comes AgentPingTimeout x MaxAgentPingTimeouts after the first
	// ping the agent did not answer.
	AgentPingTimeout     time.Duration
	MaxAgentPingTimeouts int
	// BackoffUnit is how long one second of an app's backoffSeconds and
	// maxLaunchDelaySeconds lasts in the stand-in (default a second), so a
	// test can replay Marathon's launch backoff at its own time scale.
	BackoffUnit time.Duration

	// The timers below run from the moment the leader is elected (Start,
	// or SetLeader(true) after a loss). Unlike the durations above, zero
	// means Marathon 1.4.9's default (DefaultExpungeInitialDelay, ...), so
	// a test sees unreachable tasks linger as on a real cluster unless it
	// shortens them.

	// ExpungeInitialDelay and ExpungeInterval schedule the job that
	// expunges unreachable tasks (--task_lost_expunge_initial_delay,
	// --task_lost_expunge_interval).
	ExpungeInitialDelay, ExpungeInterval time.Duration
	// ReconciliationInitialDelay and ReconciliationInterval schedule task
	// reconciliation (--reconciliation_initial_delay,
	// --reconciliation_interval), which makes an unreachable task inactive
	// once it is past a non-zero inactiveAfterSeconds.
	ReconciliationInitialDelay, ReconciliationInterval time.Duration

	// HealthCheckSecond is how long one second of an app's health checks
	// (gracePeriodSeconds, intervalSeconds, timeoutSeconds, and Marathon's
	// first check after 5 s) lasts in the stand-in; zero means a second.
	// Tests run the app's real health-check settings faster with it.
	HealthCheckSecond time.Duration

	// LeaderProxyConnectionTimeout and LeaderProxyReadTimeout bound a
	// non-leading instance's forwarding to the leader
	// (--leader_proxy_connection_timeout, --leader_proxy_read_timeout);
	// zero means Marathon 1.4.9's defaults.
	LeaderProxyConnectionTimeout, LeaderProxyReadTimeout time.Duration
	// LeaderProxyWait is how long an instance that knows no leader waits
	// for one before its 503 (zero: DefaultLeaderProxyWait, Marathon
	// 1.4.9's 11 x 250 ms; leadership.go).
	LeaderProxyWait time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Request is one request the stand-in received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Accept   string
	Body     []byte
	Status   int // 0 when the client gave up before the answer
	// Addr is the address of the instance that received it: the Server's
	// own (URL) or a Member's.
	Addr string
	// Via is the X-Marathon-Via header a forwarding instance set ("1.1
	// <its address>"): non-empty on a request another instance proxied.
	Via string
	// Took is how long the instance held the request, on the machine's
	// clock: until it answered, or until the client gave up (Status 0).
	Took time.Duration
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	addr string

	mu          sync.Mutex
	hs          *httptest.Server
	leader      bool
	apps        map[string]*app
	deployments []*deployment
	started     int // deployments ever started
	agents      []*agent
	faults      []*fault
	requests    []Request
	seq         int
	lastVersion time.Time
	// electedAt is when the current leader was elected, zero while there
	// is none: Marathon's periodic jobs run only on a leader.
	electedAt time.Time
	// members are the cluster's other Marathon instances (AddMember);
	// leaderMember is the one that leads while leader is true, nil when
	// the Server's own instance does.
	members      []*Member
	leaderMember *Member
	// kills are the tasks Marathon killed (Kills).
	kills []Kill
	// crashed: the Server's own instance's master is gone (Crash);
	// zkUnreadable: the Marathons cannot read ZooKeeper (leadership.go).
	crashed, zkUnreadable bool
}

// NewServer starts a stand-in with one leader and no agents.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// NewUnstartedServer reserves an address and returns a stand-in that refuses
// connections on it until Start, like a master whose Marathon has not yet
// booted.
func NewUnstartedServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HealthCheckSecond <= 0 {
		opts.HealthCheckSecond = time.Second
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.ExpungeInitialDelay, DefaultExpungeInitialDelay}, {&opts.ExpungeInterval, DefaultExpungeInterval},
		{&opts.ReconciliationInitialDelay, DefaultReconciliationInitialDelay}, {&opts.ReconciliationInterval, DefaultReconciliationInterval}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("marathontest: reserving a port: %v", err))
	}
	addr := l.Addr().String()
	l.Close()
	return &Server{opts: opts, addr: addr, leader: true, apps: map[string]*app{}}
}

// Start begins serving on the reserved address, and the leader (if
// SetLeader has not removed it) is elected now. After Stop it serves again,
// as a restarted Marathon.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil {
		panic("marathontest: Start called while serving")
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		panic(fmt.Sprintf("marathontest: listening on the reserved address %s: %v", s.addr, err))
	}
	s.hs = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.hs.Start()
	s.advance()
	s.crashed = false
	if s.leader && s.leaderMember == nil {
		s.electedAt = s.opts.Now()
	}
}

// Stop stops serving, as a Marathon process that exited: connections are
// refused and leadership is lost (the periodic jobs stop) until Start.
// Mesos and its agents go on.
func (s *Server) Stop() {
	s.mu.Lock()
	s.advance()
	hs := s.hs
	s.hs = nil
	if s.leaderMember == nil {
		s.electedAt = time.Time{}
	}
	s.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
}

// Close stops serving, its own instance and every member's; later
// connections are refused.
func (s *Server) Close() {
	s.Stop()
	s.mu.Lock()
	members := append([]*Member(nil), s.members...)
	s.mu.Unlock()
	for _, m := range members {
		m.Stop()
	}
}

// URL is the stand-in's base URL, known before Start.
func (s *Server) URL() string { return "http://" + s.addr }

// SetLeader elects (true) or loses (false) the leader: the instance that
// led last (the Server's own unless Elect chose a member). Without one,
// every path of every instance answers 503, as Marathon's
// LeaderProxyFilter does. Each election restarts the periodic jobs'
// timers (they start when elected: LeadershipModule.startWhenLeader,
// MarathonSchedulerService.startLeadership).
func (s *Server) SetLeader(elected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance() // what was due under the old leader happens first
	switch {
	case !elected:
		s.electedAt = time.Time{}
	case !s.leader && s.leaderServing():
		s.electedAt = s.opts.Now()
	}
	s.leader = elected
}

// FailNext makes the next n requests to path answer status with Marathon's
// body for it: 409 "App is locked...", 503 "Could not determine the current
// leader", otherwise {"message": <status text>}. path is matched without
// the query; prefix it with a method ("PUT /v2/apps/a") to match only that
// method.
func (s *Server) FailNext(path string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	method, p := splitMethod(path)
	s.faults = append(s.faults, &fault{method: method, path: p, status: status, left: n})
}

// DelayNext makes the next n requests to path (as for FailNext) wait d
// before they are handled, to exercise client timeouts.
func (s *Server) DelayNext(path string, d time.Duration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	method, p := splitMethod(path)
	s.faults = append(s.faults, &fault{method: method, path: p, delay: d, left: n})
}

// DelayNext makes the next n requests to this member (path as for
// Server.FailNext) wait d before it handles them, as a Marathon that
// stalls (a long JVM garbage collection, an overloaded master) while it
// still accepts connections.
func (m *Member) DelayNext(path string, d time.Duration, n int) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	method, p := splitMethod(path)
	m.s.faults = append(m.s.faults, &fault{member: m, method: method, path: p, delay: d, left: n})
}

// ClearFaults disarms every fault FailNext and DelayNext armed: the outage
// they make is over.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func splitMethod(path string) (method, p string) {
	if m, rest, ok := strings.Cut(path, " "); ok {
		return m, rest
	}
	return "", path
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests had this method (empty: any) and path.
func (s *Server) Count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && r.Path == path {
			n++
		}
	}
	return n
}

// DeploymentsStarted returns how many deployments have been started.
func (s *Server) DeploymentsStarted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// ActiveDeployments returns the ids of the deployments not yet finished.
func (s *Server) ActiveDeployments() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var ids []string
	for _, d := range s.deployments {
		ids = append(ids, d.id)
	}
	return ids
}

// AddAgent registers a Mesos agent whose hostname is host (on the cluster,
// its private IP) and returns its agent (slave) id. Apps short of tasks are
// placed on it at once.
func (s *Server) AddAgent(host string) (slaveID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	for _, a := range s.agents {
		if a.host == host && !a.dead() {
			panic(fmt.Sprintf("marathontest: AddAgent: agent %q is already registered", host))
		}
	}
	s.seq++
	a := &agent{host: host, slaveID: fmt.Sprintf("4f2d8e1a-0000-4000-8000-000000000001-S%d", s.seq), addedAt: s.opts.Now()}
	s.agents = append(s.agents, a)
	s.advance()
	return a.slaveID
}

// KillAgent stops an agent, as a terminated instance: it takes no new task
// from now on, and once the master's detection runs out (DetectionDelay,
// or the ping count of partition.go) its tasks become TASK_UNREACHABLE
// and are replaced on a live agent as the app's unreachableStrategy says;
// they stay listed until the expunge job removes them.
func (s *Server) KillAgent(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	for _, a := range s.agents {
		if a.host == host && !a.dead() {
			a.killedAt = s.opts.Now()
			if a.silentAt.IsZero() {
				a.silentAt = a.killedAt
			}
			a.healedAt = time.Time{} // a dead agent never re-registers
			s.advance()
			return
		}
	}
	panic(fmt.Sprintf("marathontest: KillAgent: no live agent %q", host))
}

type fault struct {
	member *Member // the instance it applies to, nil: the Server's own
	method string  // empty: any
	path   string
	status int
	delay  time.Duration
	left   int
}

type agent struct {
	host, slaveID string
	addedAt       time.Time
	killedAt      time.Time // zero while alive
	silentAt      time.Time // when it stopped answering the master's pings (killed or cut off)
	healedAt      time.Time // when its partition ended, zero unless it will re-register
	lostAt        time.Time // zero until the master noticed
}

func (a *agent) dead() bool { return !a.killedAt.IsZero() }

// takeFault returns the first armed fault for a request to instance m
// (nil: the Server's own), spending one use.
func (s *Server) takeFault(m *Member, method, path string) *fault {
	for i, f := range s.faults {
		if f.member == m && f.path == path && (f.method == "" || f.method == method) && f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// version returns a Marathon version timestamp, unique and increasing, and
// the clock's now.
func (s *Server) version() (string, time.Time) {
	now := s.opts.Now()
	v := now.UTC().Truncate(time.Millisecond)
	if !v.After(s.lastVersion) {
		v = s.lastVersion.Add(time.Millisecond)
	}
	s.lastVersion = v
	return formatTime(v), now
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// marathonVersion is the version /v2/info reports, read from the pinned
// image tag ("mesosphere/marathon:v1.4.9" -> "1.4.9").
func marathonVersion() string {
	tag := facts.MarathonImage[strings.LastIndex(facts.MarathonImage, ":")+1:]
	return strings.TrimPrefix(tag, "v")
}

func sortedAppIDs(apps map[string]*app) []string {
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// TaskStatus is a task as the stand-in's model holds it now: StartedAt is
// when it reached TASK_RUNNING (zero before), Healthy whether its health
// checks are alive.
type TaskStatus struct {
	ID, Host, SlaveID, State string
	StartedAt                time.Time
	Healthy                  bool
	// UnreachableAt is when Mesos declared the task's agent unreachable,
	// zero while it is reachable.
	UnreachableAt time.Time
}

// Tasks returns the app's tasks as GET /v2/apps/{id}/tasks would list them
// now, without a request (nil for an unknown app). A harness polls it to
// act on what Mesos does, even after Close.
func (s *Server) Tasks(appID string) []TaskStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	ap, ok := s.apps[appID]
	if !ok {
		return nil
	}
	now := s.opts.Now()
	out := make([]TaskStatus, 0, len(ap.tasks))
	for _, t := range ap.tasks {
		st := TaskStatus{ID: t.id, Host: t.host, SlaveID: t.slaveID, State: t.state(now, s.opts.StagingDuration), UnreachableAt: t.unreachableAt}
		if t.ran(s.opts.StagingDuration) && !now.Before(t.stagedAt.Add(s.opts.StagingDuration)) {
			st.StartedAt = t.stagedAt.Add(s.opts.StagingDuration)
		}
		h, _ := s.runHealth(ap, t, now)
		st.Healthy = h.alive()
		out = append(out, st)
	}
	return out
}
