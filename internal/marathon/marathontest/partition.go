package marathontest

import (
	"fmt"
	"time"
)

// Partitions, Mesos's ping-based detection, and task failures.
//
// With Options.AgentPingTimeout set, the Mesos master's verdict on an agent
// that stops answering (KillAgent, PartitionAgent) is counted as Mesos 1.4.1
// counts it (apache/mesos 1.4.1 src/master/master.cpp, SlaveObserver): the
// master pings each agent when it registers and then every
// agent_ping_timeout; a ping with no pong before the next one is a timeout,
// and after max_agent_ping_timeouts in a row the agent is marked
// unreachable ("No pong has been received for the last
// 'maxSlavePingTimeouts' pings"). So the verdict comes timeout x misses
// after the first ping the agent did not answer, that is timeout x (misses
// + 1) after the last one it answered: 12 to 16 s after the agent fell
// silent with 4 s x 3. A pong before the verdict cancels it ("Cancel any
// pending unreachable transitions"); pings sent while the agent was cut
// off are lost, so only a ping sent after it was healed, at least one
// timeout before the verdict, answers in time. Without AgentPingTimeout the
// verdict comes DetectionDelay after the agent fell silent.

// TaskFailed is a task state Marathon reports in an app's lastTaskFailure.
const TaskFailed = "TASK_FAILED"

// TaskFailure is an app's lastTaskFailure (Marathon 1.4.9 GET
// /v2/apps/{id}: TaskFailure, with the task's id, state, message, host and
// timestamp).
type TaskFailure struct {
	TaskID, State, Message, Host string
	At                           time.Time
}

// verdict is when the master declares a silent agent unreachable.
func (s *Server) verdict(a *agent) time.Time {
	t := s.opts.AgentPingTimeout
	if t <= 0 {
		return a.silentAt.Add(s.opts.DetectionDelay)
	}
	// The first ping at or after silentAt: pings at addedAt + k*t.
	k := (a.silentAt.Sub(a.addedAt) + t - 1) / t
	firstLost := a.addedAt.Add(k * t)
	return firstLost.Add(time.Duration(s.misses()) * t)
}

func (s *Server) misses() int {
	if s.opts.MaxAgentPingTimeouts <= 0 {
		return 1
	}
	return s.opts.MaxAgentPingTimeouts
}

// PartitionAgent cuts the agent off from the masters, as a network
// partition does: its tasks keep running, it takes no new task, and unless
// HealAgent comes in time the master declares it unreachable, as for a
// killed agent.
func (s *Server) PartitionAgent(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	a := s.liveAgent(host, "PartitionAgent")
	if a.silentAt.IsZero() {
		a.silentAt = s.opts.Now()
		a.healedAt = time.Time{}
	}
	s.advance()
}

// HealAgent ends the agent's partition. If a pong can still reach the
// master before its verdict, the verdict is cancelled and nothing
// happened. Otherwise the agent re-registers once it is declared
// unreachable (at once if it already is): the master adds back the tasks
// of PARTITION_AWARE frameworks, which keep running (Mesos 1.4.1
// master.cpp __reregisterSlave; Marathon always registers PARTITION_AWARE,
// mesosphere/marathon v1.4.9 MarathonSchedulerDriver.scala), with no status
// update: Marathon sees them running again only at its next task
// reconciliation (Options.ReconciliationInterval), and a task it has
// expunged meanwhile it kills as unknown (TaskStatusUpdateProcessorImpl
// killUnknownTask). Marathon's scale check, which later kills the youngest
// of the now surplus tasks (--scale_apps_interval, 300 s; killSelection
// YOUNGEST_FIRST), is not modelled.
func (s *Server) HealAgent(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	a := s.liveAgent(host, "HealAgent")
	if a.silentAt.IsZero() {
		return
	}
	now := s.opts.Now()
	if a.lostAt.IsZero() && !now.After(s.verdict(a).Add(-s.pingTimeoutOrZero())) {
		a.silentAt = time.Time{} // a pong in time: the transition is cancelled
		return
	}
	a.healedAt = now
	s.advance()
}

func (s *Server) pingTimeoutOrZero() time.Duration {
	if s.opts.AgentPingTimeout > 0 {
		return s.opts.AgentPingTimeout
	}
	return 0
}

