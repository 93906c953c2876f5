package components

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The agents' Auto Scaling group (REX-Ray): a lost agent, terminated by a
// kill or by the masters' fencer, is replaced by the group, without
// `pulumi up`. docs/agents.md tells the design.
const (
	// GroupHealthCheckType is EC2, not ELB. Every agent is registered with
	// the classic ELB, but only the one running the app passes its HTTP
	// check (HealthCheckTarget): with ELB health checks the group would
	// mark every spare agent unhealthy and replace it, again and again
	// ("If you enable the ELB health checks, Amazon EC2 Auto Scaling can
	// replace instances that are reported as unhealthy by the load
	// balancer", Amazon EC2 Auto Scaling User Guide, "Health checks for
	// instances in an Auto Scaling group"). With EC2 checks an instance is
	// unhealthy when it is in any state but running (terminated, stopped,
	// stopping: a fenced agent) or fails its status checks (same page).
	GroupHealthCheckType = "EC2"
	// GroupHealthCheckGracePeriod delays the first health check of a new
	// agent until its first boot had time to finish: an agent's boot steps
	// add up to about 150 s in the REX-Ray boot budget (internal/bootbudget;
	// TestGraceCoversTheAgentBoot), and the provider's default, 300 s
	// (terraform-provider-aws
	// internal/service/autoscaling/group.go, health_check_grace_period
	// Default: 300), covers it with room for a slow image pull. EC2 status
	// checks pass within minutes of launch, so a longer grace only delays
	// replacing an agent that never came up.
	GroupHealthCheckGracePeriod = 300 * time.Second
	// GroupCapacityTimeout is how long `pulumi up` waits for the group's
	// instances to be InService (the provider's wait_for_capacity_timeout,
	// default "10m", same file). wait_for_elb_capacity and min_elb_capacity
	// stay unset: app-less agents are never InService with the ELB, so a
	// wait for ELB capacity would never end.
	GroupCapacityTimeout = 10 * time.Minute
)

// RefreshMinHealthyPercentage is the instance refresh's
// MinHealthyPercentage for a group of n agents: the largest whole percent
// that keeps n-1 agents in service, so the refresh replaces exactly one
// agent at a time. The group keeps at least that share of its desired
// capacity "rounded up to the nearest integer" (Auto Scaling API
// reference, RefreshPreferences MinHealthyPercentage): ceil(n x
// floor(100(n-1)/n) / 100) = n-1 for every n up to 100. With
// MaxHealthyPercentage 100 (the provider's default) no agent is launched
// beside the group: one is terminated, its replacement launched, and the
// next one waits for it to be InService and warmed up
// (GroupHealthCheckGracePeriod).
func RefreshMinHealthyPercentage(n int) int {
	if n <= 1 {
		return 0
	}
	return 100 * (n - 1) / n
}

// RefreshMaxHealthyPercentage is the instance refresh's
// MaxHealthyPercentage: 100, never above the desired capacity, so the
// group never runs more agents than agentCount (the Marathon app's
// constraint and the ELB expect the count the user set).
const RefreshMaxHealthyPercentage = 100

// agentGroupArgs are what the agents' launch template and group are made of.
type agentGroupArgs struct {
	Node     NodeArgs
	Count    int
	UserData pulumi.StringInput // base64 (userdata.EncodeForEC2)
	Profile  pulumi.StringInput // the instance profile's name
	// LoadBalancer is the classic ELB's name, taken from the ELB so the
	// group waits for it: the group registers its instances itself.
	LoadBalancer pulumi.StringInput
	NamePrefix   pulumi.StringInput
	Tags         Tags
}

// groupTags are the group's tags, every one propagated at launch: an
// instance the group launches carries the stack's tags from its first
// moment, which the tools (ec2ops.Scope), the fencer's IAM condition
// (MasterPolicy: aws:ResourceTag cluster id and role) and the volume
// clean-up (ec2ops.LiveAgents) all find agents by. Sorted by key, so the
// set's order never shows as a diff.
func groupTags(tags pulumi.StringMap) autoscaling.GroupTagArray {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out autoscaling.GroupTagArray
	for _, k := range keys {
		out = append(out, autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: tags[k], PropagateAtLaunch: pulumi.Bool(true)})
	}
	return out
}

