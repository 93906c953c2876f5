package failover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// timelineOf maps each event of r to its first time since the kill.
func timelineOf(r failover.MasterReport) map[string]float64 {
	at := map[string]float64{}
	for _, e := range r.Timeline {
		if _, ok := at[e.Name]; !ok {
			at[e.Name] = e.SinceKillSeconds
		}
	}
	return at
}

// truth is when the stand-in made what happen, since the kill.
func truth(c *failovertest.Cluster, killedAt time.Time, what string) (float64, bool) {
	for _, e := range c.MasterEvents() {
		if e.What == what {
			return e.At.Sub(killedAt).Seconds(), true
		}
	}
	return 0, false
}

func killedAt(r failover.MasterReport) time.Time {
	for _, e := range r.Timeline {
		if e.Name == failover.EventKill {
			return e.At
		}
	}
	return time.Time{}
}

func wantEvents(t *testing.T, r failover.MasterReport, progress string, want, unwanted []string) {
	t.Helper()
	at := timelineOf(r)
	for _, e := range want {
		if _, ok := at[e]; !ok {
			t.Errorf("no %q in the timeline\n%s", e, progress)
		}
	}
	for _, e := range unwanted {
		if _, ok := at[e]; ok {
			t.Errorf("%q in the timeline, which must not happen\n%s", e, progress)
		}
	}
}

// A master that leads nothing (a ZooKeeper follower, a standby Mesos
// master and Marathon): no election, every leader reported unchanged, and
// the cluster schedules the canary.
func TestKillingAMasterThatLeadsNothing(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3})
	r, target, progress := killMaster(t, c, failover.KillTarget{Kind: failover.TargetMaster, Master: 3}, 10*time.Second)
	if target.Held != (failover.Held{}) {
		t.Fatalf("master 3 held %s, want nothing (leaders %s)", target.Held, target.Leaders)
	}
	if p := r.Problems(0); len(p) > 0 || !r.Recovered {
		t.Fatalf("problems %v\n%s", p, progress)
	}
	wantEvents(t, r, progress,
		[]string{failover.EventZooKeeperUnchanged, failover.EventMesosUnchanged, failover.EventMarathonUnchanged, failover.EventAgentsActive,
			failover.EventFrameworkActive, failover.EventTaskKept, failover.EventCanaryDeployed, failover.EventCanaryRemoved},
		[]string{failover.EventMesosLeader, failover.EventMarathonLeader, failover.EventMarathonLeaderless, failover.EventAgentsReregistered,
			failover.EventZooKeeperSession, failover.EventZooKeeperLeader})
	if r.LeaderlessSeconds != 0 || r.MesosLeaderlessSeconds != 0 || r.NewMarathonLeader != "" || r.NewMesosLeader != "" {
		t.Errorf("leaderless %gs / %gs, new leaders %q %q: nothing was elected", r.LeaderlessSeconds, r.MesosLeaderlessSeconds, r.NewMarathonLeader, r.NewMesosLeader)
	}
	if !strings.Contains(r.Summary(), "no leader (a ZooKeeper follower)") {
		t.Errorf("summary does not say what the master held:\n%s", r.Summary())
	}
}

