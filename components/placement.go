package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// zoneChoice is what this run's look-up found: the zone it would pick and
// every zone that could host the cluster.
type zoneChoice struct {
	Zone     string   // the configured zone, or the first eligible one
	Eligible []string // Availability Zones, available, offering every instance type; sorted
}

// lookupZone finds the zones that can host the cluster and picks one: the
// configured zone, or the first by name. Only Availability Zones qualify:
// opt-in-status "opt-in-not-required" is what every Availability Zone has,
// while an opted-in Local or Wavelength Zone says "opted-in" (EC2 API
// reference, DescribeAvailabilityZones, AvailabilityZone.OptInStatus; the
// provider's aws_availability_zones docs use this filter for "Only
// Availability Zones (no Local Zones)"). Local Zones sort first
// (us-east-1-atl-1a < us-east-1a) and offer neither classic ELBs nor m4.
// A zone must also offer both instance types: previous generations are
// missing from some zones (DescribeInstanceTypeOfferings).
func lookupZone(ctx *pulumi.Context, cfg config.Config, parent pulumi.Resource) (zoneChoice, error) {
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State:   pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	}, pulumi.Parent(parent))
	if err != nil {
		return zoneChoice{}, fmt.Errorf("listing the availability zones of %s (are AWS credentials configured?): %w", cfg.Region, err)
	}
	if len(zones.Names) == 0 {
		return zoneChoice{}, fmt.Errorf("region %s (aws:region) has no available zone", cfg.Region)
	}
	if cfg.AvailabilityZone != "" && !slices.Contains(zones.Names, cfg.AvailabilityZone) {
		return zoneChoice{}, &config.Error{Key: config.KeyAvailabilityZone, Value: cfg.AvailabilityZone,
			Problem: fmt.Sprintf("is not an available zone of %s; available: %s", cfg.Region, strings.Join(zones.Names, ", "))}
	}

	types := map[string]string{config.KeyMasterInstanceType: cfg.MasterInstanceType, config.KeyAgentInstanceType: cfg.AgentInstanceType}
	offers, err := ec2.GetInstanceTypeOfferings(ctx, &ec2.GetInstanceTypeOfferingsArgs{
		LocationType: pulumi.StringRef("availability-zone"),
		Filters: []ec2.GetInstanceTypeOfferingsFilter{
			{Name: "instance-type", Values: uniqueSorted(cfg.MasterInstanceType, cfg.AgentInstanceType)},
			{Name: "location", Values: zones.Names},
		},
	}, pulumi.Parent(parent))
	if err != nil {
		return zoneChoice{}, fmt.Errorf("listing where %s offers %s: %w", cfg.Region, strings.Join(uniqueSorted(cfg.MasterInstanceType, cfg.AgentInstanceType), " and "), err)
	}
	offered := map[string][]string{} // zone -> types offered
	for i, zone := range offers.Locations {
		offered[zone] = append(offered[zone], offers.InstanceTypes[i])
	}
	// lacks names each type the zone does not offer, with the keys that ask for it.
	lacks := func(zone string) []string {
		var out []string
		for _, typ := range uniqueSorted(cfg.MasterInstanceType, cfg.AgentInstanceType) {
			if slices.Contains(offered[zone], typ) {
				continue
			}
			var keys []string
			for _, key := range []string{config.KeyMasterInstanceType, config.KeyAgentInstanceType} {
				if types[key] == typ {
					keys = append(keys, facts.Project+":"+key)
				}
			}
			out = append(out, fmt.Sprintf("%s (%s)", typ, strings.Join(keys, ", ")))
		}
		return out
	}
	var eligible []string
	for _, zone := range zones.Names {
		if len(lacks(zone)) == 0 {
			eligible = append(eligible, zone)
		}
	}
	usable := strings.Join(eligible, ", ")
	if usable == "" {
		usable = "none"
	}
	if z := cfg.AvailabilityZone; z != "" {
		if missing := lacks(z); len(missing) > 0 {
			return zoneChoice{}, &config.Error{Key: config.KeyAvailabilityZone, Value: z,
				Problem: fmt.Sprintf("does not offer instance type %s; zones of %s offering every configured type: %s",
					strings.Join(missing, " or "), cfg.Region, usable)}
		}
		return zoneChoice{Zone: z, Eligible: eligible}, nil
	}
	if len(eligible) == 0 {
		return zoneChoice{}, fmt.Errorf("no available zone of %s offers both %s:%s %s and %s:%s %s (zones checked: %s); pick types the region offers (aws ec2 describe-instance-type-offerings --location-type availability-zone)",
			cfg.Region, facts.Project, config.KeyMasterInstanceType, cfg.MasterInstanceType, facts.Project, config.KeyAgentInstanceType, cfg.AgentInstanceType, strings.Join(zones.Names, ", "))
	}
	return zoneChoice{Zone: eligible[0], Eligible: eligible}, nil
}

func uniqueSorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// recordZone keeps the cluster's zone in the stack's state and returns it.
//
// The look-up runs on every `pulumi up`, and its answer can change: the
// chosen zone leaves "available" for a while, or the account gains a zone
// that sorts first. Feeding the look-up straight to the subnet would then
// replace the subnet, so every node and the ELB, and leave the app's EBS
// volume in the old zone, where no new agent can attach it.
//
// So the choice goes through the engine's Stash resource: its output is the
// input it was created with; later inputs only update its "input" property
// (pulumi/pulumi pkg/resource/deploy/builtins.go). Everything downstream
// (the subnet, user data, REX-Ray/Flocker config, the Marathon zone
// constraint, the availabilityZone output) reads that output.
//
// The record never moves: a stack stays in the zone of its first `up`.
// Moving it in place cannot work. The subnet's availability zone forces a
// new subnet (terraform-provider-aws vpc_subnet.go, ForceNew), which the
// engine creates before deleting the old one, with the same CIDR in the
// same VPC, and EC2 refuses the overlap (InvalidSubnet.Conflict) after the
// zone-scoped IAM policies have already moved; and the app's EBS volume
// stays behind, where no agent of the new zone can attach it (REX-Ray and
// Flocker look for volumes in their own zone only). So the record has no
// replacementTrigger (an earlier one recorded in the state is ignored: null
// on either side means no trigger, pulumi/pulumi step_generator.go
// shouldTriggerReplace), and a configured zone that differs from it stops
// the program at preview, before any resource changes, naming the way to
// move: a new stack in the new zone.
//
// Trade-offs, against the alternatives:
//   - ignoreChanges on the subnet's availabilityZone would also keep the
//     zone, but would silently ignore a configured zone, where this record
//     refuses it at preview with the way out.
//   - writing the zone into config on the first run would need the CLI,
//     not the program.
//   - the stash needs a Pulumi CLI of v3.208 or newer (Pulumi.yaml's
//     requiredPulumiVersion), and a stack created before it records the zone the look-up
//     gives on its first run after the upgrade: pin such stacks by setting
//     availabilityZone to their availabilityZone output first.
//
// A recorded zone that is no longer eligible is kept, with a warning: moving
// would strand the volume, and the user decides.
func recordZone(ctx *pulumi.Context, name string, cfg config.Config, choice zoneChoice, parent pulumi.Resource) (pulumi.StringOutput, error) {
	stash, err := pulumi.NewStash(ctx, name+"-zone", &pulumi.StashArgs{Input: pulumi.String(choice.Zone)}, pulumi.Parent(parent))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return stash.Output.ApplyT(func(v any) (string, error) {
		zone, ok := v.(string)
		switch {
		case !ok || zone == "":
			return "", fmt.Errorf("the zone recorded in the stack's state is %v, not a zone name; replace the stash %s-zone (`pulumi up --replace <its URN>`)", v, name)
		case cfg.AvailabilityZone != "" && zone != cfg.AvailabilityZone:
			return "", &config.Error{Key: config.KeyAvailabilityZone, Value: cfg.AvailabilityZone, Problem: zoneMoveRefusal(zone)}
		case !slices.Contains(choice.Eligible, zone):
			_ = ctx.Log.Warn(fmt.Sprintf("the cluster stays in %s, chosen on its first run, although %s no longer lists it as an available zone offering %s; a stack cannot move its zone (see %s:%s)",
				zone, cfg.Region, strings.Join(uniqueSorted(cfg.MasterInstanceType, cfg.AgentInstanceType), " and "), facts.Project, config.KeyAvailabilityZone),
				&pulumi.LogArgs{Resource: parent})
		}
		return zone, nil
	}).(pulumi.StringOutput), nil
}