// newAgentGroup creates the agents' launch template and Auto Scaling group.
func newAgentGroup(ctx *pulumi.Context, name string, a agentGroupArgs, opts ...pulumi.ResourceOption) (*ec2.LaunchTemplate, *autoscaling.Group, error) {
	tags := a.Tags.For(facts.RoleAgent, a.Tags.Stack+"-agent")
	md := metadataOptions(false)
	ltOpts := opts
	if a.Node.KeepAMI {
		// As nodeOptions does for an instance: a newer AMI from the look-up
		// does not make a new template version, and so no refresh.
		ltOpts = append(append([]pulumi.ResourceOption{}, opts...), pulumi.IgnoreChanges([]string{"imageId"}))
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-template", &ec2.LaunchTemplateArgs{
		NamePrefix:          a.NamePrefix,
		ImageId:             a.Node.AMI,
		InstanceType:        pulumi.String(a.Node.InstanceType),
		KeyName:             a.Node.KeyName,
		VpcSecurityGroupIds: pulumi.StringArray{a.Node.SecurityGroupID},
		IamInstanceProfile:  &ec2.LaunchTemplateIamInstanceProfileArgs{Name: a.Profile},
		UserData:            a.UserData, // a launch template takes user data base64-encoded
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: md.HttpEndpoint, HttpTokens: md.HttpTokens, HttpPutResponseHopLimit: md.HttpPutResponseHopLimit,
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			// The AMI's root device (pickAMI): a mapping that names it
			// overrides the root volume, any other name adds a volume beside
			// it (EC2 User Guide, "Block device mappings"). An ec2.Instance
			// sets root_block_device without naming it. With KeepAMI the name
			// is the newest image's while imageId keeps the first: images
			// of one owner and name filter share it (Canonical's: /dev/sda1).
			DeviceName: pulumi.String(a.Node.RootDeviceName),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				// The provider's nullable booleans are strings.
				Encrypted: pulumi.String("true"), DeleteOnTermination: pulumi.String("true"),
				VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(a.Node.RootVolumeGiB),
			},
		}},
		// Only the root volume is created at launch, so the "volume" tags
		// reach it alone: the volume driver's own volume, attached later,
		// keeps the tags REX-Ray sets (as root_block_device.tags, instance.go).
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: tags},
		},
		Tags: tags,
	}, ltOpts...)
	if err != nil {
		return nil, nil, err
	}
	group, err := autoscaling.NewGroup(ctx, name+"-group", &autoscaling.GroupArgs{
		NamePrefix:      a.NamePrefix,
		MinSize:         pulumi.Int(a.Count),
		MaxSize:         pulumi.Int(a.Count),
		DesiredCapacity: pulumi.Int(a.Count),
		// The cluster's one subnet, so its one zone: the app's EBS volume
		// lives there and can attach to no agent elsewhere.
		VpcZoneIdentifiers: pulumi.StringArray{a.Node.SubnetID},
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id: lt.ID(),
			// The version number, not $Latest: a new template version is
			// then a change of the group, which starts the refresh below.
			Version: lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		LoadBalancers:          pulumi.StringArray{a.LoadBalancer},
		HealthCheckType:        pulumi.String(GroupHealthCheckType),
		HealthCheckGracePeriod: pulumi.Int(int(GroupHealthCheckGracePeriod.Seconds())),
		WaitForCapacityTimeout: pulumi.String(GroupCapacityTimeout.String()),
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(RefreshMinHealthyPercentage(a.Count)),
				MaxHealthyPercentage: pulumi.Int(RefreshMaxHealthyPercentage),
			},
		},
		Tags: groupTags(tags),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("agents' Auto Scaling group: %w", err)
	}
	return lt, group, nil
}
