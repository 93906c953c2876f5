package components

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NodeArgs are what the master and the agents share about their instances.
type NodeArgs struct {
	AMI pulumi.StringInput
	// KeepAMI ignores later changes of AMI (nodeOptions): true when the AMI
	// comes from the look-up, false when amiId names it.
	KeepAMI bool
	// RootDeviceName is the AMI's root device, from DescribeImages (pickAMI).
	RootDeviceName  string
	InstanceType    string
	SubnetID        pulumi.StringInput
	SecurityGroupID pulumi.StringInput
	KeyName         pulumi.StringInput
	RootVolumeGiB   int
}

// IMDS settings. The master runs nothing that predates IMDSv2, so it
// requires session tokens; hop limit 1 keeps containers in bridge networks
// from fetching a token (AWS, "Configure the instance metadata options": the
// token response's IP TTL is the hop limit, and the bridge's forwarding is a
// hop). The masters' fencer runs the AWS CLI image with --network host
// (userdata run-mha-fencer): the container shares the host's network stack,
// no bridge forwards its packets, so the token reaches it at hop limit 1 and
// it gets the master role's credentials as the host would.
// The agents' volume drivers read instance metadata with IMDSv1 only:
// Flocker through boto2's get_instance_metadata (flocker/node/agents/ebs.py)
// and REX-Ray 0.11.4 through an aws-sdk-go older than IMDSv2 support
// (v1.25.38, 2019-11); so tokens are optional there.
func metadataOptions(requireTokens bool) *ec2.InstanceMetadataOptionsArgs {
	tokens := "optional"
	if requireTokens {
		tokens = "required"
	}
	return &ec2.InstanceMetadataOptionsArgs{
		HttpEndpoint:            pulumi.String("enabled"),
		HttpTokens:              pulumi.String(tokens),
		HttpPutResponseHopLimit: pulumi.Int(1),
	}
}

// instanceArgs builds the EC2 instance arguments common to every node.
func (n NodeArgs) instanceArgs(userData pulumi.StringInput, profile pulumi.StringInput, requireTokens bool, tags pulumi.StringMap) *ec2.InstanceArgs {
	return &ec2.InstanceArgs{
		Ami:                 n.AMI,
		InstanceType:        pulumi.String(n.InstanceType),
		SubnetId:            n.SubnetID,
		VpcSecurityGroupIds: pulumi.StringArray{n.SecurityGroupID},
		KeyName:             n.KeyName,
		IamInstanceProfile:  profile,
		UserDataBase64:      userData, // gzipped cloud-config (userdata.EncodeForEC2), kept while the document is unchanged (keptUserData)
		// A node configures itself only at first boot: new user data means
		// a new node.
		UserDataReplaceOnChange: pulumi.Bool(true),
		MetadataOptions:         metadataOptions(requireTokens),
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			Encrypted:           pulumi.Bool(true),
			VolumeType:          pulumi.String("gp3"),
			VolumeSize:          pulumi.Int(n.RootVolumeGiB),
			DeleteOnTermination: pulumi.Bool(true),
			// Root volume tags, not the instance's volume_tags: those are
			// applied to every attached volume and would overwrite the
			// tags the volume driver sets on the app's EBS volume.
			Tags: tags,
		},
		Tags: tags,
	}
}

// nodeOptions are the resource options every instance gets.
//
// When the AMI comes from the look-up (amiId unset), later changes to it are
// ignored, so `pulumi up` does not replace a running cluster whenever
// Canonical publishes a serial; a node created later (a raised agentCount)
// gets the newest image. ignoreChanges puts the stored value back into the
// inputs before any diff (pulumi/pulumi#2657; pkg/resource/deploy
// step_generator.go processIgnoreChanges), so a node replaced for any other
// reason, new user data or `pulumi up --replace` alike, keeps its stored AMI:
// --replace does not move a node to a new image.
//
// To move, set marathon-ha:amiId. An explicit AMI is not ignored, and `ami`
// forces a new instance (terraform-provider-aws ec2_instance.go, ForceNew),
// so the next `pulumi up` replaces every node whose AMI differs. Setting it
// to the AMI the nodes already run changes nothing; unsetting it later
// returns to the look-up without replacing anything.
func (n NodeArgs) nodeOptions(parent pulumi.Resource, dependsOn []pulumi.Resource) []pulumi.ResourceOption {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.DependsOn(dependsOn)}
	if n.KeepAMI {
		opts = append(opts, pulumi.IgnoreChanges([]string{"ami"}))
	}
	return opts
}
