package failover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func TestDefaultBudgetMeetsTheGoal(t *testing.T) {
	b, err := failover.NewBudget(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if b.Total > facts.RecoveryBudgetGoal {
		t.Errorf("default budget %s exceeds the goal %s:\n%s", b.Total, facts.RecoveryBudgetGoal, b)
	}
	// Detection and the ELB come from the shared timings, not from numbers
	// of the budget's own.
	want := map[string]time.Duration{
		"Mesos declares the agent lost": facts.AgentPingTimeout * facts.MaxAgentPingTimeouts,
		"the ELB serves the app again":  facts.ELBHealthInterval * facts.ELBHealthyThreshold,
	}
	var sum time.Duration
	for _, s := range b.Steps {
		sum += s.Duration
		if s.Seconds != s.Duration.Seconds() {
			t.Errorf("step %q: seconds %g for %s", s.Name, s.Seconds, s.Duration)
		}
		if d, ok := want[s.Name]; ok && d != s.Duration {
			t.Errorf("step %q = %s, want %s", s.Name, s.Duration, d)
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("budget lacks steps %v", want)
	}
	if sum != b.Total || b.Seconds != b.Total.Seconds() {
		t.Errorf("total %s (%gs), steps sum to %s", b.Total, b.Seconds, sum)
	}
}

func TestBudgetFollowsTheStackSettings(t *testing.T) {
	s := failover.DefaultSettings()
	base, _ := failover.NewBudget(s)
	// Mesos defaults: 15 s x 5 misses.
	s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts = 15, 5
	slow, err := failover.NewBudget(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slow.Total-base.Total, 75*time.Second-facts.AgentPingTimeout*facts.MaxAgentPingTimeouts; got != want {
		t.Errorf("Mesos default detection adds %s, want %s", got, want)
	}
	s.ELBIntervalSeconds, s.ELBHealthyThreshold = 30, 10 // classic ELB defaults
	slower, _ := failover.NewBudget(s)
	if got, want := slower.Total-slow.Total, 300*time.Second-facts.ELBHealthInterval*facts.ELBHealthyThreshold; got != want {
		t.Errorf("ELB default health check adds %s, want %s", got, want)
	}
	if !strings.Contains(slower.String(), "agent_ping_timeout 15s x max_agent_ping_timeouts 5") {
		t.Errorf("budget text does not name the settings:\n%s", slower)
	}
}

func TestBudgetRejectsMissingSettings(t *testing.T) {
	for name, s := range map[string]stackoutputs.FailoverSettings{
		"empty":        {},
		"no ping":      {MaxAgentPingTimeouts: 2, ELBIntervalSeconds: 5, ELBHealthyThreshold: 2},
		"no threshold": {AgentPingTimeoutSeconds: 5, MaxAgentPingTimeouts: 2, ELBIntervalSeconds: 5},
	} {
		if _, err := failover.NewBudget(s); err == nil || !strings.Contains(err.Error(), stackoutputs.Failover) {
			t.Errorf("%s: %v, want an error naming the %s output", name, err, stackoutputs.Failover)
		}
	}
}
