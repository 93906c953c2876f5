package marathontest

import (
	"fmt"
	"time"
)

// Marathon 1.4.9's defaults for the timers that decide how long a lost task
// stays listed. The cluster sets none of these flags (userdata), so these
// are what it runs with.
const (
	// DefaultExpungeInitialDelay and DefaultExpungeInterval schedule the
	// job that expunges unreachable tasks: --task_lost_expunge_initial_delay
	// (default 5.minutes.toMillis) and --task_lost_expunge_interval (default
	// 30.seconds.toMillis), mesosphere/marathon v1.4.9
	// src/main/scala/mesosphere/marathon/core/task/jobs/TaskJobsConfig.scala.
	// ExpungeOverdueLostTasksActor.preStart schedules its Tick with them
	// (core/task/jobs/impl/ExpungeOverdueLostTasksActor.scala), and
	// TaskJobsModule starts that actor when Marathon is elected leader
	// (leadershipModule.startWhenLeader).
	DefaultExpungeInitialDelay = 5 * time.Minute
	DefaultExpungeInterval     = 30 * time.Second
	// DefaultReconciliationInitialDelay and DefaultReconciliationInterval
	// schedule task reconciliation: --reconciliation_initial_delay (default
	// 15000 ms) and --reconciliation_interval (default 600000 ms),
	// mesosphere/marathon v1.4.9 src/main/scala/mesosphere/marathon/MarathonConf.scala;
	// MarathonSchedulerService.schedulePeriodicOperations starts the timer
	// when Marathon is elected. Mesos answers each reconciliation with the
	// task's latest status, and only such a repeated TASK_UNREACHABLE lets
	// an instance become UnreachableInactive after a non-zero
	// inactiveAfterSeconds (InstanceUpdater.mesosUpdate, the Noop branch).
	DefaultReconciliationInitialDelay = 15 * time.Second
	DefaultReconciliationInterval     = 600 * time.Second
)

// defaultUnreachableStrategy is what Marathon 1.4.9 stores for an app that
// sets no unreachableStrategy: UnreachableEnabled.default, whose
// DefaultInactiveAfter and DefaultExpungeAfter are both 0.seconds
// (mesosphere/marathon v1.4.9 src/main/scala/mesosphere/marathon/state/UnreachableStrategy.scala;
// changed from 5.minutes/10.minutes by 4530c593f "Changed default of
// UnreachableEnabled to (0,0) (#5523) (#5649)", first released in v1.4.9).
// docs/docs/configure-task-handling.md at v1.4.9 still says 300 and 600:
// the code is what runs. The API writes it as
// {"inactiveAfterSeconds":0,"expungeAfterSeconds":0}
// (raml/UnreachableStrategyConversion.scala), and UnreachableDisabled as
// the string "disabled".
func defaultUnreachableStrategy() map[string]any {
	return map[string]any{"inactiveAfterSeconds": 0.0, "expungeAfterSeconds": 0.0}
}

// validateUnreachableStrategy refuses what Marathon 1.4.9 refuses: the
// string "disabled" or an object whose inactiveAfterSeconds and
// expungeAfterSeconds (each optional, default 0, minimum 0: RAML
// docs/docs/rest-api/public/api/v2/types/unreachableStrategy.raml) satisfy
// inactiveAfter <= expungeAfter (UnreachableEnabled.unreachableEnabledValidator,
// message as in src/test/scala/mesosphere/marathon/state/UnreachableStrategyTest.scala).
// It returns the failing path and message, or "" when valid.
func validateUnreachableStrategy(v any) (path, msg string) {
	switch us := v.(type) {
	case nil:
		return "", ""
	case string:
		if us == "disabled" {
			return "", ""
		}
		return "/unreachableStrategy", fmt.Sprintf("%q is not \"disabled\" nor an object", us)
	case map[string]any:
		secs := map[string]float64{}
		for _, k := range []string{"inactiveAfterSeconds", "expungeAfterSeconds"} {
			raw, ok := us[k]
			if !ok {
				continue
			}
			n, ok := raw.(float64)
			if !ok || n != float64(int64(n)) || n < 0 {
				// Wording ours: the RAML reader refuses it before validation.
				return "/unreachableStrategy/" + k, fmt.Sprintf("%v is not an integer of at least 0", raw)
			}
			secs[k] = n
		}
		if i, e := secs["inactiveAfterSeconds"], secs["expungeAfterSeconds"]; i > e {
			return "/unreachableStrategy/inactiveAfter", fmt.Sprintf("got %s, expected %s or less", scalaSeconds(i), scalaSeconds(e))
		}
		return "", ""
	}
	return "/unreachableStrategy", "is neither \"disabled\" nor an object"
}

