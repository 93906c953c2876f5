package failover

import (
	"fmt"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Held is what a master led when it was lost. Each master runs a ZooKeeper
// server, a Mesos master and a Marathon, and the three elect their
// leaders apart: ZooKeeper's quorum leader (FastLeaderElection), Mesos's
// contender group under --zk .../mesos (apache/mesos 1.4.1
// src/master/contender/zookeeper.cpp) and Marathon's Curator latch under
// --zk .../marathon (mesosphere/marathon v1.4.9 CuratorElectionService),
// so the three may lead on three masters.
type Held struct {
	ZooKeeper bool `json:"zookeeper"`
	Mesos     bool `json:"mesos"`
	Marathon  bool `json:"marathon"`
}

// String names what was held: "the ZooKeeper and Marathon leaders", or
// "no leader (a ZooKeeper follower)".
func (h Held) String() string {
	var led []string
	for _, l := range []struct {
		on   bool
		name string
	}{{h.ZooKeeper, "ZooKeeper"}, {h.Mesos, "Mesos"}, {h.Marathon, "Marathon"}} {
		if l.on {
			led = append(led, l.name)
		}
	}
	switch len(led) {
	case 0:
		return "no leader (a ZooKeeper follower)"
	case 1:
		return "the " + led[0] + " leader"
	}
	return "the " + strings.Join(led[:len(led)-1], ", ") + " and " + led[len(led)-1] + " leaders"
}

// MasterCases are the master cases a budget is made for: every
// combination of leaderships the lost master may have held, the follower
// that leads nothing first.
var MasterCases = func() []Held {
	var out []Held
	for i := 0; i < 8; i++ {
		out = append(out, Held{ZooKeeper: i&4 != 0, Mesos: i&2 != 0, Marathon: i&1 != 0})
	}
	return out
}()

// MasterBudget is the budget of one master case: the steps (Budget), and
// how long each of Mesos and Marathon may be without a leader, from the
// kill (0: it keeps its leader).
type MasterBudget struct {
	Budget
	Held               Held
	MesosLeaderless    time.Duration
	MarathonLeaderless time.Duration
	// MarathonMayChange is true when Marathon may elect anew although the
	// lost master did not lead it: the leader's own ZooKeeper connection
	// may have been to the lost server (it picks one of the ensemble at
	// random), and Curator's SUSPENDED then makes it exit.
	MarathonMayChange bool
}

// NewMasterBudget is the budget of losing (a crash) a master that held
// held, in a stack of several masters, with the cluster's ZooKeeper
// settings (facts.ZooKeeper). s is checked as the agent budget checks it.
func NewMasterBudget(s stackoutputs.FailoverSettings, held Held) (MasterBudget, error) {
	if s.AgentPingTimeoutSeconds <= 0 || s.MaxAgentPingTimeouts <= 0 {
		return MasterBudget{}, fmt.Errorf("failover settings agent ping timeout %gs x %d are not positive: is the stack output %q from a marathon-ha stack?",
			s.AgentPingTimeoutSeconds, s.MaxAgentPingTimeouts, stackoutputs.Failover)
	}
	return MasterBudgetWith(facts.ZooKeeper, held), nil
}

// budgetStep is a step and the steps it waits for.
type budgetStep struct {
	Step
	after []int
	start time.Duration
}

func (b budgetStep) end() time.Duration { return b.start + b.Duration }

// MasterBudgetWith is the budget of a master case with ZooKeeper settings
// z: the steps, each after those it waits for; the chain that ends last
// (with the canary) is the budget's stack, the others run alongside it.
//
//   - ZooKeeper's leader lost: the followers drop it after syncLimit x
//     tickTime and elect a new one; the new leader's session tracker is
//     built from its snapshot with every session's timer started again
//     (apache/zookeeper release-3.4.14 SessionTrackerImpl: the
//     constructor calls addSession for each, expiring a full timeout from
//     now, rounded up to the next tick), so the lost master's sessions
//     expire a whole timeout after the new leader, not after the death.
//     Every client was disconnected meanwhile: the leading Marathon's
//     Curator reports SUSPENDED and it exits, so Marathon elects anew.
//   - otherwise the lost master's sessions expire a timeout after its last
//     word, rounded up to the next tick.
//   - Mesos's leader lost: the next contender leads once the session
//     expired, recovers the registry, and the agents re-register. The
//     leading Marathon's driver sees the master go (disconnected ->
//     driver.stop -> abdicate: mesosphere/marathon v1.4.9
//     MarathonScheduler.scala disconnected, MarathonSchedulerService), so
//     Marathon elects anew from then.
//   - Marathon's leader lost: its latch node goes with its session.
//   - Always: a canary app is deployed and removed once Marathon leads,
//     registered with the Mesos leader, and the agents are back.
func MasterBudgetWith(z facts.ZooKeeperSettings, held Held) MasterBudget {
	var steps []budgetStep
	add := func(s Step, after ...int) int {
		steps = append(steps, budgetStep{Step: s, after: after})
		return len(steps) - 1
	}
	tick := z.TickTime
	zkUp := -1
	if held.ZooKeeper {
		drop := add(Step{Name: "ZooKeeper's followers drop the lost leader", Duration: z.SyncTimeout(),
			Basis: fmt.Sprintf("syncLimit %d x tickTime %s: the Learner's socket timeout (release-3.4.14 Learner.java); every client of the ensemble is disconnected from here", z.SyncLimit, z.TickTime)})
		zkUp = add(Step{Name: "ZooKeeper elects a leader; its followers sync", Duration: facts.ZooKeeperElectionEstimate,
			Basis: "estimate: FastLeaderElection's 200 ms finalize wait, then a quorum acknowledges the new epoch (bounded by initLimit x tickTime)"}, drop)
	}
	expiry := func(who string, session time.Duration) int {
		name := "ZooKeeper expires the lost master's " + who + " session"
		basis := fmt.Sprintf("--zk_session_timeout %s from its last word, plus up to one tick (%s) of SessionTrackerImpl's expiry bucket", session, tick)
		if held.ZooKeeper {
			basis = fmt.Sprintf("the new ZooKeeper leader restarts every session's timer (release-3.4.14 SessionTrackerImpl): --zk_session_timeout %s from then, plus up to one tick (%s)", session, tick)
			return add(Step{Name: name, Duration: session + tick, Basis: basis}, zkUp)
		}
		return add(Step{Name: name, Duration: session + tick, Basis: basis})
	}
	var marathonStart, ready []int
	mb := MasterBudget{Held: held}
	mesosElect := -1
	if held.Mesos {
		exp := expiry("Mesos master's", z.MesosSessionTimeout)
		elect := add(Step{Name: "the Mesos masters elect a leader", Duration: facts.MesosLeaderElectionEstimate,
			Basis: "estimate: the next contender's znode leads; it recovers the registry from a quorum of the replicated log"}, exp)
		rereg := add(Step{Name: "the agents re-register with the new leader", Duration: facts.AgentReregistrationEstimate,
			Basis: "estimate: the agents' detector sees the new leader; --registration_backoff_factor 1secs; their tasks run on meanwhile"}, elect)
		ready = append(ready, rereg)
		marathonStart = append(marathonStart, exp)
		mesosElect = elect
	}
	switch {
	case held.Marathon || held.ZooKeeper:
		marathonStart = append(marathonStart, expiry("Marathon's", z.MarathonSessionTimeout))
	case !held.Mesos:
		marathonStart = append(marathonStart, add(Step{Name: "the leading Marathon's ZooKeeper connection, if to the lost server, is dropped; its latch expires",
			Duration: z.MarathonSessionTimeout + tick,
			Basis:    fmt.Sprintf("worst case: Curator reports SUSPENDED after %s without an answer (2/3 of the session) and the leader exits; its latch node goes with its session, %s plus one tick", facts.DisconnectAfter(z.MarathonSessionTimeout), z.MarathonSessionTimeout)}))
		mb.MarathonMayChange = true
	}
	why := "the lost leader's latch is gone"
	switch {
	case held.Mesos && !held.Marathon:
		why = "the leading Marathon's driver lost its Mesos master and it abdicated"
	case held.ZooKeeper && !held.Marathon:
		why = "the leading Marathon exited at Curator's SUSPENDED, its latch gone with its session"
	case mb.MarathonMayChange:
		why = "the leader exited, if it did,"
	}
	marathon := add(Step{Name: "Marathon elects a leader, which registers with the Mesos leader", Duration: facts.MarathonLeaderElectionEstimate,
		Basis: "estimate: Curator leader latch once " + why + "; the new leader loads its state and registers its framework; 503 until then"}, marathonStart...)
	ready = append(ready, marathon)
	if zkUp >= 0 {
		ready = append(ready, zkUp)
	}
	canary := add(Step{Name: "a canary app is deployed and removed", Duration: facts.CanaryEstimate,
		Basis: "estimate: a command task with no image, offered within --allocation_interval 1secs, run by the command executor, then killed"}, ready...)
	mb.Budget = chain(steps, canary)
	mb.Target, mb.Mode = TargetMaster, ModeCrash
	mb.MarathonLeaderless = steps[marathon].end()
	if mesosElect >= 0 {
		mb.MesosLeaderless = steps[mesosElect].end()
	}
	return mb
}

// chain times the steps (each starts when the last it waits for ends) and
// returns the budget: the chain of steps that ends with last, each waiting
// for the one before it, stacked; the others alongside from their start.
func chain(steps []budgetStep, last int) Budget {
	for i := range steps {
		for _, a := range steps[i].after {
			steps[i].start = max(steps[i].start, steps[a].end())
		}
	}
	onChain := map[int]bool{}
	for i := last; ; {
		onChain[i] = true
		next := -1
		for _, a := range steps[i].after {
			if next < 0 || steps[a].end() > steps[next].end() {
				next = a
			}
		}
		if next < 0 {
			break
		}
		i = next
	}
	var b Budget
	var stacked, alongside []Step
	for i, s := range steps {
		st := s.Step
		st.Seconds, st.FromSeconds = st.Duration.Seconds(), s.start.Seconds()
		if onChain[i] {
			stacked = append(stacked, st)
			b.Total += st.Duration
			continue
		}
		st.Alongside = true
		alongside = append(alongside, st)
	}
	b.Steps, b.Seconds = append(stacked, alongside...), b.Total.Seconds()
	return b
}

// String prints the budget as the tools show it: the case, the steps, and
// the leaderless times.
func (b MasterBudget) String() string {
	s := strings.Replace(b.Budget.String(), "("+string(b.Mode)+"):", "("+string(b.Mode)+"; the lost master holds "+b.Held.String()+"):", 1)
	s += fmt.Sprintf("  without a Marathon leader at most %s from the kill", b.MarathonLeaderless)
	if b.MarathonMayChange {
		s += " (only if its ZooKeeper connection was to the lost server)"
	}
	if b.Held.Mesos {
		s += fmt.Sprintf("; without a Mesos leader at most %s", b.MesosLeaderless)
	}
	return s + "\n"
}