// zoneMoveRefusal says why a stack cannot move from zone, and how to run
// the cluster elsewhere.
func zoneMoveRefusal(zone string) string {
	return fmt.Sprintf("the cluster of this stack is in %[1]s since its first `pulumi up`, and a stack cannot move its zone: "+
		"the new subnet would conflict with the old one (InvalidSubnet.Conflict) and the app's EBS volume stays in %[1]s, "+
		"where no agent of another zone can attach it. Set %[2]s:%[3]s back to %[1]s (or unset it) to keep this stack; "+
		"to run in another zone, create a new stack with %[3]s set there (`pulumi stack init`, copy the config), "+
		"copy the app's data over (snapshot its volume, `aws ec2 create-volume --snapshot-id ... --availability-zone <new zone>` with the new stack's volume tags), "+
		"then `pulumi destroy` this one", zone, facts.Project, config.KeyAvailabilityZone)
}

// bootZone is the zone user data is rendered with: the recorded zone, or the
// plain look-up when no record is passed.
func bootZone(recorded pulumi.StringInput, lookedUp string) pulumi.StringInput {
	if recorded == nil {
		return pulumi.String(lookedUp)
	}
	return recorded
}

// amiChoice is the nodes' image and where it came from.
type amiChoice struct {
	ID string
	// FromLookup is true when amiId is unset: the nodes then ignore later
	// changes of the look-up's answer (NodeArgs.KeepAMI).
	FromLookup bool
	// RootDeviceName is the image's root device ("/dev/sda1" on Canonical's
	// Ubuntu images), which a launch template's block device mapping must
	// name to size and encrypt the root volume (NodeArgs.RootDeviceName).
	RootDeviceName string
}

// pickAMI returns the configured AMI, or the newest one matching the owner
// and name filter, deprecated images included. Canonical deprecates all
// but the latest serial of an LTS past its end of standard support (Ubuntu
// on AWS docs, "AWS image retention policies"), and AWS caps a public
// AMI's deprecation time at two years after its creation (API reference,
// EnableImageDeprecation), so by then every focal image is deprecated;
// DescribeImages leaves deprecated images out unless IncludeDeprecated is
// set (API reference, DescribeImages), and the lookup would fail every
// preview, existing stacks included.
//
// A configured AMI is looked up by its id alone, no owner or name filter:
// the root device name "differs by AMI: /dev/sda1 or /dev/xvda" and is
// read from DescribeImages (EC2 User Guide, "Device names for volumes on
// Amazon EC2 instances"), which lists every image one may launch ("public
// images, private images that you own, and private images owned by other
// AWS accounts for which you have explicit launch permissions": aws-sdk-go-v2
// service/ec2 v1.344.2 api_op_DescribeImages.go). Data sources answer in
// preview too, so the name is known before anything is created.
func pickAMI(ctx *pulumi.Context, cfg config.Config, parent pulumi.Resource) (amiChoice, error) {
	args := &ec2.LookupAmiArgs{
		IncludeDeprecated: pulumi.BoolRef(true),
		Filters: []ec2.GetAmiFilter{
			{Name: "architecture", Values: []string{"x86_64"}},
			{Name: "virtualization-type", Values: []string{"hvm"}},
			{Name: "root-device-type", Values: []string{"ebs"}},
		},
	}
	if cfg.AMIID != "" {
		args.Filters = append(args.Filters, ec2.GetAmiFilter{Name: "image-id", Values: []string{cfg.AMIID}})
	} else {
		args.Owners, args.MostRecent = []string{cfg.AMIOwner}, pulumi.BoolRef(true)
		args.Filters = append(args.Filters, ec2.GetAmiFilter{Name: "name", Values: []string{cfg.AMINameFilter}})
	}
	ami, err := ec2.LookupAmi(ctx, args, pulumi.Parent(parent))
	switch {
	case err != nil && cfg.AMIID != "":
		return amiChoice{}, fmt.Errorf("%s:%s %s: no x86_64 HVM EBS-backed image with that id that this account may launch in %s (deregistered, not shared with it, or another region's?): %w",
			facts.Project, config.KeyAMIID, cfg.AMIID, cfg.Region, err)
	case err != nil:
		return amiChoice{}, fmt.Errorf("no AMI owned by %s matches %q in %s (config %s:%s and %s:%s; or set %s:%s): %w",
			cfg.AMIOwner, cfg.AMINameFilter, cfg.Region, facts.Project, config.KeyAMIOwner, facts.Project, config.KeyAMINameFilter, facts.Project, config.KeyAMIID, err)
	case ami.RootDeviceName == "":
		return amiChoice{}, fmt.Errorf("AMI %s names no root device: the agents' launch template cannot size or encrypt its root volume", ami.Id)
	}
	return amiChoice{ID: ami.Id, FromLookup: cfg.AMIID == "", RootDeviceName: ami.RootDeviceName}, nil
}
