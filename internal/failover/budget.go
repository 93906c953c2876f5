// Package failover measures a failover: the time the recovery should take
// with a stack's settings (the budget), and what it really took (the
// timeline, the RTO) with the clicks it lost (the RPO).
package failover

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Step is one part of the recovery budget.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	// Basis says where the duration comes from: a stack setting or an estimate.
	Basis string `json:"basis"`
	// Alongside marks a step that runs beside the ones before it: it is
	// shown but not added to the total. FromSeconds is when it starts,
	// in seconds since the kill.
	Alongside   bool    `json:"alongside,omitempty"`
	FromSeconds float64 `json:"fromSeconds,omitempty"`
}

// Budget is the time a recovery should take with one volume driver and one
// kill mode: the sum of its steps, which happen one after the other.
type Budget struct {
	// Target is what was killed: "" or TargetAppAgent for the app's agent,
	// TargetMaster for a master (NewMasterBudget).
	Target  string        `json:"target,omitempty"`
	Driver  string        `json:"driver"`
	Mode    Mode          `json:"mode"`
	Steps   []Step        `json:"steps"`
	Total   time.Duration `json:"-"`
	Seconds float64       `json:"totalSeconds"`
}

// NewBudget computes the budget of a stack whose app volume is moved by
// driver (the stack output volumeDriver) after a kill in mode, from the
// stack's failure-detection settings (the stack output failoverSettings,
// which the master's flags and the ELB were built from) and the estimates
// in internal/facts.
//
// The order is detection, fence confirmed (the old instance terminated),
// volume move, app start, ELB (docs/fencing.md). The drivers differ in the
// volume move: REX-Ray, without preempt, attaches the volume once EC2 has
// released it; Flocker 1.15 cannot preempt and detaches only once the old
// instance no longer runs, which after a crash costs a wait of its own. A
// graceful kill adds the OS shutdown, during which the app still serves and
// after which the volume is already detached.
func NewBudget(s stackoutputs.FailoverSettings, driver string, mode Mode) (Budget, error) {
	var bad []string
	if s.AgentPingTimeoutSeconds <= 0 || s.MaxAgentPingTimeouts <= 0 {
		bad = append(bad, fmt.Sprintf("agent ping timeout %gs x %d", s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts))
	}
	if s.ELBIntervalSeconds <= 0 || s.ELBHealthyThreshold <= 0 {
		bad = append(bad, fmt.Sprintf("ELB interval %gs x healthy threshold %d", s.ELBIntervalSeconds, s.ELBHealthyThreshold))
	}
	if len(bad) > 0 {
		return Budget{}, fmt.Errorf("failover settings %s are not positive: is the stack output %q from a marathon-ha stack?",
			strings.Join(bad, " and "), stackoutputs.Failover)
	}
	if !slices.Contains(facts.VolumeDrivers, driver) {
		return Budget{}, fmt.Errorf("recovery budget: volume driver %q (stack output %q) is not one of %s", driver, stackoutputs.VolumeDriver, strings.Join(facts.VolumeDrivers, ", "))
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return Budget{}, fmt.Errorf("recovery budget: %w", err)
	}
	detection := s.AgentPingTimeout() * time.Duration(s.MaxAgentPingTimeouts)
	elb := s.ELBInterval() * time.Duration(s.ELBHealthyThreshold)
	var steps []Step
	if mode == ModeGraceful {
		steps = append(steps, Step{Name: "the OS shuts down while the app still serves", Duration: facts.OSShutdownEstimate,
			Basis: "estimate: default TerminateInstances; systemd stops the Mesos agent and Docker, whose 15 s shutdown timeout node as PID 1 uses in full; the volume is flushed, unmounted and detached"})
	}
	steps = append(steps,
		Step{Name: "Mesos declares the agent lost", Duration: detection,
			Basis: fmt.Sprintf("agent_ping_timeout %s x max_agent_ping_timeouts %d, more than the %s ZooKeeper session", s.AgentPingTimeout(), s.MaxAgentPingTimeouts, facts.ZooKeeperSessionTimeout)},
		fenceStep(mode, detection),
		Step{Name: "Marathon relaunches the app", Duration: facts.MarathonRelaunchEstimate,
			Basis: "estimate: unreachableStrategy 0/0, next offer within the 1 s allocation interval; a replacement launched before the fence fails to mount and is relaunched"})
	steps = append(steps, volumeSteps(driver, mode)...)
	steps = append(steps,
		Step{Name: "the container starts", Duration: facts.ContainerStartEstimate,
			Basis: "estimate: image pulled at boot, docker run and node start"},
		Step{Name: "the ELB serves the app again", Duration: elb,
			Basis: fmt.Sprintf("health-check interval %s x healthy threshold %d", s.ELBInterval(), s.ELBHealthyThreshold)})
	b := Budget{Driver: driver, Mode: mode}
	for i := range steps {
		steps[i].Seconds = steps[i].Duration.Seconds()
		b.Total += steps[i].Duration
	}
	b.Steps, b.Seconds = steps, b.Total.Seconds()
	return b, nil
}

// fenceStepName is the budget's fence step (docs/fencing.md): the volume
// moves only after it.
const fenceStepName = "the fencer confirms the lost agent terminated"

