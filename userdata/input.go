package userdata

import (
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// SecretFile is a file whose content is an SSM Parameter Store SecureString,
// fetched at boot with the instance role (never in user data).
type SecretFile struct {
	Parameter string // SSM parameter name, e.g. /marathon-ha/mha-1a2b3c4d/master/control-service.key
	Path      string // absolute destination path, e.g. /etc/flocker/control-service.key
	Mode      string // octal file mode, e.g. "0600"
}

// MasterInput is everything a master's user data depends on.
type MasterInput struct {
	ClusterID string // e.g. "mha-1a2b3c4d"
	// Index is this master's number, from 1: its ZooKeeper server id
	// (myid) and its place in Masters.
	Index int
	// Masters are the private IPv4 addresses of every master, in order
	// (facts.MasterPrivateIPs): len is one of facts.MasterCounts. With one,
	// ZooKeeper runs standalone and the node reaches it at its own address,
	// as before masters were counted; with more, they are the ZooKeeper
	// ensemble and the Mesos masters' quorum. With the flocker driver the
	// master facts.FlockerControlMaster runs the Flocker control service.
	Masters              []string
	Region, Zone         string        // e.g. "us-east-1", "us-east-1a"
	VolumeDriver         string        // facts.VolumeDriverFlocker or facts.VolumeDriverRexRay
	AgentPingTimeout     time.Duration // Mesos master --agent_ping_timeout
	MaxAgentPingTimeouts int           // Mesos master --max_agent_ping_timeouts
	Images               MasterImages
	// FlockerFiles are, on the master that runs the Flocker control
	// service, cluster.crt and control-service.crt/.key; on the others none.
	FlockerFiles []SecretFile
}

// Ensemble reports whether the masters form a ZooKeeper ensemble.
func (in MasterInput) Ensemble() bool { return len(in.Masters) > 1 }

// RunsFlockerControl reports whether this master runs the Flocker control
// service: with the flocker driver, facts.FlockerControlMaster does.
func (in MasterInput) RunsFlockerControl() bool {
	return in.VolumeDriver == facts.VolumeDriverFlocker && in.Index == facts.FlockerControlMaster
}

// MasterImages are the container images the master runs. AWSCLI is the
// fencer's EC2 client (mha-fencer), run for each call.
type MasterImages struct{ ZooKeeper, MesosMaster, Marathon, FlockerControl, AWSCLI string }

// AgentInput is everything an agent's user data depends on.
type AgentInput struct {
	ClusterID    string
	Region, Zone string
	Index        int // 1-based agent number; 0: any agent of an Auto Scaling group (node name "agent")
	// Masters are the masters' private IPv4 addresses, as in MasterInput:
	// the agent finds the leading Mesos master through all their ZooKeepers,
	// and reaches the Flocker control service on the first (the demo used
	// private addresses too).
	Masters                      []string
	VolumeDriver                 string
	AppImage                     string // pre-pulled so a failover does not wait for a pull
	PortRangeStart, PortRangeEnd int    // Mesos agent ports resource; must contain the app port
	Images                       AgentImages
	FlockerFiles                 []SecretFile // flocker only: cluster.crt, node.crt/.key, plugin.crt/.key
	// AppPort is checked to lie inside the port range, so a misconfigured
	// range fails at `pulumi preview` instead of leaving the app without
	// offers; the self-fence blocks it.
	AppPort int
	// SelfFenceAfter is how long the agent's self-fence service
	// (facts.SelfFenceUnit) waits without a quorum of masters before it
	// fences the agent (config selfFenceSeconds).
	SelfFenceAfter time.Duration
}

// AgentImages are the container images and the Docker plugin an agent runs;
// only those of its volume driver are used.
type AgentImages struct {
	MesosAgent string
	// MesosExecutor is the agent's --docker_mesos_image, the image its
	// executors run in (facts.MesosExecutorImage).
	MesosExecutor                                          string
	FlockerDatasetAgent, FlockerDockerPlugin, RexRayPlugin string
}

// Files Flocker reads from facts.FlockerCertDir on each role
// (ClusterHQ/flocker docs/installation/configuring-authentication.rst and
// docs/docker-integration/generate-api-plugin.rst; the 2015 demo copied
// exactly these).
var (
	masterFlockerFiles = []string{"cluster.crt", "control-service.crt", "control-service.key"}
	agentFlockerFiles  = []string{"cluster.crt", "node.crt", "node.key", "plugin.crt", "plugin.key"}
)
