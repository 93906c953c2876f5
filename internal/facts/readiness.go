package facts

import "time"

// What a master's readiness check (marathon-ha-ready) asks each service, and
// the answers that mean the cluster, not only the process, is up. The
// always-true probes it replaces: ZooKeeper's ruok answers imok whether or
// not the server serves (apache/zookeeper release-3.4.14
// zookeeper-server/src/main/java/org/apache/zookeeper/server/NIOServerCnxn.java
// RuokCommand), and Mesos /health answers 200 from any live master process.
const (
	// ZooKeeperStatusWord is the four-letter word whose answer names the
	// server's role: StatCommand prints ServerStats' "Mode: <state>" line
	// when the server runs and ZooKeeperNotServing otherwise
	// (NIOServerCnxn.java StatCommand, ServerStats.java toString, at
	// release-3.4.14). It is whitelisted whatever 4lw.commands.whitelist
	// says: "zkServer.sh depends on srvr" (ServerCnxn.java isEnabled).
	ZooKeeperStatusWord = "srvr"
	// ZooKeeperModePrefix starts the line that names the server's role.
	ZooKeeperModePrefix = "Mode: "
	// ZooKeeperNotServing is srvr's whole answer from a server that is not
	// running, as in an ensemble that has not elected a leader
	// (NIOServerCnxn.java ZK_NOT_SERVING). The client port is open all the
	// while: QuorumPeer.start starts the connection factory before the
	// election (QuorumPeer.java).
	ZooKeeperNotServing = "This ZooKeeper instance is not currently serving requests"
	// ZooKeeperModeStandalone, ZooKeeperModeLeader and ZooKeeperModeFollower
	// are the getState() of ZooKeeperServer, LeaderZooKeeperServer and
	// FollowerZooKeeperServer at release-3.4.14. One master's ZooKeeper is
	// standalone; a master of an ensemble is ready only as its leader or
	// a follower.
	ZooKeeperModeStandalone = "standalone"
	ZooKeeperModeLeader     = "leader"
	ZooKeeperModeFollower   = "follower"

	// MesosRedirectPath answers 307 to the leading master, or 503
	// MesosNoLeader when this master knows of none (apache/mesos 1.4.1
	// src/master/http.cpp Master::Http::redirect).
	MesosRedirectPath = "/redirect"
	MesosNoLeader     = "No leader elected"
	// MesosOperatorAPIPath is the v1 operator API. A master that does not
	// lead redirects it to the leader; the leader refuses every call with
	// 503 MesosNotRecovered until its registrar has recovered from the
	// replicated log (http.cpp Master::Http::api, lines 615-623), which is
	// what a Mesos that can schedule needs. MesosHealthCall is the call the
	// check makes and MesosHealthy what the recovered leader answers
	// (http.cpp getHealth; include/mesos/v1/master/master.proto GET_HEALTH).
	MesosOperatorAPIPath = "/api/v1"
	MesosNotRecovered    = "Master has not finished recovery"
	MesosHealthCall      = `{"type":"GET_HEALTH"}`
	MesosHealthy         = `"healthy":true`

	// MarathonLeaderPath names Marathon's leader ({"leader":"host:port"}).
	// Marathon 1.4.9 runs its leader proxy filter on every path, this one
	// and /ping included (api/MarathonRestModule.scala, filter("/*")): a
	// Marathon that is not the leader forwards the call to the leader, and
	// with no leader it polls 11 times 250 ms for one before answering 503
	// MarathonNoLeader (api/LeaderProxyFilter.scala,
	// waitForConsistentLeadership).
	MarathonLeaderPath = "/v2/leader"
	MarathonNoLeader   = "Could not determine the current leader"
	MarathonLeaderWait = 11 * 250 * time.Millisecond
	// MarathonLeaderProbeTimeout bounds one call that only asks Marathon
	// who leads (the fencer's /v2/leader, the master watch's samples):
	// above MarathonLeaderWait with room for the answer, so a leaderless
	// Marathon is seen answering its 503, not taken for a dead one.
	MarathonLeaderProbeTimeout = 4 * time.Second
	// ReadyProbeTimeout bounds each HTTP probe of the readiness check: above
	// MarathonLeaderWait, so a Marathon without a leader says so (503)
	// rather than timing out.
	ReadyProbeTimeout = 5 * time.Second
)

// How a boot's wait for readiness shows on the console, which deploy-app
// reads back: the step, the line the wait logs every minute (followed by
// the number of checks and the check's output), and the prefix of each
// check that failed in that output.
const (
	ReadyWaitStep     = "wait-ready"
	ReadyWaitLog      = "not ready after "
	ReadyFailedPrefix = "not ready: "
)

// MesosLogReplicas is how many replicas Mesos's replicated log counts for a
// quorum q: 2q-1, every master. An empty log initialises itself only when
// every one of them answers EMPTY or STARTING (apache/mesos 1.4.1
// src/log/recover.cpp:58-71 and 233-294, two-phase auto-initialisation), so
// the first boot of a cluster of several masters needs all of them: until
// then the leading Mesos master never finishes recovery, and gives up
// after --registry_fetch_timeout (60 s, src/master/flags.cpp) to let
// another master try.
func MesosLogReplicas(quorum int) int { return 2*quorum - 1 }
