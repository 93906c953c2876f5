package failovertest

import (
	"errors"
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// Marathon's health checks of the app: the app definition's own settings
// (apps/moby-counter.json: grace 60 s, every 5 s, 3 failures), run at
// HealthCheckSecond per second, so that a failover's stability window
// (failover.StabilityWindow: 75 s on a cluster) takes 75 ms here.

// HealthCheckSecond is how long one second of the app's health checks
// lasts in the stand-in (marathontest.Options.HealthCheckSecond). The
// stack outputs' failover settings carry the app's health check scaled
// the same way, as the tools read it from a real stack's.
const HealthCheckSecond = time.Millisecond

// scaledHealthCheck is the app's health check in stand-in seconds.
type scaledHealthCheck struct {
	GracePeriodSeconds, IntervalSeconds float64
	MaxConsecutiveFailures              int
}

func healthCheckSettings(doc []byte) (scaledHealthCheck, error) {
	hc, ok, err := manifest.HealthCheckOf(doc)
	if err != nil || !ok {
		return scaledHealthCheck{}, errors.Join(errors.New("the stand-in's app definition has no usable health check"), err)
	}
	scale := func(d time.Duration) float64 { return (d / time.Second * HealthCheckSecond).Seconds() }
	return scaledHealthCheck{GracePeriodSeconds: scale(hc.GracePeriod), IntervalSeconds: scale(hc.Interval),
		MaxConsecutiveFailures: hc.MaxConsecutiveFailures}, nil
}

// armHealthFailures makes the next Options.UnhealthyReplacements tasks of
// the app fail Marathon's health checks (the ELB's pass: the masters cannot
// reach the agent's app port, say), as marathontest models it: Marathon
// kills such a task once its failures are counted, and launches another.
func (c *Cluster) armHealthFailures() {
	if c.opts.UnhealthyReplacements > 0 {
		c.mt.FailHealthChecks(facts.AppID, c.opts.UnhealthyReplacements, c.opts.UnhealthyAfter)
	}
}

// stopKilledApps plays Docker on the live agents: an app server whose task
// Marathon no longer lists (killed for failing its health checks) stops,
// flushed, as `docker stop` stops a container (the page cache outlives
// the process), and nothing listens on its instance's app port.
func (c *Cluster) stopKilledApps() {
	tasks := c.mt.Tasks(facts.AppID)
	c.mu.Lock()
	defer c.mu.Unlock()
	for host, srv := range c.servers {
		if c.dead[host] || hasTask(tasks, host) {
			continue
		}
		if err := srv.Shutdown(); err != nil {
			c.harnessErr = errors.Join(c.harnessErr, fmt.Errorf("stopping the app on %s after Marathon killed its task: %w", host, err))
		}
		delete(c.servers, host)
		if err := c.elb.SetInstanceBackend(c.instanceOf(host), ""); err != nil {
			c.harnessErr = errors.Join(c.harnessErr, err)
		}
	}
}

// hasTask reports whether Marathon lists a task of the app on host that
// still runs there (staging, running, or unreachable: a lost agent's
// container is not stopped by Marathon).
func hasTask(tasks []marathontest.TaskStatus, host string) bool {
	for _, t := range tasks {
		if t.Host == host && (t.State == marathontest.TaskStaging || t.State == marathontest.TaskRunning || t.State == marathontest.TaskUnreachable) {
			return true
		}
	}
	return false
}