// scalaSeconds formats whole seconds as Scala's FiniteDuration.toString
// does ("1 second", "2 seconds").
func scalaSeconds(n float64) string {
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", int64(n))
}

// tickAtOrAfter returns the first time at or after t of a timer that first
// fires at origin+initial and then every interval.
func tickAtOrAfter(origin time.Time, initial, interval time.Duration, t time.Time) time.Time {
	first := origin.Add(initial)
	if !t.After(first) {
		return first
	}
	k := (t.Sub(first) + interval - 1) / interval
	return first.Add(k * interval)
}

// inactiveAt returns when a task unreachable since u becomes
// UnreachableInactive under inactiveAfter d, which owes a replacement
// (ScaleAppUpdateStepImpl: UnreachableInactive is scaling-worthy): with
// d = 0 at the first TASK_UNREACHABLE update, otherwise at the first
// reconciliation after u+d (Task.isUnreachableExpired: Timestamp.expired is
// strictly "more than"). It is zero while no leader runs the reconciliation
// timer.
func (s *Server) inactiveAt(u time.Time, d time.Duration) time.Time {
	if d == 0 {
		return u
	}
	if s.electedAt.IsZero() {
		return time.Time{}
	}
	return tickAtOrAfter(s.electedAt, s.opts.ReconciliationInitialDelay, s.opts.ReconciliationInterval, u.Add(d+time.Nanosecond))
}

// expungeAt returns when the expunge job removes an inactive task:
// at its first Tick at which the instance is UnreachableInactive and
// unreachable for more than expungeAfter
// (ExpungeOverdueLostTasksActorLogic.shouldExpunge). It is zero while no
// leader runs the job.
func (s *Server) expungeAt(t *task, expungeAfter time.Duration) time.Time {
	if s.electedAt.IsZero() || t.inactiveAt.IsZero() {
		return time.Time{}
	}
	after := t.unreachableAt.Add(expungeAfter + time.Nanosecond)
	if t.inactiveAt.After(after) {
		after = t.inactiveAt
	}
	return tickAtOrAfter(s.electedAt, s.opts.ExpungeInitialDelay, s.opts.ExpungeInterval, after)
}

// handleUnreachable applies each app's unreachableStrategy to its
// unreachable tasks: once inactive a replacement is owed, and the expunge
// job removes the task later; until then Marathon lists it as
// TASK_UNREACHABLE beside its replacement (Condition.scala maps both
// Unreachable and UnreachableInactive to TASK_UNREACHABLE, and the task's
// own condition stays Unreachable, so Formats.TaskWrites still writes its
// stagedAt, startedAt, ports and version). "disabled" neither replaces nor
// expunges.
func (s *Server) handleUnreachable(now time.Time) bool {
	changed := false
	for _, ap := range s.apps {
		inactive, expunge, enabled := ap.unreachable()
		if !enabled {
			continue
		}
		kept := ap.tasks[:0]
		for _, t := range ap.tasks {
			if t.unreachableAt.IsZero() {
				kept = append(kept, t)
				continue
			}
			if t.inactiveAt.IsZero() {
				if at := s.inactiveAt(t.unreachableAt, inactive); !at.IsZero() && !at.After(now) {
					t.inactiveAt = at
					ap.slots = append(ap.slots, at)
					changed = true
				}
			}
			if at := s.expungeAt(t, expunge); !at.IsZero() && !at.After(now) {
				changed = true
				continue
			}
			kept = append(kept, t)
		}
		ap.tasks = kept
	}
	return changed
}
