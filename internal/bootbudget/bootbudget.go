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
	createEstimate       = 60 * time.Second
	osBootEstimate       = 45 * time.Second
	packagesEstimate     = 35 * time.Second
	awscliEstimate       = 10 * time.Second
	nodeAddressEstimate  = 1 * time.Second
	certificatesEstimate = 5 * time.Second
	masterPullsEstimate  = 75 * time.Second
	mesosPullsEstimate   = 40 * time.Second
	flockerPullsEstimate = 60 * time.Second
	pluginEstimate       = 15 * time.Second
	agentStartEstimate   = 2 * time.Second
	masterReadyEstimate  = 30 * time.Second
	agentReadyEstimate   = 10 * time.Second
	volumeCreateEstimate = 5 * time.Second
)

// New is the budget of a stack whose app volume is moved by driver.
func New(driver string) (Budget, error) {
	if !slices.Contains(facts.VolumeDrivers, driver) {
		return Budget{}, fmt.Errorf("boot budget: volume driver %q is not one of %s", driver, strings.Join(facts.VolumeDrivers, ", "))
	}
	flocker := driver == facts.VolumeDriverFlocker
	steps := []Step{{Phase: PhaseCreate, Name: "Pulumi creates the network, IAM role, key pair and SSM parameters, then launches the instances",
		Duration: createEstimate, Basis: "estimate, no published figure: about twenty resources before the instances, which wait for their instance profile; the rehearsal measures it"}}
	for _, role := range []string{facts.RoleMaster, facts.RoleAgent} {
		steps = append(steps, nodeSteps(role, flocker)...)
	}
	steps = append(steps, deploySteps(flocker)...)

	b := Budget{Driver: driver, GoalSeconds: Goal.Seconds()}
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
func nodeSteps(role string, flocker bool) []Step {
	step := func(name string, d time.Duration, basis string) Step {
		return Step{Phase: PhaseBoot, Role: role, Name: name, Duration: d, Basis: basis}
	}
	packages := step("install-packages", packagesEstimate,
		"derived: apt-get update about 7 s (15.6 MB from the EC2 regional mirror in 7 s, alphagov/prometheus-aws-configuration-beta#311); "+
			"Docker's three packages about 70 MB (the same versions' Debian 12 builds: 69.9 MB), about 4 s at the 17.7 MB/s seen from a regional mirror (runs-on/runner-images-for-aws#61); "+
			"unpacking, configuring and Docker's restart: estimate 20 s")
	if flocker {
		packages.Duration += awscliEstimate
		packages.Basis += "; awscli and its Python dependencies, for the certificates: estimate 10 s"
	}
	steps := []Step{
		step(StepOS, osBootEstimate,
			"derived: RunInstances to SSH 26-29 s on EC2 (daemonology.net EC2 boot time benchmarking, 2021; brevdev/ec2-coldboot-research, Amazon Linux 2023), "+
				"kernel to cloud-init's final stage about 23 s in cloud-init's own example (canonical/cloud-init doc/rtd/topics/analyze.rst at 22.3.1); Ubuntu boots slower than Amazon Linux"),
		packages,
		step("node-address", nodeAddressEstimate, "two instance-metadata calls"),
	}
	if flocker {
		steps = append(steps, step("fetch-certificates", certificatesEstimate, "estimate: one aws ssm get-parameter per certificate file, each a Python start of about a second"))
	}
	pullBasis := "dockerd downloads three layers at a time for all pulls together (max-concurrent-downloads 3, moby/moby daemon/config/config.go at v26.1.4) and extracts each image's layers in order (distribution/xfer/download.go), with unpigz (pigz is installed)"
	switch {
	case role == facts.RoleMaster:
		steps = append(steps, step("pull-images", masterPullsEstimate,
			"derived: "+facts.MarathonImage+" is the largest, 1.6 GB unpacked (d2iq-archive/marathon#5159); downloads of 29-190 MB/s from Docker Hub (mountebank-testing/mountebank#580, moby/moby#21814) take 8-55 s for it; "+
				"a 1.5 GB image took 35-40 s to extract with Go's gzip (moby/moby#21814); "+facts.ZooKeeperImage+" (115 MB compressed, docker-library/repo-info), "+facts.MesosMasterImage+" and the fencer's "+facts.AWSCLIImage+" (Amazon Linux 2023 with the CLI; its size UNVERIFIED) download beside it; "+pullBasis),
			step("wait-ready", masterReadyEstimate,
				"estimate: Marathon's JVM serves HTTP about 13 s after it starts (d2iq-archive/marathon#7136), then wins its election through ZooKeeper (zk_timeout 10 s, MarathonConf at v1.4.9); "+
					"the Mesos master is elected within milliseconds once ZooKeeper answers (mesoscloud/mesos-master#9)"))
	case flocker:
		steps = append(steps, step("pull-images", flockerPullsEstimate,
			"derived: "+facts.MesosAgentImage+" and "+facts.MesosExecutorImage+" share all but their last layer (mesosphere/docker-containers mesos/dockerfile-templates), about 524 MB unpacked for an image of that template (mesosphere-backup/docker-containers#33); "+
				"the three Flocker images share clusterhq/flocker-core:1.14.0, Ubuntu 14.04 with build tools (ClusterHQ/flocker-coreos flocker-bits); estimate 60 s; "+pullBasis))
	default:
		steps = append(steps, step("pull-images", mesosPullsEstimate,
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
		volume = Step{Phase: PhaseDeploy, Name: "Flocker creates the dataset's EBS volume and attaches it", Duration: volumeCreateEstimate + facts.FlockerAttachEstimate,
			Basis: fmt.Sprintf("estimate: CreateVolume until available %s, then the attach and mount of a failover (%s)", volumeCreateEstimate, facts.FlockerAttachEstimate)}
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
