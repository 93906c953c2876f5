package components

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// VolumeDriverActions are the EC2 actions each volume driver calls, and no
// more. Nothing here grants them to a human or stores a key: the agents get
// them through their instance profile only.
var VolumeDriverActions = map[string][]string{
	// The calls of Flocker's EBS backend (ClusterHQ/flocker
	// flocker/node/agents/ebs.py: create_volume + create_tags, attach_volume,
	// detach_volume, delete_volume, volume listing, list_live_nodes over
	// instances, and validate_region's region listing).
	facts.VolumeDriverFlocker: {
		"ec2:AttachVolume", "ec2:CreateTags", "ec2:CreateVolume", "ec2:DeleteVolume",
		"ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeVolumes", "ec2:DetachVolume",
	},
	// REX-Ray's documented EBS policy (rexray/rexray
	// .docs/user-guide/storage-providers/aws.md; the same list as
	// dcos-terraform/terraform-aws-iam's "RexRay" statement).
	facts.VolumeDriverRexRay: {
		"ec2:AttachVolume", "ec2:CopySnapshot", "ec2:CreateSnapshot", "ec2:CreateTags",
		"ec2:CreateVolume", "ec2:DeleteSnapshot", "ec2:DeleteVolume", "ec2:DescribeAvailabilityZones",
		"ec2:DescribeInstances", "ec2:DescribeSnapshotAttribute", "ec2:DescribeSnapshots", "ec2:DescribeTags",
		"ec2:DescribeVolumeAttribute", "ec2:DescribeVolumeStatus", "ec2:DescribeVolumes", "ec2:DetachVolume",
		"ec2:ModifySnapshotAttribute", "ec2:ModifyVolumeAttribute",
	},
}

// PolicyDocument is an IAM policy, marshalled to JSON.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a PolicyDocument.
type Statement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// PolicyScope holds what a policy is scoped to.
type PolicyScope struct {
	Partition, Region, Account string
	SSMPrefix                  string // the role's secrets, e.g. /marathon-ha/mha-1a2b3c4d/agents
	// DeleteTagKey and DeleteTagValue limit ec2:DeleteVolume to the volumes
	// of this cluster (Flocker tags flocker-cluster-id=<uuid>; REX-Ray names
	// the volume after the Docker volume).
	DeleteTagKey, DeleteTagValue string
}

// secretsStatements let a node read its own SecureStrings and nothing else.
func secretsStatements(s PolicyScope) []Statement {
	return []Statement{
		{
			Sid: "ReadOwnSecrets", Effect: "Allow",
			Action:   []string{"ssm:GetParameter", "ssm:GetParameters"},
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s/*", s.Partition, s.Region, s.Account, s.SSMPrefix)},
		},
		{
			// SecureStrings use the account's aws/ssm key; decrypting through
			// SSM only (AWS KMS developer guide, kms:ViaService).
			Sid: "DecryptThroughSSM", Effect: "Allow",
			Action:    []string{"kms:Decrypt"},
			Resource:  []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", s.Partition, s.Region, s.Account)},
			Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": "ssm." + s.Region + ".amazonaws.com"}},
		},
	}
}

// AgentPolicy is the agents' policy: the volume driver's EC2 actions in the
// cluster's region, deletion only of this cluster's volumes, and the
// agents' secrets.
func AgentPolicy(driver string, s PolicyScope) PolicyDocument {
	actions := slices.DeleteFunc(slices.Clone(VolumeDriverActions[driver]), func(a string) bool { return a == "ec2:DeleteVolume" })
	region := map[string]map[string]string{"StringEquals": {"aws:RequestedRegion": s.Region}}
	stmts := []Statement{
		{Sid: "VolumeDriver", Effect: "Allow", Action: actions, Resource: []string{"*"}, Condition: region},
		{
			Sid: "DeleteOwnVolumes", Effect: "Allow", Action: []string{"ec2:DeleteVolume"},
			Resource:  []string{fmt.Sprintf("arn:%s:ec2:%s:%s:volume/*", s.Partition, s.Region, s.Account)},
			Condition: map[string]map[string]string{"StringEquals": {"ec2:ResourceTag/" + s.DeleteTagKey: s.DeleteTagValue}},
		},
	}
	if driver == facts.VolumeDriverFlocker {
		stmts = append(stmts, secretsStatements(s)...)
	}
	return PolicyDocument{Version: "2012-10-17", Statement: stmts}
}

// MasterPolicy lets the master read its Flocker secrets; nothing else.
func MasterPolicy(s PolicyScope) PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: secretsStatements(s)}
}

var ec2AssumeRole = PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
	Sid: "EC2AssumesRole", Effect: "Allow", Principal: map[string]string{"Service": "ec2.amazonaws.com"},
	Action: []string{"sts:AssumeRole"},
}}}

func (p PolicyDocument) json() (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// instanceRole is an IAM role with one inline policy, and its profile.
type instanceRole struct {
	Profile *iam.InstanceProfile
	Policy  *iam.RolePolicy // instances wait for it: they read secrets at boot
}

// newInstanceRole creates a role with one inline policy and its instance profile.
func newInstanceRole(ctx *pulumi.Context, name string, policy pulumi.StringOutput, namePrefix, profilePrefix pulumi.StringInput, tags pulumi.StringMap, parent pulumi.ResourceOption) (*instanceRole, error) {
	assume, err := ec2AssumeRole.json()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		NamePrefix:       namePrefix,
		AssumeRolePolicy: pulumi.String(assume),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	rp, err := iam.NewRolePolicy(ctx, name+"-policy", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{
		NamePrefix: profilePrefix,
		Role:       role.Name,
		Tags:       tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	return &instanceRole{Profile: profile, Policy: rp}, nil
}
