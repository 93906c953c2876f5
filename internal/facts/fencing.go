package facts

import "time"

// Fencing: no two writers on the app's volume (issue 17). A lost agent is
// fenced twice: it fences itself when it cannot reach a quorum of masters
// (self-fencing, like ClusterLabs sbd's watchdog on quorum loss), and the
// leading master's fencer terminates it through the EC2 API once Mesos has
// declared it lost (STONITH, like ClusterLabs fence-agents fence_aws). The
// volume moves only after EC2 reports the old instance terminated. The agent
// template, the master template, the config validation, the stand-in cluster
// and the failover budget all read these values. docs/fencing.md explains
// the design and the order of events.

// Self-fencing on every agent.
const (
	// SelfFenceProbeInterval is how often an agent's self-fence service
	// asks every master's Mesos /health (MesosMasterPort) whether it is
	// still in touch with a quorum of them.
	SelfFenceProbeInterval = 1 * time.Second
	// SelfFenceProbeTimeout bounds one probe of one master (curl
	// --max-time): a partition shows as a timeout, not a refusal.
	SelfFenceProbeTimeout = 1 * time.Second
	// DefaultSelfFenceAfter is the default of the config key
	// selfFenceSeconds: an agent that has not reached a quorum of masters
	// for this long fences itself. It must leave room for the probe, the
	// fence's own actions and FenceMargin before the masters' earliest
	// detection (agentPingTimeoutSeconds x maxAgentPingTimeouts, 4 s x 3 =
	// 12 s by default): 4 + 1 + 1 + 3 + 2 = 11 s < 12 s.
	DefaultSelfFenceAfter = 4 * time.Second
	// SelfFenceActionBudget is how long the agent's fence actions may take:
	// docker kill of the app's containers (SIGKILL, immediate), sync, and
	// umount of the volume driver's mounts, then the port block. A small
	// volume syncs in milliseconds; 3 s bounds a slow EBS flush.
	SelfFenceActionBudget = 3 * time.Second
	// FenceMargin is the slack the inequality keeps between the end of
	// self-fencing and the masters' earliest detection. The Mesos master
	// declares an agent unreachable after max_agent_ping_timeouts pings in
	// a row went unanswered, each given agent_ping_timeout (apache/mesos
	// 1.4.1 src/master/master.cpp SlaveObserver::timeout), so its earliest
	// verdict comes timeout x misses after the first lost ping: 12 s after
	// the partition at best, 16 s at worst. The margin covers what makes
	// the two clocks disagree: the master's ping timers and the agent's
	// probe timers run on different machines' monotonic clocks (drift is
	// parts per million: microseconds over 12 s), libprocess message
	// delivery and the agent's own scheduling delay (a loaded agent may run
	// its probe loop late; we allow 2 s for both).
	FenceMargin = 2 * time.Second
)

// SelfFenceLead is everything the self-fence needs beyond its own
// threshold before it has finished: one probe period to notice, one probe
// timeout, the fence actions and the margin. config.Validate requires
// selfFenceSeconds + SelfFenceLead <= agentPingTimeoutSeconds x
// maxAgentPingTimeouts.
const SelfFenceLead = SelfFenceProbeInterval + SelfFenceProbeTimeout + SelfFenceActionBudget + FenceMargin

// STONITH from the leading master.
const (
	// FencerPollInterval is how often the fencer on the leading master asks
	// Marathon for tasks in TASK_UNREACHABLE (Mesos sends it when it marks
	// the agent unreachable: apache/mesos 1.4.1 master.cpp
	// _markUnreachable; Marathon always registers PARTITION_AWARE,
	// mesosphere/marathon v1.4.9 MarathonSchedulerDriver.scala).
	FencerPollInterval = 1 * time.Second
	// FenceConfirmTimeout is how long the fencer waits for EC2 to report the
	// instance terminated before it reports the fence failed and tries
	// again: fence_aws's power-off wait (ClusterLabs fence-agents v4.17.0
	// agents/aws/fence_aws.py, 60 s, polled every 1 s).
	FenceConfirmTimeout = 60 * time.Second
	// FenceEstimate is the budget's allowance for the fence step, from
	// Mesos's verdict to EC2's "terminated": one fencer poll, Marathon's
	// status update, the AWS CLI container's start and TerminateInstances
	// with SkipOsShutdown (no OS shutdown to wait for; EC2 documents no
	// time to terminated, UNVERIFIED: shared notes fencing.md section 5).
	// We allow 10 s.
	FenceEstimate = 10 * time.Second
)

