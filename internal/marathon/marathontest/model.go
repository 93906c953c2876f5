package marathontest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Task states, as Marathon reports them (mesos.proto TaskState names).
const (
	TaskStaging     = "TASK_STAGING"
	TaskRunning     = "TASK_RUNNING"
	TaskUnreachable = "TASK_UNREACHABLE"
)

type app struct {
	id        string
	def       map[string]any // as Marathon returns it, without runtime fields
	version   string
	changedAt string // versionInfo.lastConfigChangeAt
	tasks     []*task
	slots     []time.Time // times from which a task is owed and not yet placed
	// deployedAt is when the current version's deployment started: its
	// health-check actor starts then.
	deployedAt time.Time
	// failNext tasks launched from now fail their health checks from
	// failAfter past their start (FailHealthChecks).
	failNext  int
	failAfter time.Duration
	// lastFailure is the app's lastTaskFailure, launchDelay its current
	// launch delay (partition.go FailTask).
	lastFailure *TaskFailure
	launchDelay time.Duration
}

type task struct {
	id, host, slaveID string
	agent             *agent
	version           string
	ports             []int
	stagedAt          time.Time
	unreachableAt     time.Time // zero while reachable
	// inactiveAt is when its instance became UnreachableInactive and a
	// replacement was owed; zero before.
	inactiveAt time.Time
	// failFrom is when its app stops answering Marathon's health checks;
	// zero: never (FailHealthChecks).
	failFrom time.Time
	// reportedAt is when its agent re-registered after a partition and
	// Mesos listed it running again; Marathon sees it at its next
	// reconciliation (partition.go).
	reportedAt time.Time
}

type deployment struct {
	id, version, appID, action string
	startedAt                  time.Time
}

func (t *task) state(now time.Time, staging time.Duration) string {
	switch {
	case !t.unreachableAt.IsZero() && !now.Before(t.unreachableAt):
		return TaskUnreachable
	case now.Before(t.stagedAt.Add(staging)) || !t.ran(staging):
		return TaskStaging
	default:
		return TaskRunning
	}
}

// ran reports whether the task reached TASK_RUNNING: its agent was still
// alive when staging ended (a dead agent sends no status update).
func (t *task) ran(staging time.Duration) bool {
	return t.agent.killedAt.IsZero() || !t.agent.killedAt.Before(t.stagedAt.Add(staging))
}

func (a *app) instances() int {
	n, _ := a.def["instances"].(float64)
	return int(n)
}

// unreachable returns the app's unreachableStrategy as durations; "disabled"
// never replaces nor expunges. withDefaults has filled it in.
func (a *app) unreachable() (inactive, expunge time.Duration, enabled bool) {
	us, ok := a.def["unreachableStrategy"].(map[string]any)
	if !ok {
		return 0, 0, false
	}
	i, _ := us["inactiveAfterSeconds"].(float64)
	e, _ := us["expungeAfterSeconds"].(float64)
	return time.Duration(i * float64(time.Second)), time.Duration(e * float64(time.Second)), true
}

func (a *app) hostPorts() []int {
	c, _ := a.def["container"].(map[string]any)
	d, _ := c["docker"].(map[string]any)
	pms, _ := d["portMappings"].([]any)
	var ports []int
	for _, raw := range pms {
		pm, _ := raw.(map[string]any)
		p, _ := pm["hostPort"].(float64)
		ports = append(ports, int(p))
	}
	return ports
}

// advance brings the model up to now. It repeats until nothing changes,
// because each event may enable the next (an agent is lost, its task's
// replacement lands on another agent that was killed too, ...).
func (s *Server) advance() {
	now := s.opts.Now()
	for s.detectLostAgents(now) || s.reregister(now) || s.reconcile(now) || s.handleUnreachable(now) || s.killUnhealthy(now) || s.place(now) {
	}
	s.finishDeployments(now)
}

