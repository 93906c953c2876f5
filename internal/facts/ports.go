package facts

// Ports the cluster listens on. The security groups, the templates, the ELB
// and the operator tools read these; nothing else spells them out.
const (
	// SSHPort is the OpenSSH daemon on every node.
	SSHPort = 22
	// ZooKeeperClientPort is ZooKeeper's client port (zookeeper.apache.org,
	// "ZooKeeper Getting Started Guide": clientPort=2181).
	ZooKeeperClientPort = 2181
	// ZooKeeperPeerPort and ZooKeeperElectionPort are the two ports of each
	// server.N line of an ensemble: "The first followers use to connect to
	// the leader, and the second is for leader election"
	// (apache/zookeeper release-3.4.14
	// zookeeper-docs/src/main/resources/markdown/zookeeperAdmin.md,
	// "server.x=[hostname]:nnnnn[:nnnnn]"; its example ensemble uses
	// 2888:3888). Only the masters talk on them.
	ZooKeeperPeerPort     = 2888
	ZooKeeperElectionPort = 3888
	// MesosMasterPort serves the Mesos master API and UI (apache/mesos
	// docs/configuration/master.md: --port, default 5050).
	MesosMasterPort = 5050
	// MesosAgentPort is the Mesos agent's libprocess port (apache/mesos
	// docs/configuration/agent.md: --port, default 5051). The master calls
	// the agent on it, so it must be open from the master.
	MesosAgentPort = 5051
	// MarathonPort serves Marathon's REST API and UI (mesosphere/marathon
	// docs/docs/command-line-flags.md: --http_port, default 8080).
	MarathonPort = 8080
	// MarathonLibprocessPort is where Marathon's Mesos scheduler driver
	// (libmesos 1.1.0 in the Marathon image, bin/start: see
	// userdata/testdata/images.json) listens when the cluster has several
	// masters. The leading Mesos master sends the framework its messages by
	// connecting to the address the driver advertises (Master::addFramework
	// links to the scheduler's pid: apache/mesos 1.4.1
	// src/master/master.cpp:8066-8068), and the leading Mesos master and the leading
	// Marathon may sit on different masters. libprocess picks a random port
	// unless LIBPROCESS_PORT sets one (apache/mesos 1.1.0
	// 3rdparty/libprocess/src/process.cpp:913-921; docs/configuration.md,
	// "LIBPROCESS_PORT: Sets the port for communication to and from
	// libprocess"), so it is fixed here for the masters' security group to
	// open. The number is ours: free on a master, and outside the agents'
	// task ports (AgentPortRangeStart-AgentPortRangeEnd).
	MarathonLibprocessPort = 9090
	// FlockerControlAPIPort is the Flocker control service's REST API, used by
	// the Docker plugin on every agent (ClusterHQ/flocker
	// docs/installation/setup-aws.rst: "ports 4523-4524").
	FlockerControlAPIPort = 4523
	// FlockerControlAgentPort is where Flocker's dataset agents connect to the
	// control service (same source; agent.yml "control-service" "port": 4524).
	FlockerControlAgentPort = 4524
	// ELBListenerPort is the public HTTP port of the classic ELB (the 2015
	// demo's helpers.sh: LoadBalancerPort=80).
	ELBListenerPort = 80
	// AppContainerPort is where Moby Counter listens inside its container
	// (binocarlos/moby-counter localfile index.js: default port 80).
	AppContainerPort = 80
	// DefaultAppPort is the host port the app is published on and the ELB
	// forwards to (the 2015 demo's app.json: hostPort 8500).
	DefaultAppPort = 8500
	// AgentPortRangeStart and AgentPortRangeEnd bound the ports each Mesos
	// agent offers to tasks. The demo set resources "ports:[7000-9000]" so
	// that hostPort 8500 can be offered (the default range is 31000-32000,
	// apache/mesos docs/configuration/agent.md --resources).
	AgentPortRangeStart = 7000
	AgentPortRangeEnd   = 9000
)

// ReservedPorts are the ports the cluster's own services use on a node; the
// app port must not be one of them.
var ReservedPorts = []int{SSHPort, ZooKeeperClientPort, ZooKeeperPeerPort, ZooKeeperElectionPort, MesosMasterPort, MesosAgentPort,
	MarathonPort, MarathonLibprocessPort, FlockerControlAPIPort, FlockerControlAgentPort}
