package userdata

import (
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// readiness is what a master's readiness check (ready.sh.tmpl) asks its
// services and which answers mean a formed cluster: ZooKeeper serving in an
// ensemble, a Mesos leader that has recovered its registry, a Marathon
// leader (facts/readiness.go has the sources).
type readiness struct {
	StatusWord, ModePrefix string
	// ModePattern (a case pattern) and ModeText (in words) are the
	// ZooKeeper modes this master may be in: standalone for one master, the
	// leader or a follower of an ensemble for more (a standalone server in
	// an ensemble's place serves alone, with its own data: the masters
	// would not share a leader).
	ModePattern, ModeText string
	// Masters counts the masters; LogReplicas are the Mesos replicated
	// log's replicas, every one of which a first boot waits for.
	Masters, LogReplicas              int
	RedirectPath, APIPath, HealthCall string
	Healthy, NotRecovered             string
	LeaderPath                        string
	ProbeSeconds                      int
	// WaitStep, WaitLog and FailedPrefix are how the boot's wait shows on
	// the console (facts.ReadyWaitStep, ReadyWaitLog, ReadyFailedPrefix).
	WaitStep, WaitLog, FailedPrefix string
}

// Readiness is the master's readiness contract for the template.
func (n *node) Readiness() readiness {
	r := readiness{
		StatusWord: facts.ZooKeeperStatusWord, ModePrefix: facts.ZooKeeperModePrefix,
		Masters:      len(n.Masters),
		LogReplicas:  facts.MesosLogReplicas(facts.MasterQuorum(len(n.Masters))),
		RedirectPath: facts.MesosRedirectPath, APIPath: facts.MesosOperatorAPIPath, HealthCall: facts.MesosHealthCall,
		Healthy: facts.MesosHealthy, NotRecovered: facts.MesosNotRecovered,
		LeaderPath:   facts.MarathonLeaderPath,
		ProbeSeconds: int(facts.ReadyProbeTimeout / time.Second),
		WaitStep:     facts.ReadyWaitStep, WaitLog: facts.ReadyWaitLog, FailedPrefix: facts.ReadyFailedPrefix,
	}
	modes := []string{facts.ZooKeeperModeStandalone}
	if n.Ensemble() {
		modes = []string{facts.ZooKeeperModeLeader, facts.ZooKeeperModeFollower}
	}
	r.ModePattern, r.ModeText = strings.Join(modes, "|"), strings.Join(modes, " or ")
	return r
}
