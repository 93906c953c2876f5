package userdata

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// MaxSize is the EC2 limit on user data in raw form, before base64 ("User
// data is limited to 16 KB", docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
// The documents are sent gzipped (EncodeForEC2), so the limit applies to the
// compressed bytes.
const MaxSize = 16 * 1024

// EncodeForEC2 gzips a rendered document and returns it base64-encoded, for
// an instance's userDataBase64. cloud-init inflates gzipped user data by its
// magic bytes (canonical/cloud-init cloudinit/user_data.py, "Gzip Compressed
// Content" in doc/rtd/explanation/format.rst). The output is deterministic: no
// name or time in the gzip header, a fixed level.
func EncodeForEC2(doc []byte) (string, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(doc); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if b.Len() > MaxSize {
		return "", fmt.Errorf("user data is %d bytes gzipped (%d raw), over the EC2 limit of %d", b.Len(), len(doc), MaxSize)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// Where the rendered files land on a node.
const (
	bootScript = "/usr/local/sbin/marathon-ha-boot"
	libScript  = "/usr/local/lib/marathon-ha/lib.sh"
	runDir     = "/usr/local/lib/marathon-ha"
	unitDir    = "/etc/systemd/system"
	nodeEnv    = "/etc/marathon-ha/node.env"
	dockerDrop = "/etc/systemd/system/docker.service.d/marathon-ha.conf"
	// imageScript prepares an image (RenderImage); imageDone is the marker it
	// leaves when done, which cloud-init's power_state waits for. /run is a
	// tmpfs: the marker is not in the image.
	imageScript   = "/usr/local/sbin/marathon-ha-prepare-image"
	imageDoneDir  = "/run/marathon-ha"
	imageDoneFile = imageDoneDir + "/image-prepared"
	// blockMetadata is run by Docker's unit after every start (dockerDrop).
	blockMetadata = "/usr/local/sbin/marathon-ha-block-metadata"
	// selfFenceScript is run by an agent's facts.SelfFenceUnit.
	selfFenceScript = "/usr/local/sbin/" + facts.SelfFenceUnit
	// writebackSysctl holds an agent's writeback timers
	// (facts.AgentDirtyExpire, AgentDirtyWriteback); systemd-sysctl
	// applies /etc/sysctl.d at every boot (sysctl.d(5)), and the first
	// boot applies it itself, the file being written after that.
	writebackSysctl = "/etc/sysctl.d/60-marathon-ha-writeback.conf"
	// journalCommitScript is run by an agent's facts.JournalCommitUnit,
	// which looks for a new mount of the app's volume every
	// journalCommitCheck: the first writes after a failover may wait for
	// ext4's default commit for that long.
	journalCommitScript = "/usr/local/sbin/" + facts.JournalCommitUnit
	journalCommitCheck  = time.Second
	// flockerPluginSocket is where Flocker's plugin listens and Docker looks
	// for legacy plugins (ClusterHQ/flocker flocker/dockerplugin/_script.py).
	flockerPluginSocket = "/run/docker/plugins/flocker/flocker.sock"
	// readyDelay is the pause between readiness checks during boot, and
	// readyLogEvery how often the wait says on the console what it waits
	// for: well inside deploy-app's stall warning (facts.BootStallWarning).
	readyDelay    = 10 * time.Second
	readyLogEvery = time.Minute
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("userdata").
	Option("missingkey=error").
	Funcs(template.FuncMap{"q": shellQuote, "indent": indent}).
	ParseFS(templateFS, "templates/*.tmpl"))

// RenderMaster validates in and returns the master's #cloud-config user data.
func RenderMaster(in MasterInput) ([]byte, error) {
	if err := in.validate(); err != nil {
		return nil, fmt.Errorf("rendering master user data: %w", err)
	}
	// A one-master cluster's node keeps the name it had before masters
	// were counted: its user data, and so the instance, stay as they were.
	name := "master"
	if in.Ensemble() {
		name = "master-" + strconv.Itoa(in.Index)
	}
	n := newNode(facts.RoleMaster, name, in.ClusterID, in.Region, in.Zone, in.VolumeDriver, in.FlockerFiles)
	n.Master = in
	// Only the master that runs the control service runs anything of
	// Flocker's; the others are masters as with REX-Ray.
	n.Flocker = in.RunsFlockerControl()
	n.Masters = in.Masters
	n.Quorum = facts.MasterQuorum(len(in.Masters))
	n.AgentPingTimeout = mesosDuration(in.AgentPingTimeout)
	n.Pulls = masterPulls(in.Images, n.Flocker)
	n.Services = []service{
		{Name: "zookeeper", Image: in.Images.ZooKeeper},
		{Name: "mesos-master", Image: in.Images.MesosMaster},
		{Name: "marathon", Image: in.Images.Marathon},
		// The fencer is a script on the host that runs the AWS CLI's
		// image for each EC2 call: it starts once that image is here.
		{Name: fencerService, Image: in.Images.AWSCLI, OnHost: true},
	}
	if n.Flocker {
		n.Services = append(n.Services, service{Name: "flocker-control", Image: in.Images.FlockerControl})
	}
	out, err := n.render(nil)
	if err != nil {
		return nil, fmt.Errorf("rendering master user data of %s: %w", in.ClusterID, err)
	}
	return out, nil
}

// RenderAgent validates in and returns the #cloud-config user data of agent
// in.Index.
func RenderAgent(in AgentInput) ([]byte, error) {
	if err := in.validate(); err != nil {
		return nil, fmt.Errorf("rendering agent user data: %w", err)
	}
	name := "agent-" + strconv.Itoa(in.Index)
	if in.Index == 0 {
		// One user data for every agent of the group: a launched agent
		// has no number, and its boot log names it by its instance.
		name = "agent"
	}
	n := newNode(facts.RoleAgent, name, in.ClusterID, in.Region, in.Zone, in.VolumeDriver, in.FlockerFiles)
	n.Agent = in
	n.Masters = in.Masters
	// The self-fence's quorum: the Mesos masters' own.
	n.Quorum = facts.MasterQuorum(len(in.Masters))
	n.ZooKeeperMesos = zooKeeperURL(in.Masters, "mesos")
	n.PortResource = fmt.Sprintf("ports:[%d-%d]", in.PortRangeStart, in.PortRangeEnd)
	n.ZoneAttribute = facts.AgentZoneAttribute + ":" + in.Zone
	n.ExecutorRegistrationTimeout = mesosDuration(facts.ExecutorRegistrationTimeout)
	var extra []file
	n.Pulls = agentPulls(in.VolumeDriver, in.Images, in.AppImage)
	if n.Flocker {
		n.Services = []service{
			{Name: "flocker-dataset-agent", Image: in.Images.FlockerDatasetAgent},
			{Name: "flocker-docker-plugin", Image: in.Images.FlockerDockerPlugin},
		}
		agentYML, err := flockerAgentConfig(in)
		if err != nil {
			return nil, fmt.Errorf("rendering agent user data of %s: %w", in.ClusterID, err)
		}
		extra = append(extra, file{Path: facts.FlockerCertDir + "/agent.yml", Perm: "0600", Content: agentYML})
	}
	if n.RexRay {
		n.RexRayPlugin = in.Images.RexRayPlugin
	}
	// The agent starts last, once every image and the volume driver are
	// in place: a task it launches needs the executor's image, the app's
	// and the driver of its volume (Docker refuses a volume whose driver is
	// not there). It never starts on a fenced agent.
	n.Services = append(n.Services, service{Name: "mesos-agent", Image: in.Images.MesosAgent, AfterAll: true, UnlessFenced: true})
	n.SelfFenceAfterCentis = int(in.SelfFenceAfter / (10 * time.Millisecond))
	for _, p := range []part{
		{selfFenceScript, "0755", "self-fence.sh.tmpl"},
		{unitDir + "/" + facts.SelfFenceUnit + ".service", "0644", "self-fence.service.tmpl"},
		{writebackSysctl, "0644", "writeback.conf.tmpl"},
		{journalCommitScript, "0755", "journal-commit.sh.tmpl"},
		{unitDir + "/" + facts.JournalCommitUnit + ".service", "0644", "journal-commit.service.tmpl"},
	} {
		content, err := execute(p.tmpl, n)
		if err != nil {
			return nil, fmt.Errorf("rendering agent user data of %s: %w", in.ClusterID, err)
		}
		extra = append(extra, file{Path: p.path, Perm: p.perm, Content: content})
	}
	out, err := n.render(extra)
	if err != nil {
		return nil, fmt.Errorf("rendering agent user data of %s: %w", in.ClusterID, err)
	}
	return out, nil
}

// node is what the templates see.
type node struct {
	Role, Name, ClusterID, Region, Zone, VolumeDriver string
	Flocker, RexRay                                   bool

	Master MasterInput
	Agent  AgentInput

	// Masters are the masters' private addresses (MasterInput.Masters,
	// AgentInput.Masters); Quorum is the Mesos masters' --quorum.
	Masters []string
	Quorum  int

	// DockerPins come from Docker's apt repository, ArchivePins from
	// Ubuntu's; the boot installs those the AMI lacks, then holds them all.
	DockerPins, ArchivePins, HeldPackages []string
	Secrets                               []SecretFile
	Pulls                                 []string // images pulled at once (PullArgs)
	Services                              []service
	RexRayPlugin                          string

	// Mesos flag values.
	AgentPingTimeout, ExecutorRegistrationTimeout string
	ZooKeeperMesos, PortResource, ZoneAttribute   string

	// SelfFenceAfterCentis is AgentInput.SelfFenceAfter in the
	// centiseconds of /proc/uptime, which the self-fence's clock reads.
	SelfFenceAfterCentis int

	Files []file // filled by render
}

// service is one container run by a systemd unit of the same name. A
// service starts as soon as its own image is pulled, unless AfterAll: then
// it starts in the start-services step, after every pull and the volume
// plugin.
type service struct {
	Name, Image string
	AfterAll    bool
	// OnHost marks a service that is a script on the host rather than a
	// container of the same name: its unit neither removes nor stops a
	// container, and its lines go to the console (host-unit.service.tmpl).
	OnHost bool
	// UnlessFenced keeps the unit from starting, or restarting, once the
	// agent has fenced itself (facts.SelfFenceMarker).
	UnlessFenced bool
}

// FenceMarker is facts.SelfFenceMarker, for the unit template.
func (service) FenceMarker() string { return facts.SelfFenceMarker }

// PullArgs are mha_pull_all's arguments: each image of Pulls, followed by
// "=service" when a service needs that image alone and starts right after
// its pull. Mesos master and Marathon may start before ZooKeeper answers:
// each unit restarts its container whenever it exits (Restart=always,
// RestartSec=5, unit.service.tmpl), and wait-ready checks all of them, so
// no order among them is needed. Nor did the one `systemctl enable --now`
// of all units order them before: the units are Type=simple (no Type=,
// ExecStart= set), which systemd considers started as soon as the process
// is forked (systemd.service(5), Type=simple), not when it answers.
func (n *node) PullArgs() []string {
	args := make([]string, len(n.Pulls))
	for i, image := range n.Pulls {
		args[i] = image
		for _, s := range n.Services {
			if s.Image == image && !s.AfterAll {
				args[i] += "=" + s.Name
				break
			}
		}
	}
	return args
}

// LateServices are the services started after every pull, in order.
func (n *node) LateServices() []service {
	var late []service
	for _, s := range n.Services {
		if s.AfterAll {
			late = append(late, s)
		}
	}
	return late
}

// LateServiceNames are LateServices' names, space-separated, for the
// start-services line on the console.
func (n *node) LateServiceNames() string {
	var names []string
	for _, s := range n.LateServices() {
		names = append(names, s.Name)
	}
	return strings.Join(names, " ")
}

// RunScript is the script the unit's ExecStart runs.
func (s service) RunScript() string { return runDir + "/run-" + s.Name }

// file is one write_files entry.
type file struct{ Path, Perm, Content string }

func newNode(role, name, clusterID, region, zone, driver string, secrets []SecretFile) *node {
	n := &node{
		Role: role, Name: name, ClusterID: clusterID, Region: region, Zone: zone, VolumeDriver: driver,
		Flocker: driver == facts.VolumeDriverFlocker,
		RexRay:  driver == facts.VolumeDriverRexRay,
		Secrets: secrets,
	}
	for _, p := range facts.DockerPackages {
		n.DockerPins = append(n.DockerPins, p.Pin())
		n.HeldPackages = append(n.HeldPackages, p.Name)
	}
	n.ArchivePins = append(n.ArchivePins, facts.PigzPackage+"="+facts.PigzPackageVersion)
	if len(secrets) > 0 {
		n.ArchivePins = append(n.ArchivePins, facts.AWSCLIPackage+"="+facts.AWSCLIPackageVersion)
		n.HeldPackages = append(n.HeldPackages, facts.AWSCLIPackage)
	}
	return n
}

// fencerService is the masters' STONITH service (run-mha-fencer.tmpl,
// docs/fencing.md).
const fencerService = "mha-fencer"

// fenceConfirmPoll is how often the fencer asks EC2 whether the instance
// is terminated yet: fence_aws's 1 s (ClusterLabs fence-agents v4.17.0
// agents/aws/fence_aws.py, the power-wait loop).
const fenceConfirmPoll = time.Second

// fence are the values the fencer's script reads.
type fence struct {
	Image                                            string
	PollSeconds, ConfirmPollSeconds, ConfirmAttempts int
	LeaderSeconds                                    int // curl --max-time of /v2/leader
	Prefix, Lost, Fencing, Fenced, Failed            string
	NoInstance, TagClusterID, TagRole, RoleAgent     string
}

// FencerService is the fencer's unit name, without ".service".
func (*node) FencerService() string { return fencerService }

// Fence is what the masters' fencer needs, all from facts.
func (n *node) Fence() fence {
	return fence{
		Image:              n.Master.Images.AWSCLI,
		PollSeconds:        int(facts.FencerPollInterval / time.Second),
		LeaderSeconds:      int(facts.MarathonLeaderProbeTimeout / time.Second),
		ConfirmPollSeconds: int(fenceConfirmPoll / time.Second),
		ConfirmAttempts:    int(facts.FenceConfirmTimeout / fenceConfirmPoll),
		Prefix:             facts.FenceLogPrefix,
		Lost:               facts.FenceEventLost, Fencing: facts.FenceEventFencing,
		Fenced: facts.FenceEventFenced, Failed: facts.FenceEventFailed,
		NoInstance:   facts.FenceNoInstance,
		TagClusterID: facts.TagClusterID, TagRole: facts.TagRole, RoleAgent: facts.RoleAgent,
	}
}

// Values the templates read; methods keep them next to their source.

func (*node) BootScript() string             { return bootScript }
func (*node) ImageScript() string            { return imageScript }
func (*node) ImageDoneDir() string           { return imageDoneDir }
func (*node) ImageDoneMarker() string        { return imageDoneFile }
func (*node) LibScript() string              { return libScript }
func (*node) NodeEnv() string                { return nodeEnv }
func (*node) ReadyCheck() string             { return facts.ReadyCheckCommand }
func (*node) BlockMetadataScript() string    { return blockMetadata }
func (*node) MetadataAddress() string        { return facts.InstanceMetadataAddress }
func (*node) ReadyMarker() string            { return facts.ReadyMarkerPath }
func (*node) FailedPrefix() string           { return facts.BootFailedPrefix }
func (*node) BootLogFormat() string          { return bootlog.ShellFormat }
func (*node) Schema1Env() string             { return facts.DockerSchema1Env }
func (*node) DockerHubRateLimitCode() string { return facts.DockerHubRateLimitCode }
func (*node) DockerHubPullsPerHour() int     { return facts.DockerHubAnonymousPullsPerHour }
func (*node) DockerAptKeyURL() string        { return facts.DockerAptKeyURL }
func (*node) DockerAptKeyPath() string       { return facts.DockerAptKeyPath }
func (*node) DockerAptKeyFingerprint() string {
	return facts.DockerAptKeyFingerprint
}

// DockerAptSource is the apt source line of Docker's repository, signed by
// its key alone (docker/docker-install install.sh).
func (*node) DockerAptSource() string {
	return fmt.Sprintf("deb [arch=amd64 signed-by=%s] %s %s %s",
		facts.DockerAptKeyPath, facts.DockerAptRepository, facts.DockerAptSuite, facts.DockerAptComponent)
}
func (*node) FlockerCertDir() string      { return facts.FlockerCertDir }
func (*node) FlockerDataPath() string     { return facts.FlockerDataPath }
func (*node) FlockerPluginSocket() string { return flockerPluginSocket }
func (*node) RexRayAlias() string         { return facts.DockerVolumeDriverName[facts.VolumeDriverRexRay] }
func (*node) SelfFenceUnit() string       { return facts.SelfFenceUnit }
func (*node) SelfFenceScript() string     { return selfFenceScript }
func (*node) SelfFenceMarker() string     { return facts.SelfFenceMarker }
func (*node) MesosAgentUnit() string      { return facts.MesosAgentUnit }
func (*node) MesosContainerPrefix() string {
	return facts.MesosContainerPrefix
}
func (*node) DockerPluginsDir() string   { return facts.DockerPluginsDir }
func (*node) RexRayVolumeMounts() string { return facts.RexRayVolumeMounts }
func (*node) FlockerMountRoot() string   { return facts.FlockerMountRoot }
func (*node) WritebackSysctl() string    { return writebackSysctl }
func (*node) JournalCommitUnit() string  { return facts.JournalCommitUnit }
func (*node) JournalCommitScript() string {
	return journalCommitScript
}
func (*node) JournalCommitSeconds() int { return int(facts.AgentJournalCommit / time.Second) }
func (*node) JournalCheckSeconds() int  { return int(journalCommitCheck / time.Second) }
func (*node) FenceLogPrefix() string    { return facts.FenceLogPrefix }
func (*node) FenceEventSelfFenced() string {
	return facts.FenceEventSelfFenced
}

// SelfFenceProbeInterval and SelfFenceProbeTimeout are the self-fence's
// probe period and per-master curl timeout, in whole seconds (sleep and
// curl --max-time).
func (*node) SelfFenceProbeInterval() int { return int(facts.SelfFenceProbeInterval / time.Second) }
func (*node) SelfFenceProbeTimeout() int  { return int(facts.SelfFenceProbeTimeout / time.Second) }

// Centisecs is d in centiseconds, the unit of vm.dirty_*_centisecs.
func (*node) Centisecs(d time.Duration) int      { return int(d / (10 * time.Millisecond)) }
func (*node) AgentDirtyExpire() time.Duration    { return facts.AgentDirtyExpire }
func (*node) AgentDirtyWriteback() time.Duration { return facts.AgentDirtyWriteback }
func (*node) ReadyDelaySeconds() int             { return int(readyDelay / time.Second) }
func (*node) ReadyAttempts() int                 { return int(facts.BootReadyTimeout / readyDelay) }
func (*node) ReadyLogEvery() int                 { return int(readyLogEvery / readyDelay) }

// Ensemble reports whether the masters form a ZooKeeper ensemble (more
// than one master).
func (n *node) Ensemble() bool { return len(n.Masters) > 1 }

// ZooKeeperURL is the ZooKeeper URL of a znode path ("mesos", "marathon")
// as a shell word, for the masters' --zk and --master flags. A one-master
// cluster's ZooKeeper is the node's own, reached at the private address
// the boot read ("${PRIVATE_IP}", as before masters were counted); an
// ensemble's is every master's fixed address, in the format Mesos and
// Marathon read: zk://host1:port1,host2:port2,.../path (apache/mesos 1.4.1
// docs/high-availability.md; mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/ZookeeperConf.scala ZKUrlPattern).
func (n *node) ZooKeeperURL(path string) string {
	if !n.Ensemble() {
		return fmt.Sprintf(`"zk://${PRIVATE_IP}:%d/%s"`, facts.ZooKeeperClientPort, path)
	}
	return shellQuote(zooKeeperURL(n.Masters, path))
}

// ZooKeeperServers is the value of ZOO_SERVERS, the ensemble: one
// server.N=host:peerPort:electionPort per master, N its Index, separated by
// spaces. The image's entrypoint writes each word as a line of zoo.cfg
// ("for server in $ZOO_SERVERS; do echo "$server" >> "$CONFIG"",
// 31z4/zookeeper-docker 3.4.14/docker-entrypoint.sh@95e63be), and
// ZooKeeper reads server.x=[hostname]:nnnnn[:nnnnn] (apache/zookeeper
// release-3.4.14 zookeeperAdmin.md). Every server has the same list,
// itself included, as the admin guide asks.
func (n *node) ZooKeeperServers() string {
	servers := make([]string, len(n.Masters))
	for i, ip := range n.Masters {
		servers[i] = fmt.Sprintf("server.%d=%s:%d:%d", i+1, ip, facts.ZooKeeperPeerPort, facts.ZooKeeperElectionPort)
	}
	return strings.Join(servers, " ")
}

// zooKeeperURL is zk://host1:2181,host2:2181,.../path over the masters.
func zooKeeperURL(masters []string, path string) string {
	hosts := make([]string, len(masters))
	for i, ip := range masters {
		hosts[i] = fmt.Sprintf("%s:%d", ip, facts.ZooKeeperClientPort)
	}
	return "zk://" + strings.Join(hosts, ",") + "/" + path
}

// Ports are the ports the templates use, all from facts.
func (*node) Ports() map[string]int {
	return map[string]int{
		"ZooKeeper":          facts.ZooKeeperClientPort,
		"ZooKeeperPeer":      facts.ZooKeeperPeerPort,
		"ZooKeeperElection":  facts.ZooKeeperElectionPort,
		"MarathonLibprocess": facts.MarathonLibprocessPort,
		"MesosMaster":        facts.MesosMasterPort,
		"MesosAgent":         facts.MesosAgentPort,
		"Marathon":           facts.MarathonPort,
		"FlockerAPI":         facts.FlockerControlAPIPort,
		"FlockerAgent":       facts.FlockerControlAgentPort,
	}
}

// masterPulls are the images a master pulls at boot, in order.
func masterPulls(images MasterImages, flockerControl bool) []string {
	pulls := []string{images.ZooKeeper, images.MesosMaster, images.Marathon, images.AWSCLI}
	if flockerControl {
		pulls = append(pulls, images.FlockerControl)
	}
	return pulls
}

// agentPulls are the images an agent of driver pulls at boot, in order.
func agentPulls(driver string, images AgentImages, appImage string) []string {
	var pulls []string
	if driver == facts.VolumeDriverFlocker {
		pulls = []string{images.FlockerDatasetAgent, images.FlockerDockerPlugin}
	}
	return append(pulls, images.MesosAgent, images.MesosExecutor, appImage)
}

// NodeImages are every image the nodes of driver pull at boot: the
// masters' (with Flocker, the control service's too) and the agents', each
// once. An image prepared with them (RenderImage) spares every node its
// pulls.
func NodeImages(driver string, master MasterImages, agent AgentImages, appImage string) []string {
	var out []string
	for _, image := range append(masterPulls(master, driver == facts.VolumeDriverFlocker), agentPulls(driver, agent, appImage)...) {
		if !slices.Contains(out, image) {
			out = append(out, image)
		}
	}
	return out
}

// ImageInput is what the user data of an image-preparing instance depends
// on (RenderImage).
type ImageInput struct {
	VolumeDriver string // facts.VolumeDriverFlocker or facts.VolumeDriverRexRay
	// Images are every container image a node of the driver pulls at boot,
	// masters' and agents' alike.
	Images []string
}

// RenderImage returns the #cloud-config user data that makes an instance
// of Canonical's Ubuntu 20.04 AMI into an image for the nodes of in's
// volume driver: the boot's install-packages step (so the same pins,
// including awscli for Flocker's certificates), every image pulled, then a
// power-off. A node booted from the image finds it all present and skips
// those steps; nothing of a node (address, certificates, services, the
// REX-Ray plugin, whose settings name a region) is in it.
func RenderImage(in ImageInput) ([]byte, error) {
	if !slices.Contains(facts.VolumeDrivers, in.VolumeDriver) {
		return nil, fmt.Errorf("rendering image user data: invalid VolumeDriver %q: want one of %s", in.VolumeDriver, strings.Join(facts.VolumeDrivers, ", "))
	}
	if len(in.Images) == 0 {
		return nil, errors.New("rendering image user data: no Images: an image without them saves only the packages")
	}
	named := make([]namedValue, len(in.Images))
	for i, image := range in.Images {
		named[i] = namedValue{fmt.Sprintf("Images[%d]", i), image}
	}
	if err := validateImages(named); err != nil {
		return nil, fmt.Errorf("rendering image user data: %w", err)
	}
	n := newNode("image", "image", "", "", "", in.VolumeDriver, nil)
	if in.VolumeDriver == facts.VolumeDriverFlocker {
		// Flocker's nodes read their certificates with the AWS CLI.
		n.ArchivePins = append(n.ArchivePins, facts.AWSCLIPackage+"="+facts.AWSCLIPackageVersion)
		n.HeldPackages = append(n.HeldPackages, facts.AWSCLIPackage)
	}
	for _, image := range in.Images {
		if !slices.Contains(n.Pulls, image) {
			n.Pulls = append(n.Pulls, image)
		}
	}
	doc, err := n.renderDocument("image-cloud-config.yaml.tmpl", []part{
		{dockerDrop, "0644", "docker-dropin.conf.tmpl"},
		{blockMetadata, "0755", "block-metadata.sh.tmpl"},
		{libScript, "0644", "lib.sh.tmpl"},
		{imageScript, "0755", "image.sh.tmpl"},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("rendering image user data: %w", err)
	}
	return doc, nil
}

// part is a file rendered from a template with the node.
type part struct{ path, perm, tmpl string }

// render assembles a node's files and the cloud-config document around them.
func (n *node) render(extra []file) ([]byte, error) {
	parts := []part{
		{dockerDrop, "0644", "docker-dropin.conf.tmpl"},
		{blockMetadata, "0755", "block-metadata.sh.tmpl"},
		{libScript, "0644", "lib.sh.tmpl"},
		{bootScript, "0755", "boot.sh.tmpl"},
		{facts.ReadyCheckCommand, "0755", "ready.sh.tmpl"},
	}
	for _, s := range n.Services {
		parts = append(parts, part{s.RunScript(), "0755", "run-" + s.Name + ".tmpl"})
	}
	var files []file // each service's unit, then extra
	for _, s := range n.Services {
		unit := "unit.service.tmpl"
		if s.OnHost {
			unit = "host-unit.service.tmpl"
		}
		content, err := execute(unit, s)
		if err != nil {
			return nil, err
		}
		files = append(files, file{Path: unitDir + "/" + s.Name + ".service", Perm: "0644", Content: content})
	}
	return n.renderDocument("cloud-config.yaml.tmpl", parts, append(files, extra...))
}

// renderDocument renders parts with the node, then the document template
// around them and the extra files, and checks it fits EC2's user data.
func (n *node) renderDocument(document string, parts []part, extra []file) ([]byte, error) {
	n.Files = nil
	for _, p := range parts {
		content, err := execute(p.tmpl, n)
		if err != nil {
			return nil, err
		}
		n.Files = append(n.Files, file{Path: p.path, Perm: p.perm, Content: content})
	}
	n.Files = append(n.Files, extra...)
	doc, err := execute(document, n)
	if err != nil {
		return nil, err
	}
	if _, err := EncodeForEC2([]byte(doc)); err != nil {
		return nil, err
	}
	return []byte(doc), nil
}

func execute(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("executing template %s: %w", name, err)
	}
	return b.String(), nil
}

// flockerAgentConfig is agent.yml for Flocker's AWS backend
// (ClusterHQ/flocker docs/flocker-features/aws-configuration.rst). The keys
// are empty on purpose: boto3 1.3.1 (Flocker 1.15.0's pin,
// requirements/flocker.txt) only sets credentials when one of them is
// non-empty (boto/boto3 boto3/session.py@1.3.1), so empty ones should fall back to the instance profile through IMDSv1. UNVERIFIED: no
// one has run Flocker 1.15 this way; Flocker's FAQ says IAM roles are not
// supported, and its node script only checks that the keys are present.
func flockerAgentConfig(in AgentInput) (string, error) {
	type controlService struct {
		Hostname string `yaml:"hostname"`
		Port     int    `yaml:"port"`
	}
	type dataset struct {
		Backend         string `yaml:"backend"`
		Region          string `yaml:"region"`
		Zone            string `yaml:"zone"`
		AccessKeyID     string `yaml:"access_key_id"`
		SecretAccessKey string `yaml:"secret_access_key"`
	}
	cfg := struct {
		Version        int            `yaml:"version"`
		ControlService controlService `yaml:"control-service"`
		Dataset        dataset        `yaml:"dataset"`
	}{
		Version:        1,
		ControlService: controlService{Hostname: in.Masters[facts.FlockerControlMaster-1], Port: facts.FlockerControlAgentPort},
		Dataset:        dataset{Backend: "aws", Region: in.Region, Zone: in.Zone},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding %s/agent.yml: %w", facts.FlockerCertDir, err)
	}
	const note = "# The AWS keys are empty on purpose: boto3 1.3.1 then falls back to the\n" +
		"# instance profile through IMDSv1. UNVERIFIED with Flocker 1.15.\n"
	return note + string(out), nil
}

// mesosDuration formats d the way Mesos parses durations (stout's
// Duration::parse: a number followed by ns, us, ms, secs, mins, hrs, ...).
func mesosDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "mins"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "secs"
	default:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
}

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// indent prefixes every non-empty line of s with n spaces and drops the final
// newline, for a YAML block scalar.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}
