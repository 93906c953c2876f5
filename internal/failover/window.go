package failover

import (
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// StabilityWindow is how long a recovery must hold before the watch calls
// it one: the app's Marathon health-check grace period plus interval x
// max consecutive failures. Within it Marathon may still kill a
// replacement that fails its checks: it ignores failures in the grace
// period only until the first success, and kills at the failure that
// finds maxConsecutiveFailures counted (mesosphere/marathon v1.4.9
// core/health/impl/HealthCheckActor.scala ignoreFailures,
// checkConsecutiveFailures). The settings are the stack's
// (FailoverSettings, from the app definition it deployed); a stack that
// predates them gets the repository's default app definition's
// (apps/moby-counter.json). from says which.
func StabilityWindow(f stackoutputs.FailoverSettings) (window time.Duration, from string, err error) {
	if f.HealthCheckIntervalSeconds > 0 {
		w := seconds(f.HealthCheckGracePeriodSeconds) + seconds(f.HealthCheckIntervalSeconds)*time.Duration(f.HealthCheckMaxConsecutiveFailures)
		return w, "the stack's failover settings", nil
	}
	hc, ok, err := manifest.HealthCheckOf(apps.MobyCounter)
	if err != nil || !ok {
		return 0, "", fmt.Errorf("the stability window: the stack's %s lack the app's health check and apps/moby-counter.json has none: %v", stackoutputs.Failover, err)
	}
	return hc.GracePeriod + hc.Interval*time.Duration(hc.MaxConsecutiveFailures), "apps/moby-counter.json (the stack's failover settings lack the app's health check)", nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
