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

// healthCheck is the part of an app's first health check the model uses.
type healthCheck struct {
	interval, timeout time.Duration
}

func (a *app) healthCheck() (healthCheck, bool) {
	hcs, _ := a.def["healthChecks"].([]any)
	if len(hcs) == 0 {
		return healthCheck{}, false
	}
	hc, _ := hcs[0].(map[string]any)
	i, _ := hc["intervalSeconds"].(float64)
	t, _ := hc["timeoutSeconds"].(float64)
	if i <= 0 {
		i = 60 // HealthCheck.DefaultInterval
	}
	return healthCheck{interval: time.Duration(i * float64(time.Second)), timeout: time.Duration(t * float64(time.Second))}, true
}

// health returns the task's healthCheckResults as Marathon's HTTP health
// checks (run by Marathon itself, mesosphere/marathon v1.4.9
// core/health/impl/HealthCheckActor.scala) would have them now, or nil for
// none. The model:
//   - checks run from the task's start every intervalSeconds (the first at
//     once: Marathon's comes within one interval, a simplification);
//   - a check succeeds while the task's agent lives and fails, timeoutSeconds
//     later, once it is dead (the instance is gone with its EC2 instance);
//   - checks are dispatched only to running instances (dispatchJobs:
//     instance.isRunning), so an unreachable task keeps its last result;
//   - the result is purged once the instance is UnreachableInactive, which
//     is not "launched" (purgeStatusOfDoneInstances keeps isLaunched only).
//
// Health.alive is lastSuccess after lastFailure (core/health/Health.scala);
// Formats.HealthWrites keys the result by "instanceId".
func (s *Server) health(ap *app, t *task, now time.Time) []any {
	hc, ok := ap.healthCheck()
	started := t.stagedAt.Add(s.opts.StagingDuration)
	if !ok || now.Before(started) || (!t.inactiveAt.IsZero() && !now.Before(t.inactiveAt)) {
		return nil
	}
	killed := t.agent.killedAt
	if !killed.IsZero() && !killed.After(started) {
		return nil // no check ran while it lived
	}
	dispatchUntil := now // checks are dispatched up to here
	if !t.unreachableAt.IsZero() && t.unreachableAt.Before(now) {
		dispatchUntil = t.unreachableAt
	}
	// Check k runs at started + k x interval.
	last := func(at time.Time) int64 { return int64(at.Sub(started) / hc.interval) } // last check at or before at
	check := func(k int64) time.Time { return started.Add(time.Duration(k) * hc.interval) }
	var lastSuccess, lastFailure time.Time
	failures := int64(0)
	if killed.IsZero() || killed.After(dispatchUntil) {
		lastSuccess = check(last(dispatchUntil))
	} else {
		ks := int64((killed.Sub(started)+hc.interval-1)/hc.interval) - 1 // last check before the kill
		lastSuccess = check(ks)
		if kl := min(last(dispatchUntil), last(now.Add(-hc.timeout))); kl > ks {
			failures = kl - ks
			lastFailure = check(kl).Add(hc.timeout)
		}
	}
	r := map[string]any{
		"alive": lastFailure.IsZero() || lastSuccess.After(lastFailure), "consecutiveFailures": failures,
		"firstSuccess": formatTime(started), "lastSuccess": formatTime(lastSuccess),
		"lastFailure": nil, "lastFailureCause": nil, "instanceId": instanceID(t.id),
	}
	if !lastFailure.IsZero() {
		r["lastFailure"] = formatTime(lastFailure)
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
