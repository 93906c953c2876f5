package marathontest

import (
	"fmt"
	"strings"
	"time"
)

// dockerBridgeIP is the address Docker gives the first container on its
// default bridge (docker0, 172.17.0.1/16). Mesos 1.4's Docker executor
// reports it in the TASK_RUNNING status (apache/mesos 1.4.1
// src/docker/executor.cpp: container_status.network_infos from
// `docker inspect` NetworkSettings IPAddress, src/docker/docker.cpp), and
// Marathon lists it as the task's ipAddresses (NetworkInfo.resolveIpAddresses,
// mesosphere/marathon v1.4.9 core/task/state/NetworkInfo.scala). With BRIDGE
// networking it is not the agent's address: tools must read "host".
const dockerBridgeIP = "172.17.0.2"

// firstHealthCheckAfterSeconds is when an app's health-check actor ticks
// first, at the latest (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/core/health/HealthCheck.scala
// DefaultFirstHealthCheckAfter, 5 s), in the app definition's seconds
// (Options.HealthCheckSecond).
const firstHealthCheckAfterSeconds = 5

// healthCheck is the app's first health check, its seconds scaled by
// Options.HealthCheckSecond. withDefaults has filled in Marathon's
// defaults for the fields the app left out.
type healthCheck struct {
	grace, interval, timeout time.Duration
	maxFailures              int
}

func (s *Server) healthCheck(a *app) (healthCheck, bool) {
	hcs, _ := a.def["healthChecks"].([]any)
	if len(hcs) == 0 {
		return healthCheck{}, false
	}
	hc, _ := hcs[0].(map[string]any)
	num := func(k string) float64 { n, _ := hc[k].(float64); return n }
	sec := func(k string) time.Duration { return time.Duration(num(k) * float64(s.opts.HealthCheckSecond)) }
	h := healthCheck{grace: sec("gracePeriodSeconds"), interval: sec("intervalSeconds"), timeout: sec("timeoutSeconds"),
		maxFailures: int(num("maxConsecutiveFailures"))}
	return h, h.interval > 0
}

// healthState is what Marathon's HealthCheckActor holds of a task: its
// Health (core/health/Health.scala), present once a result was handled.
type healthState struct {
	present                                bool
	firstSuccess, lastSuccess, lastFailure time.Time
	failures                               int
}

func (h healthState) alive() bool {
	return !h.lastSuccess.IsZero() && (h.lastFailure.IsZero() || h.lastSuccess.After(h.lastFailure))
}

// runHealth replays Marathon's HTTP health checks of task t up to until
// (mesosphere/marathon v1.4.9 core/health/impl/HealthCheckActor.scala and
// HealthCheckWorkerActor.scala) and returns the task's Health then, and
// when Marathon killed it for failing them (zero: not killed). The model:
//   - the app's health-check actor starts when its version is deployed or
//     a leader is elected (DeploymentActor: addAllFor; the scheduler's
//     reconcile on election), with no results: they live in the leader's
//     memory. It ticks first after min(interval, 5 s)
//     (DefaultFirstHealthCheckAfter), then every interval;
//   - each tick checks every instance that is running then (dispatchJobs:
//     instance.isRunning), so an unreachable task keeps its last result;
//   - a check succeeds at once while the task's agent lives and its app
//     answers (FailHealthChecks makes it not), and fails timeoutSeconds
//     later otherwise (the check's request timeout);
//   - a failure is ignored, leaving a result with neither success nor
//     failure (not alive), while the instance has had no success and is
//     within gracePeriodSeconds of running (ignoreFailures), and for an
//     instance no longer running;
//   - a counted failure that finds maxConsecutiveFailures failures already
//     counted (checkConsecutiveFailures runs before health.update) kills
//     the instance (KillReason.FailedHealthChecks). Mesos delivers the kill
//     only to a live agent: a task on a dead agent runs on in Marathon's
//     view until Mesos declares it unreachable (KillServiceActor's retry
//     then expunges it; not modelled, the unreachableStrategy replaces it
//     anyway). The kill is immediate (TASK_KILLED at once; a real one
//     passes through TASK_KILLING while Docker stops the container).
//
// Health.alive is a last success later than the last failure.
func (s *Server) runHealth(ap *app, t *task, until time.Time) (healthState, time.Time) {
	var h healthState
	hc, ok := s.healthCheck(ap)
	started := t.stagedAt.Add(s.opts.StagingDuration)
	origin := s.healthOrigin(ap)
	if !ok || origin.IsZero() || !t.ran(s.opts.StagingDuration) || until.Before(started) {
		return h, time.Time{}
	}
	first := min(hc.interval, firstHealthCheckAfterSeconds*s.opts.HealthCheckSecond)
	alive := func(at time.Time) bool { return t.agent.killedAt.IsZero() || at.Before(t.agent.killedAt) }
	running := func(at time.Time) bool { return t.unreachableAt.IsZero() || at.Before(t.unreachableAt) }
	for tick := tickAtOrAfter(origin, first, hc.interval, started); !tick.After(until) && running(tick); tick = tick.Add(hc.interval) {
		if alive(tick) && (t.failFrom.IsZero() || tick.Before(t.failFrom)) {
			h.present = true
			if h.firstSuccess.IsZero() {
				h.firstSuccess = tick
			}
			h.lastSuccess, h.failures = tick, 0
			continue
		}
		at := tick.Add(hc.timeout)
		if at.After(until) {
			break // the result is not in yet
		}
		h.present = true
		if !running(at) || (h.firstSuccess.IsZero() && started.Add(hc.grace).After(at)) {
			continue // ignored
		}
		if h.failures >= hc.maxFailures && hc.maxFailures > 0 && alive(at) {
			return h, at
		}
		h.lastFailure = at
		h.failures++
	}
	return h, time.Time{}
}

