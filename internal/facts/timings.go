package facts

import "time"

// Failure detection and health checking. The master's flags, the ELB and the
// recovery budget all read these.
const (
	// AgentPingTimeout and MaxAgentPingTimeouts decide how fast the Mesos
	// master declares a silent agent lost: timeout x misses, 12 s. The
	// product must exceed ZooKeeperSessionTimeout ("The total ping timeout
	// (agent_ping_timeout multiplied by max_agent_ping_timeouts) should be
	// greater than the ZooKeeper session timeout to prevent useless
	// re-registration attempts", apache/mesos 1.4.1 docs/configuration.md:532-538).
	// The 2015 demo's 5secs x 2 (uploads/install.sh, commit 0579288) equals
	// it; three misses of 4 s keep detection fast and tolerate two lost
	// pings. The Mesos defaults are 15secs and 5 = 75 s.
	AgentPingTimeout     = 4 * time.Second
	MaxAgentPingTimeouts = 3
	// ZooKeeperSessionTimeout is the ZooKeeper session of the Mesos master
	// (--zk_session_timeout, default 10secs: apache/mesos 1.4.1
	// src/master/flags.cpp:82-85, master/constants.hpp:123) and of the
	// agent's master detector, which has no flag for it
	// (MASTER_DETECTOR_ZK_SESSION_TIMEOUT = Seconds(10),
	// src/master/detector/zookeeper.cpp:53). The cluster keeps the default.
	ZooKeeperSessionTimeout = 10 * time.Second

	// ELB health check: the minimums AWS allows, as the demo used
	// (helpers.sh; awsdocs elb-healthchecks.md: interval 5-300 s, timeout
	// 2-60 s, thresholds 2-10).
	ELBHealthInterval     = 5 * time.Second
	ELBHealthTimeout      = 2 * time.Second
	ELBUnhealthyThreshold = 2
	ELBHealthyThreshold   = 2
	// ELBConnectionDrainingTimeout is short because the app has one instance:
	// a draining node is a dead node (range 1-3600 s, AWS
	// ConnectionDrainingPolicy API reference).
	ELBConnectionDrainingTimeout = 5 * time.Second
)

// AppHealthPath is the path the ELB and Marathon health-check: Moby Counter
// answers GET /v1/ping with {"connected":true} (binocarlos/moby-counter
// localfile server.js).
const AppHealthPath = "/v1/ping"

// Estimates of the recovery steps no setting of ours decides, used by the
// recovery budget (internal/failover) so a measured RTO has something to be
// compared with. They are estimates, not guarantees: the rehearsal measures
// the real thing and reports both.
const (
	// MarathonRelaunchEstimate: the manifest's unreachableStrategy 0/0 makes
	// Marathon replace an unreachable task at once (Marathon 1.4
	// docs/docs/configure-task-handling.md); the new task then waits for the
	// next offer, made every --allocation_interval (default 1secs,
	// apache/mesos docs/configuration/master.md), and is launched.
	MarathonRelaunchEstimate = 2 * time.Second
	// VolumeMoveEstimate: EC2 detaches the EBS volume while the terminated
	// instance shuts down, then the volume driver attaches it to the new
	// agent and mounts it (REX-Ray preempt force-detaches if it is still
	// attached). EBS attach typically completes in seconds (AWS
	// ebs-attaching-volume.md: "attaching" -> "attached"); we allow 12 s.
	VolumeMoveEstimate = 12 * time.Second
	// ContainerStartEstimate: the image is pulled at boot (userdata), so
	// the relaunch is docker run plus node's start of server.js.
	ContainerStartEstimate = 3 * time.Second
	// RecoveryBudgetGoal is the goal for the default budget (issue 5): the
	// 2015 demo quoted "around 60 seconds" (README), Kubernetes with the EBS
	// CSI driver 6 minutes or more (aws-ebs-csi-driver docs/faq.md).
	RecoveryBudgetGoal = 45 * time.Second
)

// FailoverWatchTimeout bounds how long the failover watch (kill-node, the
// rehearsal) waits, from the kill, for the app to answer through the ELB
// again. The default budget is under a minute (failover.NewBudget), but a
// real recovery can take much longer and still be a recovery: a terminated
// instance may stay shutting-down for minutes while its OS shuts down, and
// its EBS volume only detaches after that (EC2 User Guide, "Methods for
// terminating an instance"); Marathon then gives the new task up to its
// --task_launch_timeout (default 300000 ms, mesosphere/marathon
// docs/docs/command-line-flags.md) to start. Ten minutes covers both and
// still ends a failover that will never recover with a report.
const FailoverWatchTimeout = 10 * time.Minute
