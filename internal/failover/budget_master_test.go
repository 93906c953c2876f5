package failover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// Every master case meets the goal with the cluster's ZooKeeper settings;
// with the images' defaults the ZooKeeper leader's loss does not, which is
// why the settings are not the defaults.
func TestMasterBudgetsMeetTheGoal(t *testing.T) {
	if len(failover.MasterCases) != 8 {
		t.Fatalf("%d master cases, want every combination of three leaderships", len(failover.MasterCases))
	}
	for _, h := range failover.MasterCases {
		b := failover.MasterBudgetWith(facts.ZooKeeper, h)
		if b.Total > facts.MasterBudgetGoal {
			t.Errorf("losing a master that holds %s: budget %s, over the goal %s\n%s", h, b.Total, facts.MasterBudgetGoal, b)
		}
		if b.Total < b.MarathonLeaderless || b.Total < b.MesosLeaderless {
			t.Errorf("%s: budget %s shorter than its leaderless times %s, %s", h, b.Total, b.MarathonLeaderless, b.MesosLeaderless)
		}
		if (b.MesosLeaderless > 0) != h.Mesos {
			t.Errorf("%s: Mesos leaderless for %s", h, b.MesosLeaderless)
		}
	}
	worst := failover.MasterBudgetWith(facts.ZooKeeperImageDefaults, failover.Held{ZooKeeper: true, Mesos: true, Marathon: true})
	if worst.Total <= facts.MasterBudgetGoal {
		t.Errorf("with the images' defaults the worst case takes %s, within the goal: then the defaults would do", worst.Total)
	}
}

// The ZooKeeper leader's loss: the followers' drop (syncLimit x
// tickTime), the election, then a whole session (plus the one-tick
// expiry bucket) from the new leader, which restarts every session's
// timer; Marathon's election after that; the canary last.
func TestZooKeeperLeaderBudgetCountsTheSessionTimerRestart(t *testing.T) {
	z := facts.ZooKeeper
	b := failover.MasterBudgetWith(z, failover.Held{ZooKeeper: true})
	expiry := z.SyncTimeout() + facts.ZooKeeperElectionEstimate + z.MarathonSessionTimeout + z.TickTime
	if want := expiry + facts.MarathonLeaderElectionEstimate; b.MarathonLeaderless != want {
		t.Errorf("Marathon leaderless %s, want %s", b.MarathonLeaderless, want)
	}
	if want := expiry + facts.MarathonLeaderElectionEstimate + facts.CanaryEstimate; b.Total != want {
		t.Errorf("budget %s, want %s\n%s", b.Total, want, b)
	}
	if b.MesosLeaderless != 0 {
		t.Errorf("Mesos leaderless %s: its leader reconnects within its session", b.MesosLeaderless)
	}
	s := b.String()
	for _, w := range []string{"syncLimit 2 x tickTime 1s", "restarts every session's timer", "SessionTrackerImpl", "canary", "the lost master holds the ZooKeeper leader"} {
		if !strings.Contains(s, w) {
			t.Errorf("budget text lacks %q:\n%s", w, s)
		}
	}
	var sum time.Duration
	for _, st := range b.Steps {
		if !st.Alongside {
			sum += st.Duration
		}
	}
	if sum != b.Total {
		t.Errorf("stacked steps sum to %s, total %s", sum, b.Total)
	}
}

// A follower's loss elects nothing for sure: the budget is the worst case
// of a Marathon whose ZooKeeper connection was to it, and says so.
func TestFollowerBudgetIsMarathonsWorstCase(t *testing.T) {
	b := failover.MasterBudgetWith(facts.ZooKeeper, failover.Held{})
	if !b.MarathonMayChange || b.MesosLeaderless != 0 {
		t.Errorf("follower case: Marathon may change %v, Mesos leaderless %s", b.MarathonMayChange, b.MesosLeaderless)
	}
	if s := b.String(); !strings.Contains(s, "only if its ZooKeeper connection was to the lost server") {
		t.Errorf("budget text:\n%s", s)
	}
}
