package config

import (
	"strconv"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Key describes one config key: Pulumi.yaml declares exactly these (a test
// compares the two) and the README's config reference is generated from them.
type Key struct {
	Name        string // without the project namespace
	Type        string // Pulumi.yaml type: string, integer or boolean
	Presence    Presence
	Default     string // the value Parse uses when unset; "" unless Presence is Defaulted
	Description string
}

// Presence says what happens when a key is unset, to the Pulumi CLI and to
// Parse.
//
// The CLI refuses to run a stack that lacks a value for any project key
// declared in Pulumi.yaml without a `default` ("Stack 'dev' is missing
// configuration values ..."), and applies every declared default, even "",
// to the stack's config (ValidateStackConfigAndApplyProjectConfig in
// pulumi/pulumi pkg/workspace/config.go@v3.263.0). So only Required keys go
// without a default in Pulumi.yaml; the optional ones declare `default: ""`,
// which Parse, like Load, reads as unset.
type Presence int

const (
	// Defaulted keys have a real default, declared in Pulumi.yaml and applied
	// by Parse alike.
	Defaulted Presence = iota
	// Optional keys may stay unset: the program looks a value up or does
	// without. Pulumi.yaml declares `default: ""`.
	Optional
	// OneOfKeyPair keys are KeyName and PublicKey: Parse wants exactly one of
	// the two set. Neither can be required by the CLI, so both are declared
	// with `default: ""`, like Optional keys.
	OneOfKeyPair
	// Required keys have no default: Pulumi.yaml declares none, so the CLI
	// itself asks for them before the program runs.
	Required
)

// DeclaresDefault reports whether Pulumi.yaml declares a `default` for the
// key, which is what makes the key optional to the Pulumi CLI.
func (k Key) DeclaresDefault() bool { return k.Presence != Required }

// Config key names, without the "marathon-ha:" namespace.
const (
	KeyAvailabilityZone     = "availabilityZone"
	KeyMasterCount          = "masterCount"
	KeyAgentCount           = "agentCount"
	KeyMasterInstanceType   = "masterInstanceType"
	KeyAgentInstanceType    = "agentInstanceType"
	KeyKeyName              = "keyName"
	KeyPublicKey            = "publicKey"
	KeyOperatorCIDR         = "operatorCidr"
	KeyOperatorCIDRIsWide   = "operatorCidrIsWide"
	KeyExposeFlockerAPI     = "exposeFlockerApi"
	KeyAMIID                = "amiId"
	KeyAMIOwner             = "amiOwner"
	KeyAMINameFilter        = "amiNameFilter"
	KeyRootVolumeSize       = "rootVolumeSizeGiB"
	KeyVolumeDriver         = "volumeDriver"
	KeyAppPort              = "appPort"
	KeyAppManifest          = "appManifest"
	KeyAgentPingTimeout     = "agentPingTimeoutSeconds"
	KeyMaxAgentPingTimeouts = "maxAgentPingTimeouts"
	KeySelfFence            = "selfFenceSeconds"
	KeyZooKeeperImage       = "zookeeperImage"
	KeyMesosMasterImage     = "mesosMasterImage"
	KeyMesosAgentImage      = "mesosAgentImage"
	KeyMesosExecutorImage   = "mesosExecutorImage"
	KeyMarathonImage        = "marathonImage"
	KeyFlockerControlImage  = "flockerControlImage"
	KeyFlockerAgentImage    = "flockerDatasetAgentImage"
	KeyFlockerPluginImage   = "flockerPluginImage"
	KeyRexRayPlugin         = "rexrayPlugin"
	KeyAWSCLIImage          = "awsCliImage"
	KeyAppImage             = "appImage"
	// KeyConfirmVolumeDriverSwitch confirms that switching volumeDriver
	// deletes the app's data (components/driverswitch.go).
	KeyConfirmVolumeDriverSwitch = "confirmVolumeDriverSwitch"
	// KeyRegion is the AWS provider's own key; it has no schema in Pulumi.yaml.
	KeyRegion = "aws:region"
	// KeyProfile is the AWS provider's shared-config profile (optional, no
	// schema in Pulumi.yaml either). The provider reads it; the program only
	// hands it to the volume clean-up, so that `pulumi destroy` looks for
	// volumes with the same credentials the provider created the stack with.
	KeyProfile = "aws:profile"
)

// Defaults that are not facts of their own.
const (
	// DefaultMasterCount is the 2015 demo's single master: the cheapest
	// cluster, and one whose master is a single point of failure.
	DefaultMasterCount = 1
	DefaultAgentCount  = 2
	// MaxAgentCount keeps a demo from becoming a bill: 10 m4.large agents
	// already cost about 1 USD an hour.
	MaxAgentCount = 10
	// DefaultInstanceType is Xen-based (Flocker cannot see NVMe devices,
	// domain.md 3.2) with 8 GiB for Marathon's JVM and the containers.
	DefaultInstanceType = "m4.large"
	// DefaultRootVolumeGiB holds the images (Marathon alone is ~1 GiB).
	DefaultRootVolumeGiB = 30
	// MinRootVolumeGiB is the size of the Ubuntu AMI's own snapshot.
	MinRootVolumeGiB = 8
	// DefaultVolumeDriver is REX-Ray: the driver whose artefacts still
	// install today (domain.md section 5.1); flocker reproduces the demo.
	DefaultVolumeDriver = facts.VolumeDriverRexRay
)

// everyAgentOneAtATime is how a change of the agents' boot replaces them:
// Flocker's fixed instances are replaced by the engine, REX-Ray's by the
// Auto Scaling group's instance refresh, which a new version of its launch
// template starts (components/autoscaling.go).
const everyAgentOneAtATime = "every agent (REX-Ray's one at a time, by the group's instance refresh)"

// replacesEveryAgent ends the description of a key of the agents' boot.
const replacesEveryAgent = "replaces " + everyAgentOneAtATime

// Keys lists every project config key with its type, presence, default and
// meaning.
var Keys = []Key{
	{KeyAvailabilityZone, "string", Optional, "", "Zone for every node (EBS volumes attach only in their own zone). Default: the first Availability Zone (never a Local Zone) offering both instance types, chosen on the first `pulumi up` and kept in the stack's state. A stack cannot move: on a running stack the preview refuses another zone (the subnet would conflict and the app's volume stays behind); create a new stack there instead."},
	{KeyMasterCount, "integer", Defaulted, strconv.Itoa(DefaultMasterCount), "Number of masters, each running ZooKeeper, a Mesos master and Marathon: " + masterCounts() + ". Three survive the loss of any one master, five of any two; one is the demo's cost. Choose it when creating the stack: changing it replaces every master (with an empty ZooKeeper) and, as their user data lists the masters, " + everyAgentOneAtATime + "."},
	{KeyAgentCount, "integer", Defaulted, strconv.Itoa(DefaultAgentCount), "Number of Mesos agents, 2 to " + strconv.Itoa(MaxAgentCount) + ": failover needs somewhere to go."},
	{KeyMasterInstanceType, "string", Defaulted, DefaultInstanceType, "EC2 instance type of the masters; changing it stops and starts every master in place."},
	{KeyAgentInstanceType, "string", Defaulted, DefaultInstanceType, "EC2 instance type of the agents: a Xen type (t2, m4, c4, r4, ...). Neither Flocker nor REX-Ray 0.11.4 on Ubuntu 20.04 finds EBS volumes on Nitro (NVMe) types. Changing it stops and starts every Flocker agent in place, and with REX-Ray it replaces every agent, one at a time (a new launch template version: the group's instance refresh)."},
	{KeyKeyName, "string", OneOfKeyPair, "", "Name of an existing EC2 key pair in the region. Set exactly one of keyName and publicKey; switching between the two, or to another key pair, replaces every master and " + everyAgentOneAtATime + "."},
	{KeyPublicKey, "string", OneOfKeyPair, "", "OpenSSH public key (ssh-rsa or ssh-ed25519) to import as a new key pair. Set exactly one of keyName and publicKey. Rotating it re-imports the key pair under the same name and replaces no node: running nodes keep the key they booted with (add the new one to their ~/.ssh/authorized_keys), nodes launched later get the new one."},
	{KeyOperatorCIDR, "string", Required, "", "Required. CIDR allowed to reach SSH and the Mesos and Marathon UIs, e.g. 203.0.113.7/32. Must include the machine running `pulumi up`: it posts the app to Marathon. Broader than /" + strconv.Itoa(MinOperatorPrefixBits) + " only with operatorCidrIsWide."},
	{KeyOperatorCIDRIsWide, "boolean", Defaulted, "false", "Set true to accept an operatorCidr broader than /" + strconv.Itoa(MinOperatorPrefixBits) + ": SSH and Marathon's unauthenticated API are then open to every address in it."},
	{KeyExposeFlockerAPI, "boolean", Defaulted, "false", "Open the Flocker control API (4523) to operatorCidr as well (volumeDriver flocker only)."},
	{KeyAMIID, "string", Optional, "", "AMI id to use instead of the lookup by amiOwner and amiNameFilter; setting or changing it replaces every master and " + everyAgentOneAtATime + " not already on it (the way to move to a new image). An image made by scripts/prepare-ami already holds the packages and container images, and its nodes skip those downloads."},
	{KeyAMIOwner, "string", Defaulted, facts.AMIOwnerCanonical, "Owner account of the AMI lookup (Canonical). Running nodes keep their image when the lookup's answer changes; only nodes launched later use it."},
	{KeyAMINameFilter, "string", Defaulted, facts.AMINameFilter, "Name filter of the AMI lookup (Ubuntu 20.04: cgroup v1, which Mesos needs). Running nodes keep their image when the lookup's answer changes; only nodes launched later use it."},
	{KeyRootVolumeSize, "integer", Defaulted, strconv.Itoa(DefaultRootVolumeGiB), "Size in GiB of each node's encrypted root volume; at least the AMI's snapshot (8 for Canonical's, 16 for an image made by scripts/prepare-ami). Raising it grows the masters' and Flocker agents' volumes in place and with REX-Ray it replaces every agent, one at a time (a new launch template version: the group's instance refresh). A volume cannot shrink: the preview refuses a size below the current size of any master's or Flocker agent's root volume, as EC2 reports it; smaller volumes need a new stack."},
	{KeyVolumeDriver, "string", Defaulted, DefaultVolumeDriver, "Docker volume driver for the app's EBS volume: flocker (as in the 2015 demo) or rexray (REX-Ray's rexray/ebs plugin, which still installs today). Switching it on a running stack deletes the app's data and replaces every master and every agent: the preview refuses it unless confirmVolumeDriverSwitch confirms it."},
	{KeyAppPort, "integer", Defaulted, strconv.Itoa(facts.DefaultAppPort), "Host port of the app on the agents, behind the ELB; within the agents' port range " + strconv.Itoa(facts.AgentPortRangeStart) + "-" + strconv.Itoa(facts.AgentPortRangeEnd) + ". Changing it " + replacesEveryAgent + "."},
	{KeyAppManifest, "string", Optional, "", "Path to a Marathon app definition replacing apps/moby-counter.json; the program still sets its id, host port, volume and zone constraint."},
	{KeyAgentPingTimeout, "integer", Defaulted, strconv.Itoa(int(facts.AgentPingTimeout.Seconds())), "Mesos master --agent_ping_timeout in seconds (Mesos default 15). Changing it replaces every master."},
	{KeyMaxAgentPingTimeouts, "integer", Defaulted, strconv.Itoa(facts.MaxAgentPingTimeouts), "Mesos master --max_agent_ping_timeouts (Mesos default 5). Changing it replaces every master."},
	{KeySelfFence, "integer", Defaulted, strconv.Itoa(int(facts.DefaultSelfFenceAfter.Seconds())), "Seconds an agent may go without reaching a majority of the masters before it fences itself (kills the app, unmounts its volume, blocks its port, stops its Mesos agent; docs/fencing.md). With " + strconv.Itoa(int(facts.SelfFenceLead.Seconds())) + " s of lead it must end before the masters can declare the agent lost: selfFenceSeconds + " + strconv.Itoa(int(facts.SelfFenceLead.Seconds())) + " <= agentPingTimeoutSeconds x maxAgentPingTimeouts. Changing it " + replacesEveryAgent + "."},
	{KeyZooKeeperImage, "string", Defaulted, facts.ZooKeeperImage, "ZooKeeper image, 3.4.x tagged with its version: 3.5 changes ZOO_SERVERS and starts an AdminServer on Marathon's port 8080. Changing it replaces every master."},
	{KeyMesosMasterImage, "string", Defaulted, facts.MesosMasterImage, "Mesos master image. Changing it replaces every master."},
	{KeyMesosAgentImage, "string", Defaulted, facts.MesosAgentImage, "Mesos agent image. Changing it " + replacesEveryAgent + "."},
	{KeyMesosExecutorImage, "string", Defaulted, facts.MesosExecutorImage, "Image the agents run each executor in (--docker_mesos_image), so the app survives a restart of the agent: no ENTRYPOINT, with Mesos and a docker CLI of API 1.44 or older. Changing it " + replacesEveryAgent + "."},
	{KeyMarathonImage, "string", Defaulted, facts.MarathonImage, "Marathon image (the app manifest is written for the 1.4 line). Changing it replaces every master."},
	{KeyFlockerControlImage, "string", Defaulted, facts.FlockerControlServiceImage, "Flocker control service image. Changing it replaces the master running the Flocker control service."},
	{KeyFlockerAgentImage, "string", Defaulted, facts.FlockerDatasetAgentImage, "Flocker dataset agent image. Changing it " + replacesEveryAgent + "."},
	{KeyFlockerPluginImage, "string", Defaulted, facts.FlockerDockerPluginImage, "Flocker Docker plugin image. Changing it " + replacesEveryAgent + "."},
	{KeyRexRayPlugin, "string", Defaulted, facts.RexRayEBSPlugin, "REX-Ray EBS Docker plugin. Changing it " + replacesEveryAgent + "."},
	{KeyAppImage, "string", Defaulted, facts.AppImage, "Moby Counter image. Changing it " + replacesEveryAgent + " (they pull it at boot) and redeploys the app."},
	{KeyConfirmVolumeDriverSwitch, "string", Optional, "", "Confirms a switch of volumeDriver on a running stack, which deletes the app's data: set it to the new driver in the same `pulumi up` that changes volumeDriver (a confirmation counts on the run where its value changes). Without it the preview refuses the switch."},
	{KeyAWSCLIImage, "string", Defaulted, facts.AWSCLIImage, "AWS CLI image the masters' fencer terminates lost agents with: 2.27.58 or newer (TerminateInstances --skip-os-shutdown). Changing it replaces every master."},
}

// DefaultOf returns the declared default of a key; it panics on a name
// that is not a key, a programming error.
func DefaultOf(name string) string {
	for _, k := range Keys {
		if k.Name == name {
			return k.Default
		}
	}
	panic("config: no key " + name)
}

// masterCounts lists facts.MasterCounts in words: "1, 3 or 5".
func masterCounts() string {
	var words []string
	for _, n := range facts.MasterCounts {
		words = append(words, strconv.Itoa(n))
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
