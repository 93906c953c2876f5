// Package failover measures a failover: the time the recovery should take
// with a stack's settings (the budget), and what it really took (the
// timeline, the RTO) with the clicks it lost (the RPO).
package failover

import (
	"fmt"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Step is one part of the recovery budget.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	// Basis says where the duration comes from: a stack setting or an estimate.
	Basis string `json:"basis"`
}

// Budget is the time a recovery should take: the sum of its steps, which
// happen one after the other.
type Budget struct {
	Steps   []Step        `json:"steps"`
	Total   time.Duration `json:"-"`
	Seconds float64       `json:"totalSeconds"`
}

// NewBudget computes the budget from a stack's failure-detection settings
// (the stack output failoverSettings, which the master's flags and the ELB
// were built from) and the estimates in internal/facts.
func NewBudget(s stackoutputs.FailoverSettings) (Budget, error) {
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
	detection := s.AgentPingTimeout() * time.Duration(s.MaxAgentPingTimeouts)
	elb := s.ELBInterval() * time.Duration(s.ELBHealthyThreshold)
	steps := []Step{
		{Name: "Mesos declares the agent lost", Duration: detection,
			Basis: fmt.Sprintf("agent_ping_timeout %s x max_agent_ping_timeouts %d, more than the %s ZooKeeper session", s.AgentPingTimeout(), s.MaxAgentPingTimeouts, facts.ZooKeeperSessionTimeout)},
		{Name: "Marathon relaunches the app", Duration: facts.MarathonRelaunchEstimate,
			Basis: "estimate: unreachableStrategy 0/0, next offer within the 1 s allocation interval"},
		{Name: "the EBS volume moves to the new agent", Duration: facts.VolumeMoveEstimate,
			Basis: "estimate: detach at termination, attach and mount by the volume driver"},
		{Name: "the container starts", Duration: facts.ContainerStartEstimate,
			Basis: "estimate: image pulled at boot, docker run and node start"},
		{Name: "the ELB serves the app again", Duration: elb,
			Basis: fmt.Sprintf("health-check interval %s x healthy threshold %d", s.ELBInterval(), s.ELBHealthyThreshold)},
	}
	var b Budget
	for i := range steps {
		steps[i].Seconds = steps[i].Duration.Seconds()
		b.Total += steps[i].Duration
	}
	b.Steps, b.Seconds = steps, b.Total.Seconds()
	return b, nil
}

// DefaultSettings are the failover settings of a stack with the default
// config: the values the program exports as failoverSettings.
func DefaultSettings() stackoutputs.FailoverSettings {
	return stackoutputs.NewFailoverSettings(facts.AgentPingTimeout, facts.MaxAgentPingTimeouts)
}

// String prints the budget as the tools show it, one step a line.
func (b Budget) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "recovery budget %s:\n", b.Total)
	for _, s := range b.Steps {
		fmt.Fprintf(&sb, "  %6s  %s (%s)\n", s.Duration, s.Name, s.Basis)
	}
	return sb.String()
}