func (s *Server) detectLostAgents(now time.Time) bool {
	changed := false
	for _, a := range s.agents {
		if a.silentAt.IsZero() || !a.lostAt.IsZero() {
			continue
		}
		lostAt := s.verdict(a)
		if lostAt.After(now) {
			continue
		}
		a.lostAt = lostAt
		for _, ap := range s.apps {
			for _, t := range ap.tasks {
				if t.agent == a && t.unreachableAt.IsZero() {
					t.unreachableAt = lostAt
				}
			}
		}
		changed = true
	}
	return changed
}

// place launches owed tasks, each on the agent that can take it first (no
// other task of the app on it: the host ports are fixed), staged at the
// time both the slot and the agent were there.
func (s *Server) place(now time.Time) bool {
	changed := false
	for _, id := range sortedAppIDs(s.apps) {
		ap := s.apps[id]
		for len(ap.slots) > 0 {
			slot := ap.slots[0]
			var best *agent
			var bestAt time.Time
			for _, a := range s.agents {
				at := slot
				if a.addedAt.After(at) {
					at = a.addedAt
				}
				if at.After(now) || (!a.silentAt.IsZero() && !a.silentAt.After(at)) || ap.busy(a) {
					continue
				}
				if best == nil || at.Before(bestAt) {
					best, bestAt = a, at
				}
			}
			if best == nil {
				break
			}
			ap.slots = ap.slots[1:]
			s.seq++
			ports := ap.hostPorts()
			for i, p := range ports {
				if p == 0 {
					ports[i] = 31000 + s.seq // Mesos's default port range starts at 31000
				}
			}
			t := &task{
				id:       fmt.Sprintf("%s.%08x-0000-4000-8000-%012x", strings.ReplaceAll(strings.TrimPrefix(ap.id, "/"), "/", "_"), s.seq, s.seq),
				host:     best.host,
				slaveID:  best.slaveID,
				agent:    best,
				version:  ap.version,
				ports:    ports,
				stagedAt: bestAt,
			}
			if ap.failNext > 0 {
				ap.failNext--
				t.failFrom = bestAt.Add(s.opts.StagingDuration + ap.failAfter)
			}
			ap.tasks = append(ap.tasks, t)
			changed = true
		}
	}
	return changed
}

// busy reports whether the app has a task on a that still holds its ports:
// a reachable one, or an unreachable one whose agent re-registered with it
// running.
func (ap *app) busy(a *agent) bool {
	for _, t := range ap.tasks {
		if t.agent == a && (t.unreachableAt.IsZero() || !t.reportedAt.IsZero()) {
			return true
		}
	}
	return false
}

func (s *Server) finishDeployments(now time.Time) {
	kept := s.deployments[:0]
	for _, d := range s.deployments {
		if now.Before(d.startedAt.Add(s.opts.DeploymentDuration)) || !s.deploymentReady(d, now) {
			kept = append(kept, d)
		}
	}
	s.deployments = kept
}

// deploymentReady reports whether the app reached the deployment's target:
// gone for a stop, otherwise as many running tasks of its version as it
// has instances.
func (s *Server) deploymentReady(d *deployment, now time.Time) bool {
	ap, ok := s.apps[d.appID]
	if d.action == "StopApplication" {
		return !ok
	}
	if !ok {
		return true
	}
	running := 0
	for _, t := range ap.tasks {
		if t.version == ap.version && t.state(now, s.opts.StagingDuration) == TaskRunning {
			running++
		}
	}
	return running >= ap.instances()
}

