// Package bootbudget is the time a stack should take from the start of
// `pulumi up` to the app answering through the ELB: each step with where
// its duration comes from, the total against the 6-minute goal, and the
// judgement of a measured boot against both.
//
// The path has three phases, as the rehearsal splits its measurement
// (internal/rehearsal BootTimeline): Pulumi's create up to the last
// instance's launch; the nodes' boot, masters and agents side by side, so
// the slower role's sum counts; then what the app deployment still has to
// do once the last node is ready. Few of the inputs are published numbers:
// each Basis says whether a duration is a setting of ours, derived from
// sourced figures, or an estimate the rehearsal on AWS is there to check.
package bootbudget

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
)

// Goal is the longest `pulumi up` may take until the app serves (issue
// 13): 6 minutes.
const Goal = 6 * time.Minute

// Phases of the path, in order.
const (
	PhaseCreate = "create"
	PhaseBoot   = "boot"
	PhaseDeploy = "deploy"
)

// StepOS is the budget step for what happens before the boot script: EC2
// starts the instance and Ubuntu boots to cloud-init's runcmd. It is
// measured as the uptime the boot's first console line carries.
const StepOS = "os"

// Image is where a node's packages and container images come from.
type Image string

// The two images a stack can boot (amiId): Canonical's Ubuntu, which the
// boot completes from the network, and one made by scripts/prepare-ami,
// which already holds the packages, the container images and a seeded snapd.
const (
	ImageCanonical Image = "canonical"
	ImagePrepared  Image = "prepared"
)

// Images are both, in the order docs/boot-budget.md shows them.
var Images = []Image{ImageCanonical, ImagePrepared}