func (s *Server) liveAgent(host, caller string) *agent {
	for _, a := range s.agents {
		if a.host == host && !a.dead() {
			return a
		}
	}
	panic(fmt.Sprintf("marathontest: %s: no live agent %q", caller, host))
}

// reregister brings back the healed agents whose verdict came: from then
// on they take tasks again, and at the next reconciliation Marathon sees
// their tasks as Mesos reports them.
func (s *Server) reregister(now time.Time) bool {
	changed := false
	for _, a := range s.agents {
		if a.healedAt.IsZero() || a.lostAt.IsZero() || a.dead() {
			continue
		}
		back := a.healedAt
		if a.lostAt.After(back) {
			back = a.lostAt
		}
		if back.After(now) {
			continue
		}
		a.silentAt, a.healedAt, a.lostAt = time.Time{}, time.Time{}, time.Time{}
		for _, ap := range s.apps {
			for _, t := range ap.tasks {
				if t.agent == a && !t.unreachableAt.IsZero() {
					t.reportedAt = back
				}
			}
		}
		changed = true
	}
	return changed
}

// reconcile makes Marathon see a re-registered agent's tasks running again
// at its first reconciliation after the agent came back.
func (s *Server) reconcile(now time.Time) bool {
	changed := false
	for _, ap := range s.apps {
		for _, t := range ap.tasks {
			if t.reportedAt.IsZero() || s.electedAt.IsZero() {
				continue
			}
			at := tickAtOrAfter(s.electedAt, s.opts.ReconciliationInitialDelay, s.opts.ReconciliationInterval, t.reportedAt)
			if at.After(now) {
				continue
			}
			t.unreachableAt, t.inactiveAt, t.reportedAt = time.Time{}, time.Time{}, time.Time{}
			changed = true
		}
	}
	return changed
}

// FailTask ends a staging or running task with TASK_FAILED and message, as
// the agent reports a container that could not start (a volume that would
// not mount, say). Marathon forgets the task, records it as the app's
// lastTaskFailure and launches a replacement once the app's launch delay has
// passed: backoffSeconds after the first failure, times backoffFactor after
// each further one, at most maxLaunchDelaySeconds (mesosphere/marathon
// v1.4.9 core/launchqueue/impl/RateLimiter.scala Delay and increased;
// NotifyRateLimiterStepImpl adds a delay for every failed task), each app
// second lasting Options.BackoffUnit. It reports whether the task existed.
func (s *Server) FailTask(appID, taskID, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	ap, ok := s.apps[appID]
	if !ok {
		return false
	}
	now := s.opts.Now()
	for i, t := range ap.tasks {
		if t.id != taskID {
			continue
		}
		ap.tasks = append(ap.tasks[:i], ap.tasks[i+1:]...)
		ap.lastFailure = &TaskFailure{TaskID: t.id, State: TaskFailed, Message: message, Host: t.host, At: now}
		ap.launchDelay = s.nextDelay(ap)
		ap.slots = append(ap.slots, now.Add(ap.launchDelay))
		s.advance()
		return true
	}
	return false
}

func (s *Server) nextDelay(ap *app) time.Duration {
	unit := s.opts.BackoffUnit
	if unit <= 0 {
		unit = time.Second
	}
	num := func(k string) float64 { v, _ := ap.def[k].(float64); return v }
	maxDelay := time.Duration(num("maxLaunchDelaySeconds") * float64(unit))
	d := time.Duration(num("backoffSeconds") * float64(unit))
	if ap.launchDelay > 0 {
		d = time.Duration(float64(ap.launchDelay) * num("backoffFactor"))
	}
	return min(d, maxDelay)
}

// LastTaskFailure returns the app's lastTaskFailure, if a task of it failed.
func (s *Server) LastTaskFailure(appID string) (TaskFailure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	ap, ok := s.apps[appID]
	if !ok || ap.lastFailure == nil {
		return TaskFailure{}, false
	}
	return *ap.lastFailure, true
}

// AgentUnreachable reports whether the Mesos master has marked the agent at
// host unreachable and it has not re-registered since: the master's
// /master/state no longer lists it among its "slaves" (it counts it in
// "unreachable_slaves": shared notes fencing.md section 1).
func (s *Server) AgentUnreachable(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	for _, a := range s.agents {
		if a.host == host && !a.lostAt.IsZero() {
			return true
		}
	}
	return false
}
