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
// them through their instance profile only. Each action cites the call at the
// driver's pinned version; components/drivercalls_test.go lists every call
// and fails when the agents' policy misses one or grants more.
var VolumeDriverActions = map[string][]string{
	// Flocker 1.15.0's EBS backend (ClusterHQ/flocker
	// flocker/node/agents/ebs.py@1.15.0), through boto3 1.3.1's EC2 resource
	// model (boto/boto3 boto3/data/ec2/2015-10-01/resources-1.json@1.3.1).
	// Flocker never calls DescribeRegions: validate_region lists the zones
	// and takes an unreachable endpoint for a bad region (ebs.py:518-528),
	// and nothing else in the 1.15.0 tree lists regions.
	// start_node (ebs.py:1404, StartInstances) has no caller.
	facts.VolumeDriverFlocker: {
		"ec2:AttachVolume",              // ebs.py:1127 Volume.attach_to_instance
		"ec2:CreateTags",                // ebs.py:1192 Volume.create_tags (flocker-cluster-id, ...)
		"ec2:CreateVolume",              // ebs.py:1049, :1056 client.create_volume
		"ec2:DeleteVolume",              // ebs.py:1351 Volume.delete (destroy_volume; AgentPolicy limits it to this cluster's volumes)
		"ec2:DescribeAvailabilityZones", // ebs.py:520 ec2_client validate_region, at agent start
		"ec2:DescribeInstances",         // ebs.py:1398 list_live_nodes, instances.filter
		"ec2:DescribeVolumes",           // ebs.py:1078 volumes pages; :1062, :1095, :1349 Volume.load; :619 Volume.reload
		"ec2:DetachVolume",              // ebs.py:1112 Volume.detach_from_instance
	},
	// REX-Ray 0.11.4's EBS storage driver, from libStorage in REX-Ray's own
	// tree (rexray/rexray
	// libstorage/drivers/storage/ebs/storage/ebs_storage.go@v0.11.4); its
	// executor reads only instance metadata. Every snapshot call
	// (CreateSnapshot :521, CopySnapshot :801, DeleteSnapshot :861,
	// DescribeSnapshots :1039) sits in a comment after "return
	// ErrNotImplemented", and Docker's volume API never reaches the snapshot
	// methods anyway (libstorage/drivers/integration/linux/linux.go@v0.11.4),
	// so REX-Ray's documented policy's snapshot, attribute, status,
	// DescribeTags and DescribeAvailabilityZones actions are not granted.
	facts.VolumeDriverRexRay: {
		"ec2:AttachVolume",      // ebs_storage.go:1101 attachVolume (docker mount)
		"ec2:CreateTags",        // ebs_storage.go:1219 createTags, Name=<volume name>
		"ec2:CreateVolume",      // ebs_storage.go:1152 createVolume (docker volume create)
		"ec2:DeleteVolume",      // ebs_storage.go:568 VolumeRemove (docker volume rm; AgentPolicy limits it to this cluster's volume)
		"ec2:DescribeInstances", // ebs_storage.go:1338 getInstance, the new volume's zone
		"ec2:DescribeVolumes",   // ebs_storage.go:918 getVolume (inspect, attach, detach, waits)
		"ec2:DetachVolume",      // ebs_storage.go:691 VolumeDetach (docker unmount, and preempt's forced detach)
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