func (s *Server) lockedBy(appID string) []*deployment {
	var out []*deployment
	for _, d := range s.deployments {
		if d.appID == appID {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) cancelDeployments(appID string) {
	kept := s.deployments[:0]
	for _, d := range s.deployments {
		if d.appID != appID {
			kept = append(kept, d)
		}
	}
	s.deployments = kept
}

func (s *Server) startDeployment(appID, version, action string, at time.Time) *deployment {
	s.seq++
	s.started++
	d := &deployment{
		id:        fmt.Sprintf("%08x-1111-4000-8000-%012x", s.seq, s.seq),
		version:   version,
		appID:     appID,
		action:    action,
		startedAt: at,
	}
	s.deployments = append(s.deployments, d)
	return d
}

// upsert applies a PUT body to the app (Marathon 1.4's PUT /v2/apps/{id} is
// an update: fields the body omits keep their values) and starts its
// deployment. A changed definition restarts the app's tasks (all at once,
// as upgradeStrategy 0/0 does); an unchanged one still makes a deployment,
// with nothing to do but wait.
func (s *Server) upsert(id string, body map[string]any) (d *deployment, created bool) {
	version, at := s.version()
	ap, ok := s.apps[id]
	if !ok {
		ap = &app{id: id, def: map[string]any{}}
		s.apps[id] = ap
		created = true
	}
	next := map[string]any{}
	for k, v := range ap.def {
		next[k] = v
	}
	for k, v := range body {
		next[k] = v
	}
	next["id"] = id
	withDefaults(next)
	changed := created || !reflect.DeepEqual(next, ap.def)
	ap.def = next
	ap.version = version
	ap.deployedAt = at
	action := "ScaleApplication"
	if changed {
		ap.changedAt = version
		ap.tasks = nil
		ap.slots = nil
		ap.launchDelay = 0 // a new config version starts without delay (RateLimiter keys delays by it)
		for i := 0; i < ap.instances(); i++ {
			ap.slots = append(ap.slots, at)
		}
		action = "RestartApplication"
		if created {
			action = "StartApplication"
		}
	} else {
		for _, t := range ap.tasks {
			t.version = version
		}
	}
	return s.startDeployment(id, version, action, at), created
}

// withDefaults fills what Marathon 1.4 adds to a stored app, so clients
// that compare what they sent with what they read meet the same extra
// fields as on a real Marathon (AppDefinition.scala defaults).
func withDefaults(def map[string]any) {
	defaults := map[string]any{
		"instances": 1.0, "cpus": 1.0, "mem": 128.0, "disk": 0.0, "gpus": 0.0,
		"backoffSeconds": 1.0, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 3600.0,
		"requirePorts": false, "killSelection": "YOUNGEST_FIRST",
		"labels": map[string]any{}, "env": map[string]any{}, "constraints": []any{},
		"uris": []any{}, "fetch": []any{}, "storeUrls": []any{}, "dependencies": []any{},
		"healthChecks": []any{}, "readinessChecks": []any{}, "secrets": map[string]any{},
		"upgradeStrategy":     map[string]any{"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0},
		"unreachableStrategy": defaultUnreachableStrategy(),
	}
	for k, v := range defaults {
		if cur, ok := def[k]; !ok || (k == "unreachableStrategy" && cur == nil) {
			def[k] = v
		}
	}
	// Both fields of an unreachableStrategy object default to 0 (RAML
	// docs/docs/rest-api/public/api/v2/types/unreachableStrategy.raml).
	if us, ok := def["unreachableStrategy"].(map[string]any); ok {
		for k, v := range defaultUnreachableStrategy() {
			if _, ok := us[k]; !ok {
				us[k] = v
			}
		}
	}
	if c, ok := def["container"].(map[string]any); ok {
		if _, ok := c["volumes"]; !ok {
			c["volumes"] = []any{}
		}
		if d, ok := c["docker"].(map[string]any); ok {
			pms, _ := d["portMappings"].([]any)
			for i, raw := range pms {
				pm, ok := raw.(map[string]any)
				if !ok {
					continue
				}
				if sp, _ := pm["servicePort"].(float64); sp == 0 {
					pm["servicePort"] = float64(10000 + i) // from Marathon's --local_port_min, default 10000
				}
				if _, ok := pm["labels"]; !ok {
					pm["labels"] = map[string]any{}
				}
			}
			for _, k := range []string{"privileged", "forcePullImage"} {
				if _, ok := d[k]; !ok {
					d[k] = false
				}
			}
		}
	}
	hcs, _ := def["healthChecks"].([]any)
	for _, raw := range hcs {
		hc, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range map[string]any{"gracePeriodSeconds": 300.0, "intervalSeconds": 60.0, "timeoutSeconds": 20.0,
			"maxConsecutiveFailures": 3.0, "ignoreHttp1xx": false, "delaySeconds": 15.0} {
			if _, ok := hc[k]; !ok {
				hc[k] = v
			}
		}
	}
}

// copyJSON deep-copies a decoded JSON value.
func copyJSON(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}