// Step is one part of the budget.
type Step struct {
	Phase string `json:"phase"`
	// Role is the node role a boot step belongs to (facts.RoleMaster or
	// facts.RoleAgent); empty outside the boot phase.
	Role string `json:"role,omitempty"`
	// Name is the boot's own step name (internal/bootlog, as the console
	// prints it) for a boot step, StepOS, or a description.
	Name     string        `json:"name"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Basis    string        `json:"basis"`
}

// Budget is the up-to-serving budget of one volume driver.
type Budget struct {
	Driver string `json:"driver"`
	Image  Image  `json:"image"`
	Steps  []Step `json:"steps"`
	// Create, Boot and Deploy are the phases' durations; Boot is the
	// slower role's sum (Slowest), the roles booting side by side.
	Create, Boot, Deploy, Total time.Duration `json:"-"`
	Slowest                     string        `json:"slowestRole"`
	CreateSeconds               float64       `json:"createSeconds"`
	BootSeconds                 float64       `json:"bootSeconds"`
	DeploySeconds               float64       `json:"deploySeconds"`
	TotalSeconds                float64       `json:"totalSeconds"`
	GoalSeconds                 float64       `json:"goalSeconds"`
}

// Estimates that no setting of ours decides; each is stated with what it
// rests on in the step's Basis.
const (
	createEstimate = 60 * time.Second
	osBootEstimate = 45 * time.Second
	// snapSeedingEstimate: on Canonical's image cloud-init's config and
	// final stages, and so the boot script in runcmd, wait for snapd to
	// seed the image's snaps (cloud-config.service After=snapd.seeded.service:
	// canonical/cloud-init PR #4687, which restored that order; issue #3397,
	// cloud-final waiting on a seeding job). An image made by prepare-ami
	// has seeded once already.
	snapSeedingEstimate  = 15 * time.Second
	packagesEstimate     = 40 * time.Second
	heldPackagesEstimate = 3 * time.Second
	awscliEstimate       = 10 * time.Second
	nodeAddressEstimate  = 1 * time.Second
	certificatesEstimate = 5 * time.Second
	masterPullsEstimate  = 90 * time.Second
	mesosPullsEstimate   = 40 * time.Second
	flockerPullsEstimate = 60 * time.Second
	presentPullsEstimate = 2 * time.Second
	pluginEstimate       = 15 * time.Second
	agentStartEstimate   = 2 * time.Second
	masterReadyEstimate  = 30 * time.Second
	// lazyLoadEstimate: a prepared image's blocks, its container images
	// included, come from its snapshot on first read ("Initialize Amazon
	// EBS volumes", EBS User Guide: the first access of each block is
	// fetched from S3); Marathon's JVM reads its jars that way.
	lazyLoadEstimate     = 10 * time.Second
	agentReadyEstimate   = 10 * time.Second
	volumeCreateEstimate = 5 * time.Second
)

// The default m4.large's disk: its dedicated EBS bandwidth is 450 Mbit/s
// (EC2 User Guide, "Amazon EBS-optimized instance types"), 56.25 MB/s,
// below the gp3 root volume's 125 MB/s baseline, so it bounds every write
// of a pull. marathonUnpacked is Marathon's image unpacked
// (d2iq-archive/marathon#5159).
const (
	m4LargeEBSBytesPerSecond = 450e6 / 8
	marathonUnpackedBytes    = 1.6e9
)

// marathonWriteFloor is the time an m4.large takes to write Marathon's
// unpacked image, whatever the network does.
func marathonWriteFloor() time.Duration {
	seconds := marathonUnpackedBytes / m4LargeEBSBytesPerSecond
	return time.Duration(seconds * float64(time.Second)).Round(time.Second)
}

// Flocker 1.15.0's first volume: without a size option its Docker plugin
// asks for DEFAULT_SIZE, 75 GiB (flocker/dockerplugin/_api.py:51,
// RACKSPACE_MINIMUM_VOLUME_SIZE in flocker/common/__init__.py:51); its EBS
// backend sleeps 5 s before it first polls a create or an attach, then
// polls every second (flocker/node/agents/ebs.py:719
// _wait_for_volume_state_change).
const (
	flockerStateSleep   = 5 * time.Second
	flockerMkfsEstimate = 8 * time.Second
)

// New is the budget of a stack on Canonical's image whose app volume is
// moved by driver: the default stack, which the rehearsal boots.
func New(driver string) (Budget, error) { return NewFor(driver, ImageCanonical) }

// NewFor is the budget of a stack booting image whose app volume is moved
// by driver.
func NewFor(driver string, image Image) (Budget, error) {
	if !slices.Contains(facts.VolumeDrivers, driver) {
		return Budget{}, fmt.Errorf("boot budget: volume driver %q is not one of %s", driver, strings.Join(facts.VolumeDrivers, ", "))
	}
	if !slices.Contains(Images, image) {
		return Budget{}, fmt.Errorf("boot budget: image %q is neither %s nor %s", image, ImageCanonical, ImagePrepared)
	}
	flocker := driver == facts.VolumeDriverFlocker
	steps := []Step{{Phase: PhaseCreate, Name: "Pulumi creates the network, IAM role, key pair and SSM parameters, then launches the instances",
		Duration: createEstimate, Basis: "estimate, no published figure: about twenty resources before the instances, which wait for their instance profile; the rehearsal measures it"}}
	for _, role := range []string{facts.RoleMaster, facts.RoleAgent} {
		steps = append(steps, nodeSteps(role, flocker, image)...)
	}
	steps = append(steps, deploySteps(flocker)...)

	b := Budget{Driver: driver, Image: image, GoalSeconds: Goal.Seconds()}
	perRole := map[string]time.Duration{}
	for i := range steps {
		s := &steps[i]
		s.Seconds = s.Duration.Seconds()
		switch s.Phase {
		case PhaseCreate:
			b.Create += s.Duration
		case PhaseBoot:
			perRole[s.Role] += s.Duration
		case PhaseDeploy:
			b.Deploy += s.Duration
		}
	}
	for _, role := range []string{facts.RoleMaster, facts.RoleAgent} {
		if perRole[role] > b.Boot {
			b.Boot, b.Slowest = perRole[role], role
		}
	}
	b.Steps = steps
	b.Total = b.Create + b.Boot + b.Deploy
	b.CreateSeconds, b.BootSeconds, b.DeploySeconds, b.TotalSeconds = b.Create.Seconds(), b.Boot.Seconds(), b.Deploy.Seconds(), b.Total.Seconds()
	return b, nil
}

// nodeSteps are one role's boot, in the order the boot script runs them
// (userdata/templates/boot.sh.tmpl), named as its console lines name them.
func nodeSteps(role string, flocker bool, image Image) []Step {
	step := func(name string, d time.Duration, basis string) Step {
		return Step{Phase: PhaseBoot, Role: role, Name: name, Duration: d, Basis: basis}
	}
	prepared := image == ImagePrepared
	osBoot := step(StepOS, osBootEstimate,
		"derived: RunInstances to SSH 26-29 s on EC2 (daemonology.net EC2 boot time benchmarking, 2021; brevdev/ec2-coldboot-research, Amazon Linux 2023), "+
			"kernel to cloud-init's final stage about 23 s in cloud-init's own example (canonical/cloud-init doc/rtd/topics/analyze.rst at 22.3.1); Ubuntu boots slower than Amazon Linux")
	if !prepared {
		osBoot.Duration += snapSeedingEstimate
		osBoot.Basis += fmt.Sprintf("; plus %s (estimate) of snap seeding, which cloud-init's config and final stages wait for on Canonical's image "+
			"(After=snapd.seeded.service: canonical/cloud-init PR #4687, issue #3397)", snapSeedingEstimate)
	}
	packages := step("install-packages", packagesEstimate,
		"derived: apt-get update about 7 s (15.6 MB from the EC2 regional mirror in 7 s, alphagov/prometheus-aws-configuration-beta#311) plus Docker's own repository's key and index; "+
			"Docker's three packages, about 70 MB (the same versions' Debian 12 builds: 69.9 MB), come from download.docker.com (userdata install-packages: mha_docker_apt_repo), not the regional mirror: no published speed from EC2, estimate 10 s; "+
			"unpacking, configuring and Docker's restart: estimate 20 s. UNVERIFIED: apt-daily on a first boot may hold the dpkg lock (the boot waits up to 300 s, DPkg::Lock::Timeout)")
	if prepared {
		packages = step("install-packages", heldPackagesEstimate,
			"every package is already at its pinned version (\"no apt step\"): apt-mark hold, systemd's reload and Docker's restart")
	}
	if flocker && !prepared {
		packages.Duration += awscliEstimate
		packages.Basis += "; awscli and its Python dependencies, for the certificates: estimate 10 s"
	}
	steps := []Step{osBoot, packages, step("node-address", nodeAddressEstimate, "two instance-metadata calls")}
	if flocker {
		steps = append(steps, step("fetch-certificates", certificatesEstimate, "estimate: one aws ssm get-parameter per certificate file, each a Python start of about a second"))
	}
	pullBasis := "dockerd downloads three layers at a time for all pulls together (max-concurrent-downloads 3, moby/moby daemon/config/config.go at v26.1.4) and extracts each image's layers in order (distribution/xfer/download.go), with unpigz (pigz is installed)"
	pulls := func(d time.Duration, basis string) Step {
		if prepared {
			return step("pull-images", presentPullsEstimate, "every image is in the prepared image: each pull job finds it present (userdata lib mha_pull_job) and downloads nothing")
		}
		return step("pull-images", d, basis)
	}
	ebsFloor := marathonWriteFloor()
	masterReady := step("wait-ready", masterReadyEstimate,
		"estimate: Marathon's JVM serves HTTP about 13 s after it starts (d2iq-archive/marathon#7136), then wins its election through ZooKeeper (zk_timeout 10 s, MarathonConf at v1.4.9); "+
			"the Mesos master is elected within milliseconds once ZooKeeper answers (mesoscloud/mesos-master#9)")
	if prepared {
		masterReady.Duration += lazyLoadEstimate
		masterReady.Basis += fmt.Sprintf("; plus %s (estimate): the images' blocks are read from the AMI's snapshot on first access (EBS User Guide, \"Initialize Amazon EBS volumes\")", lazyLoadEstimate)
	}
	switch {
	case role == facts.RoleMaster:
		steps = append(steps, pulls(masterPullsEstimate,
			fmt.Sprintf("derived: on the default m4.large the disk bounds it, not Docker Hub: 450 Mbit/s of EBS bandwidth, %.2f MB/s (EC2 User Guide, EBS-optimized instance types), below gp3's 125 MB/s, "+
				"so writing %s's 1.6 GB unpacked (d2iq-archive/marathon#5159) alone takes %s, and the compressed layers are written before it; "+
				"%s (115 MB compressed, docker-library/repo-info), %s and the fencer's %s (sizes UNVERIFIED) are written beside it; downloads of 29-190 MB/s from Docker Hub (mountebank-testing/mountebank#580, moby/moby#21814) are not the limit; estimate %s; %s",
				m4LargeEBSBytesPerSecond/1e6, facts.MarathonImage, ebsFloor, facts.ZooKeeperImage, facts.MesosMasterImage, facts.AWSCLIImage, masterPullsEstimate, pullBasis)),
			masterReady)
	case flocker:
		steps = append(steps, pulls(flockerPullsEstimate,
			"derived: "+facts.MesosAgentImage+" and "+facts.MesosExecutorImage+" share all but their last layer (mesosphere/docker-containers mesos/dockerfile-templates), about 524 MB unpacked for an image of that template (mesosphere-backup/docker-containers#33); "+
				"the three Flocker images share clusterhq/flocker-core:1.14.0, Ubuntu 14.04 with build tools (ClusterHQ/flocker-coreos flocker-bits); estimate 60 s; "+pullBasis))
	default:
		steps = append(steps, pulls(mesosPullsEstimate,
			"derived: "+facts.MesosAgentImage+" and "+facts.MesosExecutorImage+" share all but their last layer (mesosphere/docker-containers mesos/dockerfile-templates), about 524 MB unpacked for an image of that template (mesosphere-backup/docker-containers#33); "+
				facts.AppImage+" is small; estimate 40 s; "+pullBasis),
			step("install-volume-plugin", pluginEstimate, "estimate: "+facts.RexRayEBSPlugin+" is one layer (rexray/rexray#1174); install, enable, and the plugin's first EC2 calls"))
	}
	if role == facts.RoleAgent {
		steps = append(steps,
			step("start-services", agentStartEstimate, "systemd counts a Type=simple unit started once its process is forked (systemd.service(5))"),
			step("wait-ready", agentReadyEstimate, "estimate: the Mesos agent registers with the leading master, the volume driver answers"))
	}
	return steps
}

// deploySteps are what the app deployment still does after the last node
// is ready.
func deploySteps(flocker bool) []Step {
	volume := Step{Phase: PhaseDeploy, Name: "REX-Ray creates the app's EBS volume and attaches it", Duration: volumeCreateEstimate + facts.RexRayVolumeMoveEstimate,
		Basis: fmt.Sprintf("estimate: CreateVolume until available %s, then the attach and mount of a failover (%s)", volumeCreateEstimate, facts.RexRayVolumeMoveEstimate)}
	if flocker {
		// Create and attach each wait flockerStateSleep before their first
		// poll and one poll after it; the new 75 GiB volume then gets its
		// file system before the mount of a failover.
		d := 2*(flockerStateSleep+time.Second) + flockerMkfsEstimate + facts.FlockerAttachEstimate
		volume = Step{Phase: PhaseDeploy, Name: "Flocker creates the dataset's 75 GiB EBS volume, attaches it and makes its file system", Duration: d,
			Basis: fmt.Sprintf("derived: the Docker plugin asks for 75 GiB (no size option; flocker/dockerplugin/_api.py DEFAULT_SIZE); CreateVolume and AttachVolume each wait %s before their first poll and poll every 1 s (flocker/node/agents/ebs.py:719); "+
				"mkfs of 75 GiB: estimate %s; then the mount of a failover (%s)", flockerStateSleep, flockerMkfsEstimate, facts.FlockerAttachEstimate)}
	}
	return []Step{
		{Phase: PhaseDeploy, Name: "deploy-app sees Marathon's leader and posts the app", Duration: marathon.DefaultPollInterval,
			Basis: fmt.Sprintf("deploy-app asks every %s (internal/marathon DefaultPollInterval); usually posted already, while the agents boot", marathon.DefaultPollInterval)},
		{Phase: PhaseDeploy, Name: "Mesos offers the agent and Marathon launches the task", Duration: facts.MarathonRelaunchEstimate,
			Basis: "estimate: the next offer within the 1 s allocation interval"},
		volume,
		{Phase: PhaseDeploy, Name: "the container starts", Duration: facts.ContainerStartEstimate,
			Basis: "estimate: image pulled at boot, docker run and node start"},
		{Phase: PhaseDeploy, Name: "the ELB marks the agent healthy", Duration: facts.ELBHealthInterval * facts.ELBHealthyThreshold,
			Basis: fmt.Sprintf("health-check interval %s x healthy threshold %d", facts.ELBHealthInterval, facts.ELBHealthyThreshold)},
	}
}

// NodeStep is the budget of a role's boot step by the console's name.
func (b Budget) NodeStep(role, name string) (Step, bool) {
	for _, s := range b.Steps {
		if s.Phase == PhaseBoot && s.Role == role && s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// String prints the budget as the tools and the README show it.
func (b Budget) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "up-to-serving budget %s (%s), goal %s:\n", b.Total, b.Driver, Goal)
	phase := ""
	for _, s := range b.Steps {
		if s.Phase != phase {
			phase = s.Phase
			switch phase {
			case PhaseCreate:
				fmt.Fprintf(&sb, "  create %s\n", b.Create)
			case PhaseBoot:
				fmt.Fprintf(&sb, "  boot %s (the %s's; masters and agents boot side by side)\n", b.Boot, b.Slowest)
			case PhaseDeploy:
				fmt.Fprintf(&sb, "  app deployment %s\n", b.Deploy)
			}
		}
		name := s.Name
		if s.Role != "" {
			name = s.Role + " " + name
		}
		fmt.Fprintf(&sb, "    %5s  %s (%s)\n", s.Duration, name, s.Basis)
	}
	return sb.String()
}