// Marathon leads on master 1, Mesos on 2, ZooKeeper on 3: each kill
// expects the election of what that master held, measured when it
// happened, not at once nor from the kill.
func TestMesosAndMarathonLeadersOnDifferentMasters(t *testing.T) {
	opts := failovertest.Options{Masters: 3, MarathonLeader: 1, MesosLeader: 2, ZooKeeperLeader: 3}
	session := failovertest.DefaultSessionTimeout.Seconds()

	t.Run("the Mesos leader", func(t *testing.T) {
		c := failovertest.StartT(t, opts)
		r, target, progress := killMaster(t, c, failover.KillTarget{Kind: failover.TargetMesosLeader}, 10*time.Second)
		if target.Index != 2 || target.Held != (failover.Held{Mesos: true}) {
			t.Fatalf("target master %d holding %s, want master 2 holding the Mesos leader", target.Index, target.Held)
		}
		if p := r.Problems(0); len(p) > 0 || !r.Recovered {
			t.Fatalf("problems %v\n%s", p, progress)
		}
		wantEvents(t, r, progress, []string{failover.EventZooKeeperUnchanged, failover.EventMesosLeader, failover.EventAgentsReregistered,
			failover.EventMarathonLeader, failover.EventCanaryRemoved}, []string{failover.EventMesosUnchanged, failover.EventZooKeeperLeader})
		at, k := timelineOf(r), killedAt(r)
		elected, _ := truth(c, k, failovertest.MasterEventMesosLeader)
		if at[failover.EventMesosLeader] < elected || at[failover.EventMesosLeader] < session {
			t.Errorf("Mesos leader recorded at %.3fs; the stand-in elected it at %.3fs, after the %gs session\n%s", at[failover.EventMesosLeader], elected, session, progress)
		}
		if reg, _ := truth(c, k, failovertest.MasterEventAgentsRegistered); at[failover.EventAgentsReregistered] < reg {
			t.Errorf("agents re-registered at %.3fs, before the stand-in re-registered them (%.3fs)", at[failover.EventAgentsReregistered], reg)
		}
		// Marathon abdicated when its driver lost the Mesos master, at the
		// session's expiry: it was leaderless from then, not from the kill.
		abdicated, ok := truth(c, k, failovertest.MasterEventMarathonAbdicated)
		if !ok || at[failover.EventMarathonLeaderless] < abdicated {
			t.Errorf("Marathon leaderless from %.3fs; it abdicated at %.3fs (%v)\n%s", at[failover.EventMarathonLeaderless], abdicated, ok, progress)
		}
		if r.LeaderlessSeconds <= 0 || r.LeaderlessSeconds >= session {
			t.Errorf("Marathon leaderless %.3fs: want its abdication to its successor, far less than the %gs from the kill to the abdication", r.LeaderlessSeconds, session)
		}
		if want := c.Masters()[0].PrivateIP; !strings.HasPrefix(r.NewMesosLeader, want+":") {
			t.Errorf("new Mesos leader %s, want master 1 (%s)", r.NewMesosLeader, want)
		}
	})

	t.Run("the Marathon leader", func(t *testing.T) {
		c := failovertest.StartT(t, opts)
		r, target, progress := killMaster(t, c, failover.KillTarget{Kind: failover.TargetMarathonLeader}, 10*time.Second)
		if target.Index != 1 || target.Held != (failover.Held{Marathon: true}) {
			t.Fatalf("target master %d holding %s, want master 1 holding the Marathon leader", target.Index, target.Held)
		}
		if p := r.Problems(0); len(p) > 0 || !r.Recovered {
			t.Fatalf("problems %v\n%s", p, progress)
		}
		wantEvents(t, r, progress, []string{failover.EventMesosUnchanged, failover.EventAgentsActive, failover.EventZooKeeperUnchanged,
			failover.EventMarathonLeader, failover.EventFrameworkActive, failover.EventCanaryRemoved},
			[]string{failover.EventMesosLeader, failover.EventAgentsReregistered})
		at := timelineOf(r)
		if at[failover.EventMarathonLeader] < session {
			t.Errorf("Marathon leader at %.3fs, before the lost leader's %gs session expired\n%s", at[failover.EventMarathonLeader], session, progress)
		}
		if at[failover.EventFrameworkActive] < at[failover.EventMarathonLeader] {
			t.Errorf("framework active at %.3fs, before the new leader (%.3fs) registered it", at[failover.EventFrameworkActive], at[failover.EventMarathonLeader])
		}
	})
}

// ZooKeeper's leader (master 3, leading nothing else) dies: the followers
// notice after syncLimit x tickTime, elect, and the new leader restarts
// every session's timer. The leading Marathon (master 1), disconnected,
// exits; its successor leads only a whole session after the new
// ZooKeeper leader, not a session after the kill. Mesos keeps its leader.
func TestZooKeeperLeaderDeathRestartsSessionTimers(t *testing.T) {
	sync, election, session := 60*time.Millisecond, 30*time.Millisecond, 80*time.Millisecond
	c := failovertest.StartT(t, failovertest.Options{Masters: 3, MarathonLeader: 1, MesosLeader: 2, ZooKeeperLeader: 3,
		SyncTimeout: sync, ZooKeeperElection: election, SessionTimeout: session})
	r, target, progress := killMaster(t, c, failover.KillTarget{Kind: failover.TargetZooKeeperLeader}, 10*time.Second)
	if target.Index != 3 || target.Held != (failover.Held{ZooKeeper: true}) {
		t.Fatalf("target master %d holding %s, want master 3 holding the ZooKeeper leader", target.Index, target.Held)
	}
	if p := r.Problems(0); len(p) > 0 || !r.Recovered {
		t.Fatalf("problems %v\n%s", p, progress)
	}
	wantEvents(t, r, progress, []string{failover.EventZooKeeperLeaderless, failover.EventZooKeeperLeader, failover.EventMesosUnchanged,
		failover.EventMarathonLeader, failover.EventZooKeeperSession, failover.EventCanaryRemoved},
		[]string{failover.EventMesosLeader, failover.EventAgentsReregistered})
	at := timelineOf(r)
	if got := at[failover.EventZooKeeperLeader]; got < (sync + election).Seconds() {
		t.Errorf("ZooKeeper leader at %.3fs, before syncLimit x tickTime + election (%s)", got, sync+election)
	}
	restart := (sync + election + session).Seconds()
	if got := at[failover.EventMarathonLeader]; got < restart {
		t.Errorf("Marathon leader at %.3fs: want at least %.3fs (the new ZooKeeper leader restarts the session's timer), not the %s session after the kill\n%s", got, restart, session, progress)
	}
	if got := at[failover.EventZooKeeperSession]; got < restart-0.001 {
		t.Errorf("session expiry placed at %.3fs, want at least %.3fs", got, restart)
	}
	if r.NewZooKeeperLeader != "master 2" {
		t.Errorf("new ZooKeeper leader %q, want master 2 (the highest live id)", r.NewZooKeeperLeader)
	}
	if r.LeaderlessSeconds < session.Seconds() {
		t.Errorf("Marathon leaderless %.3fs, want at least the session %s after the new ZooKeeper leader", r.LeaderlessSeconds, session)
	}
}
