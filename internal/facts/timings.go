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
	// ZooKeeperSessionTimeout is the longest ZooKeeper session of the
	// cluster: the agent's master detector's, which has no flag for it
	// (MASTER_DETECTOR_ZK_SESSION_TIMEOUT = Seconds(10), apache/mesos 1.4.1
	// src/master/detector/zookeeper.cpp:53), and a single master's Mesos
	// --zk_session_timeout (default 10secs: src/master/flags.cpp:82-85,
	// master/constants.hpp:123). The masters of an ensemble use shorter
	// sessions (ZooKeeper in zookeeper.go, docs/masters.md).
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
// recovery budget (internal/failover, one budget per volume driver and kill
// mode) so a measured RTO has something to be compared with. They are
// estimates, not guarantees: the rehearsal measures the real thing and
// reports both.
const (
	// MarathonRelaunchEstimate: the manifest's unreachableStrategy 0/0 makes
	// Marathon replace an unreachable task at once (Marathon 1.4
	// docs/docs/configure-task-handling.md); the new task then waits for the
	// next offer, made every --allocation_interval (default 1secs,
	// apache/mesos docs/configuration/master.md), and is launched.
	MarathonRelaunchEstimate = 2 * time.Second
	// RexRayVolumeMoveEstimate: REX-Ray without preempt
	// (REXRAY_PREEMPT=false, docs/fencing.md) attaches the volume only once
	// no other instance holds it: while it is still attached to the old
	// agent the mount fails (the volume is neither attached here nor
	// available) and Marathon relaunches the task, until EC2 has released
	// the volume with the fenced instance's termination. It then attaches it
	// (AttachVolume, polled until "attached") and mounts it (rexray/rexray
	// v0.11.4 libstorage/drivers/integration/linux/linux.go Mount;
	// libstorage/drivers/storage/ebs/storage/ebs_storage.go: VolumeAttach,
	// waitVolumeComplete). EBS attach typically completes in seconds (AWS
	// ebs-attaching-volume.md: "attaching" -> "attached"); we allow 12 s for
	// the move after the release (the fence's own step is FenceEstimate).
	RexRayVolumeMoveEstimate = 12 * time.Second
	// FlockerDetachWaitEstimate: Flocker 1.15 cannot preempt. The dataset
	// agent on the new node detaches the volume only from a node that is no
	// longer running (ClusterHQ/flocker 1.15.0 flocker/node/agents/
	// blockdevice.py: ATTACHED_TO_DEAD_NODE -> DetachVolume, while a volume
	// on a live node is ATTACHED_ELSEWHERE -> Poll; ebs.py list_live_nodes:
	// instance-state-name=running), with a plain DetachVolume that raises
	// VolumeBusy while the attachment is busy (ebs.py detach_volume), and it
	// sleeps 5 s before its first look at the volume's state (ebs.py
	// _wait_for_volume_state_change: time.sleep(5.0)); between tries its
	// convergence loop backs off up to 10 s (flocker/node/_loop.py
	// _UnconvergedDelay, max_sleep=10). After a crash EC2 releases the
	// volume only once the instance has stopped. We allow 20 s after the
	// relaunch; after a graceful kill the OS shutdown already detached it.
	FlockerDetachWaitEstimate = 20 * time.Second
	// FlockerAttachEstimate: Flocker then attaches the volume (AttachVolume
	// and another 5 s sleep before the first state check, ebs.py
	// attach_volume), waits for the device and mounts it; the Docker
	// plugin's VolumeDriver.Mount polls the dataset state every 1 s and
	// gives up after 120 s (flocker/dockerplugin/_api.py _POLL_INTERVAL,
	// _MOUNT_TIMEOUT). We allow 15 s.
	FlockerAttachEstimate = 15 * time.Second
	// ContainerStartEstimate: the image is pulled at boot (userdata), so
	// the relaunch is docker run plus node's start of server.js.
	ContainerStartEstimate = 3 * time.Second
	// OSShutdownEstimate is how long a default (graceful) TerminateInstances
	// keeps the old agent shutting down before it stops: EC2 first shuts
	// the OS down ("Default terminate: normal instance shutdown with
	// attempted graceful OS shutdown", EC2 User Guide, "Methods for
	// terminating an instance"; skipped with SkipOsShutdown). systemd stops
	// the Mesos agent and Docker; dockerd gives the containers up to 15 s
	// to stop (moby/moby v26.1.4 daemon/config/config.go:
	// DefaultShutdownTimeout = 15), and Moby Counter takes all of it: node
	// runs as PID 1 without a SIGTERM handler (binocarlos/moby-counter
	// localfile Dockerfile ENTRYPOINT ["node", "index.js"]; index.js), so
	// only the SIGKILL stops it. Then the volume is unmounted and flushed
	// and the instance stops. Meanwhile the app keeps serving. We allow 30 s.
	OSShutdownEstimate = 30 * time.Second
	// RecoveryBudgetGoal is the goal for the default budget (REX-Ray, crash;
	// issue 5): the 2015 demo quoted "around 60 seconds" (README),
	// Kubernetes with the EBS CSI driver 6 minutes or more
	// (aws-ebs-csi-driver docs/faq.md).
	RecoveryBudgetGoal = 45 * time.Second
	// RecoveryBudgetMargin is what a measured RTO may exceed its budget by
	// and still pass the rehearsal. The budget counts each periodic step in
	// whole periods from the moment its cause happened, but a real run's
	// timers are not in phase with the kill: the ELB's next health check of
	// the new agent can come up to one interval after the app is up
	// (ELBHealthInterval), the master's ping of the dead agent up to one
	// ping timeout after it died (AgentPingTimeout), and the watch samples
	// once a second. 5 s + 4 s + 1 s = 10 s.
	RecoveryBudgetMargin = ELBHealthInterval + AgentPingTimeout + time.Second
)