// Console log lines of the fences, read back by kill-node and the
// rehearsal through GetConsoleOutput. Format, one line each:
//
//	mha-fence <RFC3339Nano time> <event> instance=<id> host=<ip> [detail=<rest of line>]
//
// written by the master's fencer (events FenceEventLost, Fencing, Fenced,
// Failed) and by an agent's self-fence service (FenceEventSelfFenced, with
// host=<its own ip>).
const (
	FenceLogPrefix       = "mha-fence"
	FenceEventLost       = "lost"        // Marathon lists a task on the host as TASK_UNREACHABLE
	FenceEventFencing    = "fencing"     // TerminateInstances (SkipOsShutdown) requested
	FenceEventFenced     = "fenced"      // EC2 reports the instance terminated: the volume may move
	FenceEventFailed     = "failed"      // the EC2 call was refused or timed out; the volume stays
	FenceEventSelfFenced = "self-fenced" // the agent killed the app, flushed and unmounted, blocked the port
)

// FenceLookupEstimate is the part of FenceEstimate left when the instance
// is already terminated as Mesos declares it lost: one fencer poll
// (FencerPollInterval), the AWS CLI container's start and one
// DescribeInstances. The container's start and the call are not measured
// here (UNVERIFIED); we allow 2 s for both.
const FenceLookupEstimate = FencerPollInterval + 2*time.Second

// FenceNoInstance is the instance= of a fence line whose host no instance
// of this cluster's agents has (or whose look-up failed): the fencer
// touches nothing then.
const FenceNoInstance = "none"

// What the agent's self-fence service touches. userdata renders them into
// the service's script and unit; docs/fencing.md describes the order.
const (
	// SelfFenceUnit is the agent's self-fence service, a systemd unit of
	// this name running the script of the same name.
	SelfFenceUnit = "mha-self-fence"
	// SelfFenceMarker is written once an agent has fenced itself. The
	// service finds it at every start (a reboot, a restart) and stays
	// fenced; the Mesos agent's unit will not start while it exists
	// (ConditionPathExists=!). It is on the root volume, so only replacing
	// the instance clears it.
	SelfFenceMarker = "/var/lib/marathon-ha/fenced"
	// MesosAgentUnit is the systemd unit of the Mesos agent's container,
	// the one the fence stops so that the agent cannot re-register and
	// resurrect its tasks.
	MesosAgentUnit = "mesos-agent.service"
	// MesosContainerPrefix starts the name of every container the Mesos
	// 1.4.1 Docker containerizer launches: DOCKER_NAME_PREFIX "mesos-" and
	// the ContainerID, a UUID, with ".executor" appended for the executor's
	// own container (apache/mesos 1.4.1 src/slave/containerizer/docker.cpp
	// DOCKER_NAME_PREFIX, DOCKER_NAME_SEPERATOR; docker.hpp Container::name,
	// executorName). Mesos itself recognises its containers by that prefix
	// followed by a UUID (docker.cpp parse()), which the fence checks too:
	// the agent's own container, "mesos-agent", is not one of them.
	MesosContainerPrefix = "mesos-"
	// DockerPluginsDir holds Docker's managed plugins. A plugin with a
	// PropagatedMount (REX-Ray's rexray/ebs: /var/lib/rexray, rexray/rexray
	// .docker/plugins/ebs/config.json@v0.11.4) has it on the host at
	// <DockerPluginsDir>/<plugin id>/propagated-mount (moby/moby
	// plugin/v2/plugin.go ScopedPath, plugin/manager_linux.go enable), and
	// REX-Ray mounts each volume at <lib>/volumes/<name> inside it
	// (libstorage/drivers/integration/linux/linux.go@v0.11.4,
	// ConfigIgVolOpsMountPath default path.Join(Lib, "volumes")).
	DockerPluginsDir = "/var/lib/docker/plugins"
	// RexRayVolumeMounts is the part of a host mount point that marks a
	// REX-Ray volume under DockerPluginsDir.
	RexRayVolumeMounts = "/propagated-mount/volumes/"
	// JournalCommitUnit is the agent's service that keeps the app's
	// volume at AgentJournalCommit (writeback.go): neither driver passes
	// mount options, so it remounts the driver's ext4 mounts with commit=
	// once they appear.
	JournalCommitUnit = "mha-journal-commit"
	// FlockerMountRoot is where Flocker's dataset agent mounts each dataset,
	// at <root>/<dataset id>, with a plain `mount DEVICE MOUNTPOINT`
	// (ClusterHQ/flocker 1.15.0 flocker/node/agents/blockdevice.py
	// mountroot = FilePath(b"/flocker"); blockdevice_manager.py mount).
	FlockerMountRoot = "/flocker"
)