// fenceStep is the masters' fencer's part after Mesos declares the agent
// lost: it terminates the instance without an OS shutdown and waits for
// EC2's "terminated" (facts.FenceEstimate). A kill in mode terminated the
// instance itself: in crash mode at the kill, in graceful mode at the end of
// the OS shutdown, both before the detection began. So the termination is
// over by the time the fencer looks, unless it takes longer than the
// detection, and the fencer's lookup is what remains.
func fenceStep(mode Mode, detection time.Duration) Step {
	if mode == ModePartition {
		// Nothing terminated the cut-off agent: the fence does it all.
		return Step{Name: fenceStepName, Duration: facts.FenceEstimate,
			Basis: "estimate: one fencer poll, the AWS CLI container, TerminateInstances with SkipOsShutdown, EC2 reports terminated; the volume may move only then (the agent fenced itself before the detection: docs/fencing.md)"}
	}
	termination := facts.FenceEstimate - facts.FenceLookupEstimate
	late := max(0, termination-detection)
	return Step{Name: fenceStepName, Duration: facts.FenceLookupEstimate + late,
		Basis: fmt.Sprintf("estimate: the %s kill terminated it before the detection began, so of the fence's %s the termination's %s are over (%s left); one fencer poll, the AWS CLI container and DescribeInstances take %s",
			mode, facts.FenceEstimate, termination, late, facts.FenceLookupEstimate)}
}

// volumeSteps are the volume move of driver after a kill in mode, once the
// fence is confirmed: EC2 has released the terminated instance's volume.
func volumeSteps(driver string, mode Mode) []Step {
	if driver == facts.VolumeDriverRexRay {
		basis := "estimate: without preempt (REXRAY_PREEMPT=false) the mount fails until EC2 releases the volume at the old instance's termination; then REX-Ray attaches and mounts it"
		if mode == ModeGraceful {
			basis = "estimate: detached at the OS shutdown, REX-Ray attaches and mounts it"
		}
		return []Step{{Name: "REX-Ray moves the EBS volume to the new agent", Duration: facts.RexRayVolumeMoveEstimate, Basis: basis}}
	}
	attach := Step{Name: "Flocker attaches and mounts the EBS volume on the new agent", Duration: facts.FlockerAttachEstimate,
		Basis: "estimate: AttachVolume, 5 s before its first state check, mount; the plugin polls every 1 s"}
	if mode == ModeGraceful {
		attach.Basis += "; the OS shutdown already detached it"
		return []Step{attach}
	}
	return []Step{{Name: "Flocker waits for EC2 to release the dead agent's volume", Duration: facts.FlockerDetachWaitEstimate,
		Basis: "estimate: no force detach; a plain DetachVolume once the instance no longer runs (terminated: the fence), 5 s before its first state check, loop backoff up to 10 s"}, attach}
}

// Budgets are the budgets of every volume driver and kill mode with the
// settings s: REX-Ray (the default driver) first, then the others of
// facts.VolumeDrivers, each with the default mode first.
func Budgets(s stackoutputs.FailoverSettings) ([]Budget, error) {
	drivers := []string{facts.VolumeDriverRexRay}
	for _, d := range facts.VolumeDrivers {
		if d != facts.VolumeDriverRexRay {
			drivers = append(drivers, d)
		}
	}
	var out []Budget
	for _, d := range drivers {
		for _, m := range Modes {
			b, err := NewBudget(s, d, m)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// DefaultSettings are the failover settings of a stack with the default
// config and app definition (apps/moby-counter.json): the values the
// program exports as failoverSettings.
func DefaultSettings() stackoutputs.FailoverSettings {
	s := stackoutputs.NewFailoverSettings(facts.AgentPingTimeout, facts.MaxAgentPingTimeouts)
	if hc, ok, err := manifest.HealthCheckOf(apps.MobyCounter); ok && err == nil {
		s = s.WithHealthCheck(hc.GracePeriod, hc.Interval, hc.MaxConsecutiveFailures)
	}
	return s
}

// String prints the budget as the tools show it, one step a line.
func (b Budget) String() string {
	var sb strings.Builder
	if b.Target != "" && b.Target != TargetAppAgent {
		fmt.Fprintf(&sb, "master failover budget %s (%s):\n", b.Total, b.Mode)
	} else {
		fmt.Fprintf(&sb, "recovery budget %s (%s, %s):\n", b.Total, b.Driver, b.Mode)
	}
	for _, s := range b.Steps {
		if s.Alongside {
			fmt.Fprintf(&sb, "  %6s  %s, alongside (%s)\n", s.Duration, s.Name, s.Basis)
			continue
		}
		fmt.Fprintf(&sb, "  %6s  %s (%s)\n", s.Duration, s.Name, s.Basis)
	}
	return sb.String()
}

// FullStrength is the budget's time-to-full-strength row of a driver whose
// agents are an Auto Scaling group's (REX-Ray: components.InGroup): from the
// kill, beside the recovery and not part of its total, the group replaces
// the lost agent (facts.GroupReplaceEstimate) and the new agent boots (the
// agent's steps of the boot budget, internal/bootbudget). Flocker's fixed
// agents come back only with `pulumi up`: no row.
func FullStrength(driver string) (Step, bool) {
	if driver != facts.VolumeDriverRexRay {
		return Step{}, false
	}
	b, err := bootbudget.New(driver)
	if err != nil {
		return Step{}, false
	}
	var boot time.Duration
	for _, st := range b.Steps {
		if st.Role == facts.RoleAgent {
			boot += time.Duration(st.Seconds * float64(time.Second))
		}
	}
	d := facts.GroupReplaceEstimate + boot
	return Step{Name: "the agents' group is back to full strength", Duration: d, Seconds: d.Seconds(), Alongside: true,
		Basis: fmt.Sprintf("estimate: the group's EC2 health check and a new instance running %s, then the agent's boot %s (boot budget); the rehearsal measures it", facts.GroupReplaceEstimate, boot)}, true
}