// FailoverWatchTimeout bounds how long the failover watch (kill-node, the
// rehearsal) waits, from the kill, for the app to answer through the ELB
// again. The budgets are about a minute (failover.NewBudget), but a
// real recovery can take much longer and still be a recovery: a terminated
// instance may stay shutting-down for minutes while its OS shuts down, and
// its EBS volume only detaches after that (EC2 User Guide, "Methods for
// terminating an instance"); Marathon then gives the new task up to its
// --task_launch_timeout (default 300000 ms, mesosphere/marathon
// docs/docs/command-line-flags.md) to start. Ten minutes covers both and
// still ends a failover that will never recover with a report.
const FailoverWatchTimeout = 10 * time.Minute

// Estimates of a master failover (the leading master lost), used by the
// master budget (failover.NewMasterBudget). The ZooKeeper session timeout
// above decides the first step; these are the steps no setting of ours
// decides.
const (
	// MesosLeaderElectionEstimate: once ZooKeeper expires the lost
	// master's session its ephemeral znode is deleted, and the contender
	// with the next sequence number learns it leads (ZooKeeper recipe
	// "Leader Election"; apache/mesos 1.4.1 src/master/contender/
	// zookeeper.cpp, src/zookeeper/group.cpp). The new leader then recovers
	// the registry from the replicated log, which needs a quorum of
	// replicas (--registry_fetch_timeout default 1mins bounds it,
	// docs/configuration.md). We allow 5 s.
	MesosLeaderElectionEstimate = 5 * time.Second
	// MarathonLeaderElectionEstimate: Marathon 1.4.9 elects through
	// Curator's LeaderLatch on the same ensemble
	// (mesosphere/marathon v1.4.9 src/main/scala/mesosphere/marathon/core/
	// election/impl/CuratorElectionService.scala); the new leader loads its
	// state from ZooKeeper and registers with the leading Mesos master
	// (MarathonSchedulerService.startLeadership), answering 503 meanwhile.
	// We allow 10 s from the session expiry.
	MarathonLeaderElectionEstimate = 10 * time.Second
	// AgentReregistrationEstimate: the agents' master detector sees the
	// new leader in ZooKeeper and each agent re-registers after a random
	// delay within --registration_backoff_factor (default 1secs,
	// apache/mesos 1.4.1 docs/configuration.md), doubling on retries; the
	// new master marks agents that do not come back within
	// --agent_reregister_timeout (default 10mins) unreachable. We allow 5 s.
	AgentReregistrationEstimate = 5 * time.Second
)
