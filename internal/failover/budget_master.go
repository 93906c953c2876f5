package failover

import (
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// NewMasterBudget is the budget of the leading master's loss (a crash)
// in a stack of several masters: ZooKeeper expires the lost master's
// session (facts.ZooKeeperSessionTimeout, which the stack keeps at Mesos's
// default), the Mesos masters elect a leader, and the agents re-register
// with it; Marathon's own election on the same ensemble runs alongside
// the Mesos steps. The app's task keeps running throughout: the budget is
// the time until the cluster can schedule again, not an outage of the
// app. LeaderlessBudget is the part of it without a Marathon leader.
func NewMasterBudget(s stackoutputs.FailoverSettings) (Budget, error) {
	if s.AgentPingTimeoutSeconds <= 0 || s.MaxAgentPingTimeouts <= 0 {
		return Budget{}, fmt.Errorf("failover settings agent ping timeout %gs x %d are not positive: is the stack output %q from a marathon-ha stack?",
			s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts, stackoutputs.Failover)
	}
	steps := []Step{
		{Name: "ZooKeeper expires the lost master's session", Duration: facts.ZooKeeperSessionTimeout,
			Basis: fmt.Sprintf("--zk_session_timeout %s (the Mesos default the stack keeps); the lost master's ephemeral znodes go with it", facts.ZooKeeperSessionTimeout)},
		{Name: "the Mesos masters elect a leader", Duration: facts.MesosLeaderElectionEstimate,
			Basis: "estimate: the next contender's znode leads; it recovers the registry from a quorum of the replicated log"},
		{Name: "the agents re-register with the new leader", Duration: facts.AgentReregistrationEstimate,
			Basis: fmt.Sprintf("estimate: the agents' detector sees the new leader; --registration_backoff_factor 1secs; their tasks run on meanwhile (agent ping timeout %s is not involved)", s.AgentPingTimeout())},
		{Name: "Marathon elects a leader, which registers with the Mesos leader", Duration: facts.MarathonLeaderElectionEstimate,
			Basis: "estimate: Curator leader latch on the same ensemble, from the session expiry; 503 until then", Alongside: true,
			FromSeconds: facts.ZooKeeperSessionTimeout.Seconds()},
	}
	b := Budget{Target: TargetLeadingMaster, Mode: ModeCrash}
	for i := range steps {
		steps[i].Seconds = steps[i].Duration.Seconds()
		if !steps[i].Alongside {
			b.Total += steps[i].Duration
		}
	}
	if alt := facts.ZooKeeperSessionTimeout + facts.MarathonLeaderElectionEstimate; alt > b.Total {
		b.Total = alt
	}
	b.Steps, b.Seconds = steps, b.Total.Seconds()
	return b, nil
}

// LeaderlessBudget is how long the cluster should be without a Marathon
// leader after the leading master is lost: the session expiry and
// Marathon's election.
func LeaderlessBudget() time.Duration {
	return facts.ZooKeeperSessionTimeout + facts.MarathonLeaderElectionEstimate
}
