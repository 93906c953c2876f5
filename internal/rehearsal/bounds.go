package rehearsal

import (
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Bounds of the steps the other defaults do not cover. Every step of a
// rehearsal has one, so a whole run has one too (Config.Bounds), from which
// the CI workflow's timeouts are computed (scripts/rehearsal
// workflow_test.go checks the arithmetic).
const (
	// instanceCreateTimeout is how long the AWS provider waits for an
	// instance to run (terraform-provider-aws v5.5.0
	// internal/service/ec2/ec2_instance.go: Timeouts Create 10 minutes).
	instanceCreateTimeout = 10 * time.Minute
	// upOverhead is the rest of an up's critical path: the network, the IAM
	// role and profile, the ELB, the provider plugins' start.
	upOverhead = 5 * time.Minute
	// DefaultUpTimeout bounds `pulumi up`: the nodes are created, then
	// deploy-app waits for Marathon and the app (facts.AppDeployTimeout).
	DefaultUpTimeout = instanceCreateTimeout + facts.AppDeployTimeout + upOverhead
	// shortStepsAllowance covers the steps without a bound of their own:
	// writing and reading the clicks (a few HTTP calls through the ELB),
	// the writer's lead (4 s by default) and its read-back after the watch
	// (three bounded reads), the kill (one TerminateInstances) and the
	// reading of the boot timeline (DefaultBootTimelineTimeout, one
	// minute, at most).
	shortStepsAllowance = 5 * time.Minute

	// DefaultInspectTimeout bounds `pulumi stack export` before the
	// destroy: one read of the state from its backend.
	DefaultInspectTimeout = 2 * time.Minute
	// DefaultRemoveTimeout bounds `pulumi stack rm` of the empty stack.
	DefaultRemoveTimeout = 2 * time.Minute
	// sweepCallAllowance is a sweep's time besides its wait: a handful of
	// describe, terminate and delete calls, each bounded by
	// ec2ops.APICallTimeout and the SDK's 3 attempts.
	sweepCallAllowance = 2 * time.Minute
)

// Bounds returns how long, at most, a rehearsal with c's settings spends
// before its teardown (rehearse) and in it (teardown). A pulumi command
// that hits its bound gets SIGINT and DefaultGrace to stop (command.go),
// so each counts with its grace. Unset durations take their defaults, as
// Run gives them; FlushWait counts as given (Run's default is none).
func (c Config) Bounds() (rehearse, teardown time.Duration) {
	c.fillDurations()
	rehearse = c.UpTimeout + DefaultGrace + c.AppReadyTimeout + shortStepsAllowance + c.FlushWait
	// each drill: its find and its watch (the kill is short); the agent's
	// only when the drills include it (Run stops after the masters' if not)
	drills := len(MasterDrillsOf(c.Drills))
	if hasAgentDrill(c.Drills) {
		drills++
	}
	rehearse += time.Duration(drills) * (c.TargetTimeout + c.WatchDeadline)
	if c.Rounds > 1 { // each later round: a restore, its wait, its clicks, find, kill, watch
		rehearse += time.Duration(c.Rounds-1) * (c.UpTimeout + DefaultGrace + c.AppReadyTimeout + shortStepsAllowance + c.FlushWait + c.TargetTimeout + c.WatchDeadline)
	}
	return rehearse, c.teardownConfig().Bound()
}

// Bound is how long a teardown with tc's settings takes at most: the
// export, a sweep before the destroy, the destroy, a sweep after it and the
// removal, the three pulumi commands each with DefaultGrace.
func (tc TeardownConfig) Bound() time.Duration {
	tc.defaults()
	return tc.InspectTimeout + DefaultGrace + sweepTimeout(tc.SweepWait) + tc.DestroyTimeout + DefaultGrace +
		sweepTimeout(tc.SweepWait) + tc.RemoveTimeout + DefaultGrace
}