// healthOrigin is when the app's current health-check actor started: its
// version's deployment or the leader's election, whichever is later; zero
// while no leader runs it.
func (s *Server) healthOrigin(ap *app) time.Time {
	if s.electedAt.IsZero() {
		return time.Time{}
	}
	if ap.deployedAt.After(s.electedAt) {
		return ap.deployedAt
	}
	return s.electedAt
}

// killUnhealthy kills, as Marathon's health-check actor does, every task
// whose health checks failed too often by now: the task is gone from the
// list (TASK_KILLED is terminal and expunges the instance) and a
// replacement is owed from that moment (ScaleAppUpdateStepImpl: a
// terminal condition is scaling-worthy; Killed is not in
// NotifyRateLimiterStep.limitWorthy, so no launch backoff).
func (s *Server) killUnhealthy(now time.Time) bool {
	changed := false
	for _, id := range sortedAppIDs(s.apps) {
		ap := s.apps[id]
		kept := ap.tasks[:0]
		for _, t := range ap.tasks {
			if _, at := s.runHealth(ap, t, now); !at.IsZero() {
				s.kills = append(s.kills, Kill{AppID: ap.id, TaskID: t.id, Host: t.host, StartedAt: t.stagedAt.Add(s.opts.StagingDuration),
					At: at, Reason: KillReasonFailedHealthChecks})
				ap.slots = append(ap.slots, at)
				changed = true
				continue
			}
			kept = append(kept, t)
		}
		ap.tasks = kept
	}
	return changed
}

// KillReasonFailedHealthChecks is the reason of a kill for failed health
// checks (core/task/termination/KillReason.scala FailedHealthChecks).
const KillReasonFailedHealthChecks = "FailedHealthChecks"

// Kill is a task Marathon killed: it ran from StartedAt until At.
type Kill struct {
	AppID, TaskID, Host string
	StartedAt, At       time.Time
	Reason              string
}

// Kills lists the tasks Marathon killed, oldest first.
func (s *Server) Kills() []Kill {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	return append([]Kill(nil), s.kills...)
}

// FailHealthChecks makes the next n tasks Marathon launches for the app
// fail every health check from after past their start (0: from the
// start), as an app that stops answering its health-check path, or an
// agent whose app port the masters can no longer reach while the ELB
// still can. It panics for an unknown app.
func (s *Server) FailHealthChecks(appID string, n int, after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	ap, ok := s.apps[appID]
	if !ok {
		panic(fmt.Sprintf("marathontest: FailHealthChecks: no app %q", appID))
	}
	ap.failNext, ap.failAfter = n, after
}

// health returns the task's healthCheckResults as Marathon writes them
// now, or nil before the first result (HealthCheckActor.GetAppHealth
// lists only instances with a result; MarathonHealthCheckManager.statuses).
// The result is purged once the instance is UnreachableInactive, which is
// not "launched" (purgeStatusOfDoneInstances keeps isLaunched only).
// Formats.HealthWrites keys it by "instanceId".
func (s *Server) health(ap *app, t *task, now time.Time) []any {
	if !t.inactiveAt.IsZero() && !now.Before(t.inactiveAt) {
		return nil
	}
	h, _ := s.runHealth(ap, t, now)
	if !h.present {
		return nil
	}
	opt := func(at time.Time) any {
		if at.IsZero() {
			return nil
		}
		return formatTime(at)
	}
	r := map[string]any{
		"alive": h.alive(), "consecutiveFailures": h.failures,
		"firstSuccess": opt(h.firstSuccess), "lastSuccess": opt(h.lastSuccess),
		"lastFailure": opt(h.lastFailure), "lastFailureCause": nil, "instanceId": instanceID(t.id),
	}
	if !h.lastFailure.IsZero() {
		// Wording ours: the cause is the HTTP client's exception text.
		r["lastFailureCause"] = fmt.Sprintf("connection to %s:%v timed out", t.host, portOf(t))
	}
	return []any{r}
}

// instanceID is the instance a legacy app task id belongs to:
// "<app>.<uuid>" -> "<app>.marathon-<uuid>" (Task.Id.instanceId and
// calculateLegacyExecutorId, mesosphere/marathon v1.4.9 core/task/Task.scala).
func instanceID(taskID string) string {
	i := strings.LastIndex(taskID, ".")
	return taskID[:i+1] + "marathon-" + taskID[i+1:]
}

func portOf(t *task) any {
	if len(t.ports) == 0 {
		return "?"
	}
	return t.ports[0]
}
